"""A customer questions an invoice with a photo attached on a phone, and promises a date
inside and outside the policy's limits; after each, the engine, the queue and the
collector's timeline show it."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.models import DunningSettings, PromiseToPay, QueueEntry
from dunning.views import plans_for
from invoices.models import Dispute, RaisedVia
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.models import Confirmation, CustomerRequest, RequestStatus
from portal.services import portal_link_make
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _account(django_user_model):
    """Colin's customer with two overdue invoices, and the path of their contact's page."""
    colin = user(django_user_model, "colin", COLLECTOR)
    DunningSettings.objects.update_or_create(pk=1, defaults={"promise_max_days": 30})
    customer = CustomerFactory(collector=colin, name="Harbour Teas Ltd")
    contact = ContactFactory(customer=customer, name="Ada Payables", email="ada@harbour.test")
    today = dt.date.today()
    invoices = [
        InvoiceFactory(
            customer=customer,
            number=f"HT-{n}",
            issue_date=today - dt.timedelta(days=60),
            due_date=today - dt.timedelta(days=30 - n),
            amount=Decimal("150.00"),
        )
        for n in (1, 2)
    ]
    _link, url = portal_link_make(customer=customer, contact=contact, now=timezone.now())
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    return customer, invoices, path


def _fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not axe_violations(page), violations_report(axe_violations(page))


def _eligible(customer):
    (planned,) = plans_for([customer.pk], as_of=timezone.now())
    return set(planned.plan.eligible_invoice_ids)


def test_a_customer_disputes_an_invoice_with_a_photo_on_a_phone(
    live_server, browser_page, artifacts, django_user_model
):
    customer, (disputed, other), path = _account(django_user_model)
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + path)

    page.get_by_role("link", name="Question or dispute an invoice").click()
    page.get_by_role("heading", name="Question or dispute an invoice").wait_for()
    _fits_the_phone(page)
    page.get_by_label("HT-1").check()
    page.get_by_label("What is it about?").select_option(label="Quality or damage")
    page.get_by_label("Tell us what is wrong").fill("Two of the boxes arrived crushed.")
    page.get_by_label("Attach files (optional)").set_input_files(
        [{"name": "crushed.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.screenshot(path=artifacts / "dispute-form-375.png", full_page=True)
    page.get_by_role("button", name="Send my question").click()

    page.get_by_role("heading", name="Thank you: we have your question").wait_for()
    assert "HT-1" in page.get_by_test_id("dispute-review").inner_text()
    assert "HT-2" not in page.get_by_test_id("dispute-review").inner_text()
    _fits_the_phone(page)
    page.screenshot(path=artifacts / "dispute-done-375.png", full_page=True)

    dispute = Dispute.objects.get()
    assert dispute.invoice == disputed and dispute.raised_via == RaisedVia.CUSTOMER_PAGE
    assert dispute.evidence.get().document.filename == "crushed.png"
    # The engine leaves the disputed invoice alone and still chases the other.
    assert _eligible(customer) == {other.pk}
    assert QueueEntry.objects.get(customer=customer).disputed
    assert Confirmation.objects.filter(key=f"dispute:{dispute.pk}").exists()

    # Back on the form, the disputed invoice cannot be ticked again.
    page.goto(live_server.url + reverse("portal:dispute", args=[path.strip("/").split("/")[-1]]))
    assert page.get_by_label("HT-1").is_disabled()
    assert page.get_by_text("Already under review").is_visible()

    # The collector finds it in their work, with the photo.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    disputes = page.locator("section[aria-labelledby='disputes-title']")
    assert "Raised on the customer's page" in disputes.inner_text()
    assert page.get_by_text(
        "Raised on the customer's page by Ada Payables <ada@harbour.test>"
    ).is_visible()
    page.screenshot(path=artifacts / "dispute-collector-1280.png", full_page=True)
    with page.expect_download() as download:
        disputes.get_by_role("link", name="crushed.png").click()
    assert download.value.suggested_filename == "crushed.png"
    assert Path(download.value.path()).read_bytes() == PNG


def test_a_customer_promises_a_date_within_the_limits_on_a_phone(
    live_server, browser_page, artifacts, django_user_model
):
    customer, (first, second), path = _account(django_user_model)
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + path)
    day = dt.date.today() + dt.timedelta(days=10)

    page.get_by_role("link", name="Promise a date to pay").click()
    page.get_by_role("heading", name="Promise a date to pay").wait_for()
    assert page.get_by_label("Amount I will pay").input_value() == "300.00"
    _fits_the_phone(page)
    page.get_by_label("I will pay by").fill(day.isoformat())
    page.screenshot(path=artifacts / "promise-form-375.png", full_page=True)
    page.get_by_role("button", name="Send my promise").click()

    page.get_by_role("heading", name="Thank you: we will not chase until").wait_for()
    _fits_the_phone(page)
    page.screenshot(path=artifacts / "promise-done-375.png", full_page=True)

    promise = PromiseToPay.objects.get()
    assert promise.promised_for == day and promise.amount == Decimal("300.00")
    # The promise pauses the chase of both invoices; the queue row shows it.
    assert _eligible(customer) == set()
    entry = QueueEntry.objects.get(customer=customer)
    assert entry.promise and entry.promised_for == day
    assert Confirmation.objects.filter(key=f"promise:{promise.pk}").exists()

    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    assert page.get_by_text("Promise to pay £300.00 by").first.is_visible()
    page.screenshot(path=artifacts / "promise-collector-1280.png", full_page=True)


def test_a_date_beyond_the_limit_waits_for_the_firms_answer(
    live_server, browser_page, artifacts, django_user_model
):
    customer, (first, second), path = _account(django_user_model)
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + reverse("portal:promise", args=[path.strip("/").split("/")[-1]]))
    day = dt.date.today() + dt.timedelta(days=45)

    page.get_by_label("I will pay by").fill(day.isoformat())
    page.get_by_label("Anything we should know? (optional)").fill("Our own customer pays late.")
    page.get_by_role("button", name="Send my promise").click()

    page.get_by_test_id("promise-waiting").wait_for()
    assert "answer" in page.get_by_role("heading", level=1).inner_text()
    _fits_the_phone(page)
    page.screenshot(path=artifacts / "promise-request-375.png", full_page=True)

    request = CustomerRequest.objects.get()
    assert request.status == RequestStatus.PENDING
    assert request.proposal["promised_for"] == day.isoformat()
    assert not PromiseToPay.objects.exists()
    # Nothing pauses until a collector agrees: both invoices are still chased.
    assert _eligible(customer) == {first.pk, second.pk}
    assert not QueueEntry.objects.get(customer=customer).promise

    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    assert page.get_by_text("offered on the customer page, for a collector to approve").is_visible()
    page.screenshot(path=artifacts / "promise-request-collector-1280.png", full_page=True)
