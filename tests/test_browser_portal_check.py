"""A customer answers the satisfaction check from its email: "all in order" at a desk, "there
is a problem" on a phone (375x812). After each, the engine, the queue and the collector's
timeline show it."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.models import Acknowledgement, Policy, QueueEntry, SatisfactionAnswer, StepKind
from dunning.planning import dunning_run
from dunning.policy_services import policy_save_version, version_steps
from dunning.selectors import calendar_for
from dunning.services import touches_deliver
from dunning.views import plans_for
from invoices.models import Dispute, InvoiceStatus, RaisedVia
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.models import Confirmation
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _last_business_morning() -> dt.datetime:
    """10:00 UTC on the latest business day up to now: when the run sends the check."""
    now = timezone.now()
    holidays = calendar_for(now).holidays
    day = now.date() if now.hour >= 10 else now.date() - dt.timedelta(days=1)
    while day.weekday() >= 5 or day in holidays:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)


def _asked(django_user_model):
    """Colin's customer with a new invoice, a policy with a satisfaction check, and the run
    that sent it: (customer, invoice, the email's two links as paths)."""
    colin = user(django_user_model, "colin", COLLECTOR)
    standard = Policy.objects.get(is_default=True)
    steps = version_steps(standard.current_version)
    steps.append(
        {
            "position": len(steps) + 1,
            "name": "Satisfaction check",
            "kind": StepKind.CHECK,
            "offset_days": 5,
            "channel": "email",
            "template": "satisfaction_check",
            "min_balance": "0",
            "business_days_only": True,
        }
    )
    policy_save_version(actor=None, policy=standard, steps=steps, note="Ask after issue")
    customer = CustomerFactory(collector=colin, name="Harbour Teas Ltd")
    contact = ContactFactory(customer=customer, name="Ada Payables", email="ada@harbour.test")
    sent_at = _last_business_morning()
    invoice = InvoiceFactory(
        customer=customer,
        number="HT-7",
        issue_date=sent_at.date() - dt.timedelta(days=5),
        due_date=sent_at.date() + dt.timedelta(days=25),
        amount=Decimal("240.00"),
    )
    dunning_run(as_of=sent_at, customer_ids=[customer.pk])
    touches_deliver(as_of=sent_at, customer_ids=[customer.pk])
    [message] = [m for m in mail.outbox if m.to == [contact.email]]
    links = {
        answer: "/"
        + re.search(rf"https?://[^/\s]+/(\S+/check/{invoice.pk}/{answer}/)", message.body).group(1)
        for answer in ("in-order", "problem")
    }
    return customer, invoice, links


def _accessible(page, width: int):
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not axe_violations(page), violations_report(axe_violations(page))


def _timeline(page, live_server, customer):
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))


def test_a_customer_confirms_all_in_order_from_the_email_at_a_desk(
    live_server, browser_page, artifacts, django_user_model
):
    customer, invoice, links = _asked(django_user_model)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(live_server.url + links["in-order"])
    page.get_by_role("heading", name="Confirm invoice HT-7 is in order").wait_for()
    # Opening the link (as a mail scanner would) records nothing.
    assert not SatisfactionAnswer.objects.exists()
    _accessible(page, 1280)
    page.screenshot(path=artifacts / "check-in-order-confirm-1280.png", full_page=True)
    page.get_by_role("button", name="Confirm: all in order").click()

    page.get_by_test_id("check-answered").wait_for()
    assert "all in order" in page.get_by_test_id("check-answered").inner_text()
    _accessible(page, 1280)
    page.screenshot(path=artifacts / "check-in-order-done-1280.png", full_page=True)

    # The engine: kept as the customer's acknowledgement, never asked again.
    answer = SatisfactionAnswer.objects.get(invoice=invoice)
    assert answer.before_due and answer.acknowledgement is not None
    assert Acknowledgement.objects.get(customer=customer).invoices.get() == invoice
    (planned,) = plans_for([customer.pk], as_of=timezone.now())
    assert planned.plan.check is None
    assert invoice.pk in planned.plan.eligible_invoice_ids  # still owed, chased when due
    assert Confirmation.objects.filter(key=f"check:{answer.pk}").exists()
    # The queue: the check was its last touch, nothing disputed.
    entry = QueueEntry.objects.get(customer=customer)
    assert entry.last_touch.startswith("Satisfaction check") and not entry.disputed

    # Their page no longer asks; the collector's timeline says what they answered.
    page.goto(live_server.url + links["in-order"].split("check/")[0])
    assert page.get_by_test_id("portal-checks").count() == 0
    _timeline(page, live_server, customer)
    assert page.get_by_text("Satisfaction check on HT-7 answered: all in order").is_visible()
    page.screenshot(path=artifacts / "check-in-order-timeline-1280.png", full_page=True)


def test_a_customer_reports_a_problem_from_their_page_on_a_phone(
    live_server, browser_page, artifacts, django_user_model
):
    customer, invoice, links = _asked(django_user_model)
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})

    page.goto(live_server.url + links["problem"].split("check/")[0])
    checks = page.get_by_test_id("portal-checks")
    checks.wait_for()
    _accessible(page, 375)
    page.screenshot(path=artifacts / "check-page-375.png", full_page=True)
    checks.get_by_role("link", name="There is a problem with HT-7").click()

    page.get_by_role("heading", name="A problem with invoice HT-7").wait_for()
    page.get_by_role("button", name="Send: there is a problem").click()
    page.get_by_text("Choose what the problem is.").wait_for()
    assert not Dispute.objects.exists()
    page.get_by_label("What is the problem?").select_option(label="Wrong quantity")
    page.get_by_label("Tell us more (optional)").fill("We ordered 5 crates and got 3.")
    _accessible(page, 375)
    page.screenshot(path=artifacts / "check-problem-form-375.png", full_page=True)
    page.get_by_role("button", name="Send: there is a problem").click()

    page.get_by_test_id("check-answered").wait_for()
    assert "there is a problem" in page.get_by_test_id("check-answered").inner_text()
    _accessible(page, 375)
    page.screenshot(path=artifacts / "check-problem-done-375.png", full_page=True)

    # The engine: a dispute raised via the check takes the invoice out of chasing.
    dispute = Dispute.objects.get(invoice=invoice)
    assert dispute.raised_via == RaisedVia.CHECK
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_DISPUTE
    (planned,) = plans_for([customer.pk], as_of=timezone.now())
    assert planned.plan.check is None and invoice.pk not in planned.plan.eligible_invoice_ids
    # The queue row says what pauses the invoice.
    assert "open dispute on HT-7" in QueueEntry.objects.get(customer=customer).paused_by
    # A second answer changes nothing: the first stands.
    page.goto(live_server.url + links["in-order"])
    assert "You already answered" in page.locator("main").inner_text()
    assert SatisfactionAnswer.objects.count() == 1

    _timeline(page, live_server, customer)
    assert page.get_by_text(
        "Satisfaction check on HT-7 answered: there is a problem (a dispute was opened)"
    ).is_visible()
    assert page.get_by_text("Raised answering the satisfaction check").first.is_visible()
    page.screenshot(path=artifacts / "check-problem-timeline-1280.png", full_page=True)
