"""An admin connects another system: an API token made in the browser works until it is
revoked, and a webhook endpoint registered in the browser receives signed events that the
delivery log shows and replays. Collectors and managers cannot open these screens."""

import datetime as dt
import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.roles import ADMIN, COLLECTOR, MANAGER
from api.models import ApiToken
from invoices.dates import format_moment
from invoices.services import payment_record
from invoices.tests.factories import InvoiceFactory
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user
from webhooks.tasks import webhooks_task
from webhooks.tests import receiver as receiver_module

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _assert_accessible(page, where):
    found = axe_violations(page)
    assert not found, violations_report(where, found)


def _get_customers(base_url, raw_token):
    """GET /api/v1/customers/ as another system would: (status, JSON body)."""
    request = urllib.request.Request(
        base_url + "/api/v1/customers/", headers={"Authorization": f"Bearer {raw_token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.django_db(transaction=True)
def test_an_admin_creates_an_api_token_that_works_until_it_is_revoked(
    live_server, browser_page, artifacts, django_user_model
):
    user(django_user_model, "ada", ADMIN)
    page = browser_page
    log_in(page, live_server.url, "ada", "pw-ada-123")

    page.goto(live_server.url + reverse("api_tokens:list"))
    _assert_accessible(page, "the empty API token list")
    page.get_by_role("link", name="Create a token").click()
    page.get_by_label("Name").fill("Xero nightly sync")
    page.get_by_label("Write ledger (customers, invoices)").check()
    expires_on = timezone.localdate() + dt.timedelta(days=30)
    page.get_by_label("Expires at").fill(f"{expires_on.isoformat()}T09:00")
    _assert_accessible(page, "the new API token form")
    page.screenshot(path=artifacts / "api-token-new-1280.png", full_page=True)
    page.get_by_role("button", name="Create token").click()

    page.get_by_role("heading", name="Copy the token “Xero nightly sync” now").wait_for()
    raw = page.get_by_label("Token", exact=True).input_value()
    _assert_accessible(page, "the created API token")
    page.screenshot(path=artifacts / "api-token-created-1280.png", full_page=True)
    token = ApiToken.objects.get()
    assert raw.startswith(token.prefix)

    # Reloading, or going back, never shows it again and makes no second token.
    page.reload()
    page.get_by_text("was shown once, when it was made").wait_for()
    assert raw not in page.content()
    page.go_back()
    page.get_by_role("heading", name="Create an API token").wait_for()
    assert raw not in page.content()
    assert ApiToken.objects.count() == 1

    page.goto(live_server.url + reverse("api_tokens:list"))
    row = page.get_by_role("row", name="Xero nightly sync")
    assert row.get_by_role("cell").nth(1).inner_text() == f"{token.prefix}…"
    assert row.get_by_role("cell").nth(2).inner_text() == "read, write_ledger"
    assert token.expires_at == timezone.make_aware(dt.datetime.combine(expires_on, dt.time(9)))
    assert f"Active until {format_moment(token.expires_at)}" in row.inner_text()
    assert raw not in page.content()
    _assert_accessible(page, "the API token list")
    page.screenshot(path=artifacts / "api-token-list-1280.png", full_page=True)

    cache.clear()  # the API's rate limit counts per token id, which a new database reuses
    status, body = _get_customers(live_server.url, raw)
    assert status == 200
    assert body["results"] == []

    row.locator("summary", has_text="Revoke…").click()
    _assert_accessible(page, "the API token list asking to revoke")
    page.screenshot(path=artifacts / "api-token-revoke-1280.png", full_page=True)
    row.get_by_role("button", name="Revoke “Xero nightly sync” now").click()
    page.locator(".message-success", has_text="Revoked “Xero nightly sync”").wait_for()
    cells = page.get_by_role("row", name="Xero nightly sync").get_by_role("cell")
    assert cells.nth(4).inner_text() != "Never"  # the admin sees the token was in use
    assert cells.nth(5).inner_text().startswith("Revoked")

    status, body = _get_customers(live_server.url, raw)
    assert status == 401
    assert body == {
        "error": {
            "code": "authentication_failed",
            "message": "The token is unknown, expired or revoked.",
            "details": [],
        }
    }


@pytest.fixture
def receiver():
    """An HTTP receiver on the loopback that answers 200 and keeps what it got."""
    got, server = receiver_module.start()
    yield got
    server.stop_hanging.set()
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_an_admin_registers_a_webhook_that_gets_a_signed_payment_and_replays_it(
    live_server, browser_page, artifacts, django_user_model, receiver, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the receiver is on the loopback
    ada = user(django_user_model, "ada", ADMIN)
    page = browser_page
    log_in(page, live_server.url, "ada", "pw-ada-123")

    page.goto(live_server.url + reverse("webhooks:endpoint_list"))
    _assert_accessible(page, "the empty webhook list")
    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description").fill("ERP payments feed")
    page.get_by_label("Payment received").check()
    _assert_accessible(page, "the new webhook endpoint form")
    page.screenshot(path=artifacts / "webhooks-endpoint-new-1280.png", full_page=True)
    page.get_by_role("button", name="Add endpoint").click()

    page.get_by_role("heading", name=receiver.url).wait_for()
    secret = page.get_by_label("Signing secret").input_value()
    assert page.get_by_text("Events: Payment received").is_visible()
    _assert_accessible(page, "the new endpoint with its secret")
    page.screenshot(path=artifacts / "webhooks-endpoint-secret-1280.png", full_page=True)

    invoice = InvoiceFactory(
        customer__external_id="ERP-7", number="INV-700", amount=Decimal("250.00")
    )
    payment_record(
        actor=ada,
        customer=invoice.customer,
        amount=Decimal("250.00"),
        received_on=timezone.localdate(),
        allocations=[(invoice, Decimal("250.00"))],
    )
    webhooks_task()

    [first] = receiver.received
    payload = Webhook(secret).verify(first.body, first.headers)
    assert payload["type"] == "payment.received"
    assert payload["data"]["invoice_numbers"] == ["INV-700"]
    assert payload["data"]["amount"] == {"value": "250.00", "currency": "GBP"}

    page.reload()
    assert page.get_by_label("Signing secret").count() == 0  # shown once only
    log = page.get_by_role("region", name="Delivery log")
    row = log.get_by_role("row", name=first.headers["webhook-id"])
    cells = row.get_by_role("cell")
    assert cells.nth(0).inner_text().startswith("Payment received")
    assert cells.nth(1).inner_text() == "Succeeded"
    assert cells.nth(3).inner_text().startswith("HTTP 200")
    _assert_accessible(page, "the delivery log")
    page.screenshot(path=artifacts / "webhooks-delivery-log-1280.png", full_page=True)

    row.get_by_role("button", name="Replay").click()
    page.locator(".message-success", has_text="will be sent again").wait_for()
    webhooks_task()

    [_, again] = receiver.received
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert Webhook(secret).verify(again.body, again.headers) == payload
    page.reload()
    assert cells.nth(1).inner_text() == "Succeeded"
    page.set_viewport_size({"width": 768, "height": 900})
    _assert_accessible(page, "the delivery log at 768 px")
    page.screenshot(path=artifacts / "webhooks-delivery-log-768.png", full_page=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("username", "role"), [("colin", COLLECTOR), ("maria", MANAGER)])
def test_collectors_and_managers_are_shown_not_allowed_on_the_integration_screens(
    live_server, browser_page, django_user_model, username, role
):
    user(django_user_model, username, role)
    page = browser_page
    log_in(page, live_server.url, username, f"pw-{username}-123")

    for name in ("api_tokens:list", "api_tokens:new", "webhooks:endpoint_list"):
        response = page.goto(live_server.url + reverse(name))
        assert response.status == 403
        page.get_by_role("heading", name="Not allowed").wait_for()
        assert page.get_by_text("You do not have access to this page.").is_visible()
    _assert_accessible(page, f"the page refusing a {role}")
