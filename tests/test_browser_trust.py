"""The screens of trust: a collector settles a message whose outcome is unknown, a
colleague's customer is read only, and a login locked after too many wrong passwords says
so and is unlocked by an admin."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import ADMIN, COLLECTOR
from audit.models import AuditEvent
from dunning.models import Policy, Task, TaskKind, TaskStatus, Touch, TouchStatus
from dunning.outcomes import outcome_unknown
from dunning.queue import queue_rebuild
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def owing_customer(collector, name):
    customer = CustomerFactory(name=name, collector=collector)
    ContactFactory(customer=customer)
    today = timezone.localdate()
    InvoiceFactory(
        customer=customer,
        issue_date=today - dt.timedelta(days=40),
        due_date=today - dt.timedelta(days=10),
        amount=Decimal("840.00"),
    )
    return customer


def unknown_reminder(customer) -> Touch:
    """A Friendly reminder whose hand-off got no answer, as the run leaves it."""
    step = Policy.objects.get(name="Standard").current_version.steps.get(offset_days=1)
    now = timezone.now()
    touch = Touch.objects.create(
        key=f"{customer.pk}:1:{step.position}",
        customer=customer,
        step=step,
        channel=step.channel,
        status=TouchStatus.SENDING,
        claims=1,
        claimed_at=now,
        handoff_at=now,
        scheduled_for=now,
        currency=customer.currency,
    )
    outcome_unknown(
        touch_id=touch.pk,
        claim=1,
        at=now,
        reason="no answer after the message was sent: the mail server timed out",
    )
    return touch


@pytest.mark.django_db(transaction=True)
def test_a_collector_settles_a_message_whose_outcome_is_unknown(
    live_server, browser_page, artifacts, django_user_model
):
    colin = user(django_user_model, "colin", COLLECTOR)
    customer = owing_customer(colin, "Saltmarsh Interiors")
    touch = unknown_reminder(customer)
    queue_rebuild(as_of=timezone.now())
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")

    row = page.locator("#results tbody tr", has_text="Saltmarsh Interiors")
    assert row.get_by_text("unknown", exact=False).first.is_visible()
    page.screenshot(path=artifacts / "trust-01-queue-unknown.png", full_page=True)
    row.get_by_role("link", name="Saltmarsh Interiors").click()
    panel = page.locator("section", has_text="Needs your decision")
    panel.get_by_text("Check whether the Friendly reminder reached Saltmarsh Interiors").wait_for()
    page.screenshot(path=artifacts / "trust-02-needs-decision.png", full_page=True)

    panel.get_by_role("button", name="It was sent").click()

    page.locator(".message-success", has_text="Marked as sent").wait_for()
    assert not page.get_by_text("Needs your decision").is_visible()
    page.screenshot(path=artifacts / "trust-03-settled.png", full_page=True)
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT
    assert Task.objects.get(touch=touch, kind=TaskKind.CHECK_SEND).status == TaskStatus.DONE
    assert AuditEvent.objects.filter(action="dunning.touch.settled_sent", actor=colin).exists()


@pytest.mark.django_db(transaction=True)
def test_a_colleagues_customer_is_read_only(
    live_server, browser_page, artifacts, django_user_model
):
    user(django_user_model, "colin", COLLECTOR)
    cara = user(django_user_model, "cara", COLLECTOR)
    customer = owing_customer(cara, "Orchard Motors")
    unknown_reminder(customer)
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")

    page.goto(f"{live_server.url}/customers/{customer.pk}/")

    page.get_by_text("read only").first.wait_for()
    assert page.get_by_role("button", name="It was sent").count() == 0
    page.screenshot(path=artifacts / "trust-04-read-only.png", full_page=True)
    assert Touch.objects.get(customer=customer).status == TouchStatus.UNKNOWN


@pytest.mark.django_db(transaction=True)
def test_a_login_locked_after_wrong_passwords_is_unlocked_by_an_admin(
    live_server, browser_page, artifacts, django_user_model, settings
):
    settings.AXES_ENABLED = True
    user(django_user_model, "colin", COLLECTOR)
    user(django_user_model, "ada", ADMIN)
    page = browser_page
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill("colin")
        page.get_by_label("Password").fill("a-wrong-guess")
        page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("colin")
    page.get_by_label("Password").fill("pw-colin-123")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("is locked for").wait_for()
    page.screenshot(path=artifacts / "trust-05-locked.png", full_page=True)
    assert "/login/" in page.url

    log_in(page, live_server.url, "ada", "pw-ada-123")
    page.goto(f"{live_server.url}/settings/lockouts/")
    page.screenshot(path=artifacts / "trust-06-lockouts.png", full_page=True)
    page.locator("tr", has_text="colin").get_by_role("button", name="Unlock").click()
    page.get_by_text("colin").first.wait_for()
    page.context.clear_cookies()

    log_in(page, live_server.url, "colin", "pw-colin-123")
    assert AuditEvent.objects.filter(action="accounts.login.unlocked").exists()
