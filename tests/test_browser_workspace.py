"""A collector's morning in the workspace: the queue, the customer page and its actions —
a call that ends in a promise, a dispute opened and resolved, a payment plan agreed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.models import PaymentPlan, PromiseToPay
from dunning.queue import queue_rebuild
from invoices.models import Dispute, DisputeStatus
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def owes(customer, number, *, days, amount):
    today = timezone.localdate()
    return InvoiceFactory(
        customer=customer,
        number=number,
        issue_date=today - dt.timedelta(days=days + 30),
        due_date=today - dt.timedelta(days=days),
        amount=Decimal(amount),
    )


def morning(django_user_model):
    """Colin's book: Harbour Foods owes most for longest, so it leads his queue."""
    colin = user(django_user_model, "colin", COLLECTOR)
    harbour = CustomerFactory(name="Harbour Foods Ltd", collector=colin)
    ContactFactory(customer=harbour, name="Pat Payables", phone="+44 20 7946 0001")
    owes(harbour, "INV-0042", days=40, amount="1200.00")
    owes(harbour, "INV-0043", days=20, amount="300.00")
    quay = CustomerFactory(name="Quay Stores Ltd", collector=colin)
    ContactFactory(customer=quay)
    owes(quay, "INV-0050", days=10, amount="90.00")
    queue_rebuild(as_of=timezone.now())
    return harbour


def queue_names(page):
    return page.locator("#results tbody tr td:nth-child(3) a").all_inner_texts()


def open_top_customer(page, artifacts, prefix):
    page.locator("#results tbody tr").first.wait_for()
    assert queue_names(page) == ["Harbour Foods Ltd", "Quay Stores Ltd"]
    page.screenshot(path=artifacts / f"{prefix}-01-queue.png", full_page=True)
    page.keyboard.press("j")  # the top row becomes current
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers/*/")
    page.get_by_role("heading", name="Harbour Foods Ltd").wait_for()
    page.screenshot(path=artifacts / f"{prefix}-02-customer.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_call_ends_in_a_promise_and_the_queue_shows_the_customer_paused(
    live_server, browser_page, artifacts, django_user_model
):
    harbour = morning(django_user_model)
    promised_for = timezone.localdate() + dt.timedelta(days=5)
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")
    open_top_customer(page, artifacts, "workspace-promise")

    page.keyboard.press("c")  # log a call, in place
    call = page.locator("#action-area form")
    call.get_by_label("Outcome").select_option(label="Promise to pay")
    call.get_by_label("Amount promised").fill("1500.00")
    call.get_by_label("Promised for").fill(promised_for.isoformat())
    call.get_by_label("Notes").fill("Pat will pay both invoices on Friday.")
    page.screenshot(path=artifacts / "workspace-promise-03-log-call.png", full_page=True)
    call.get_by_role("button", name="Log the call").click()

    page.locator(".message-success", has_text="Call logged: Promise to pay").wait_for()
    page.locator("#next-step").get_by_text("Paused", exact=True).wait_for()
    page.screenshot(path=artifacts / "workspace-promise-04-customer-paused.png", full_page=True)
    promise = PromiseToPay.objects.get(customer=harbour)
    assert (promise.amount, promise.promised_for) == (Decimal("1500.00"), promised_for)

    page.keyboard.press("u")  # back to the queue
    page.wait_for_url("**/queue/")
    harbour_row = page.locator("#results tbody tr", has_text="Harbour Foods Ltd")
    harbour_row.wait_for()
    # Paused by the promise, Harbour now waits below the customer still to chase.
    assert queue_names(page) == ["Quay Stores Ltd", "Harbour Foods Ltd"]
    assert harbour_row.get_by_text("Paused", exact=True).is_visible()
    assert harbour_row.get_by_text(f"Promised for {promised_for:%-d %b %Y}").is_visible()
    page.screenshot(path=artifacts / "workspace-promise-05-queue-paused.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_dispute_is_opened_and_resolved_for_us(
    live_server, browser_page, artifacts, django_user_model
):
    morning(django_user_model)
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")
    open_top_customer(page, artifacts, "workspace-dispute")

    page.keyboard.press("d")
    dispute = page.locator("#action-area form")
    dispute.get_by_label("Invoice").select_option(label="INV-0043 (£300.00 open)")
    dispute.get_by_label("Reason").select_option(label="Pricing or rate")
    dispute.get_by_label("Amount in dispute").fill("300.00")
    page.screenshot(path=artifacts / "workspace-dispute-03-open.png", full_page=True)
    dispute.get_by_role("button", name="Open the dispute").click()

    page.locator(".message-success", has_text="Dispute opened on INV-0043").wait_for()
    invoices = page.locator("section", has=page.get_by_role("heading", name="Open invoices"))
    assert invoices.locator("tr", has_text="INV-0043").get_by_text("In dispute").is_visible()
    page.screenshot(path=artifacts / "workspace-dispute-04-opened.png", full_page=True)

    page.get_by_role("link", name="Resolve the dispute on INV-0043").click()
    resolve = page.locator("#action-area form")
    resolve.get_by_label("Outcome").select_option(value=DisputeStatus.RESOLVED_FOR_US)
    resolve.get_by_label("Note").fill("Price matches the signed quote.")
    resolve.get_by_role("button", name="Resolve the dispute").click()

    page.locator(".message-success", has_text="Dispute on INV-0043").wait_for()
    assert Dispute.objects.get().status == DisputeStatus.RESOLVED_FOR_US
    assert invoices.locator("tr", has_text="INV-0043").get_by_text("In dispute").count() == 0
    page.screenshot(path=artifacts / "workspace-dispute-05-resolved.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_payment_plan_is_previewed_then_agreed(
    live_server, browser_page, artifacts, django_user_model
):
    harbour = morning(django_user_model)
    first = timezone.localdate() + dt.timedelta(days=7)
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")
    open_top_customer(page, artifacts, "workspace-plan")

    page.keyboard.press("l")
    plan = page.locator("#action-area form")
    plan.get_by_label("Instalments").fill("3")
    plan.get_by_label("Total to pay").fill("1500.00")
    plan.get_by_label("First instalment on").fill(first.isoformat())

    # The schedule appears as it is typed, before anything is saved.
    schedule = page.locator("#plan-schedule")
    schedule.get_by_text("£500.00").first.wait_for()
    assert schedule.locator("tbody tr").count() == 3
    assert PaymentPlan.objects.count() == 0
    page.screenshot(path=artifacts / "workspace-plan-03-preview.png", full_page=True)
    plan.get_by_role("button", name="Agree this plan").click()

    page.locator(".message-success", has_text="Payment plan of 3 instalments set up.").wait_for()
    page.locator("#next-step").get_by_text("Paused", exact=True).wait_for()
    agreed = PaymentPlan.objects.get(customer=harbour)
    assert agreed.instalments.count() == 3
    page.screenshot(path=artifacts / "workspace-plan-04-agreed.png", full_page=True)
