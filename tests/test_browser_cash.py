"""Money in: a collector takes a payment during a call and sees the balance, the queue and
the timeline follow; cash that came in without an invoice number is matched in one click."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import COLLECTOR
from dunning.queue import queue_rebuild
from invoices.models import Invoice, InvoiceStatus, Payment
from invoices.services import payment_record
from invoices.tests.factories import ContactFactory, CustomerFactory
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user
from tests.test_browser_workspace import owes

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def harbour_owes_two(django_user_model):
    colin = user(django_user_model, "colin", COLLECTOR)
    harbour = CustomerFactory(name="Harbour Foods Ltd", collector=colin)
    ContactFactory(customer=harbour, name="Pat Payables", phone="+44 20 7946 0001")
    owes(harbour, "INV-0042", days=40, amount="1200.00")
    owes(harbour, "INV-0043", days=20, amount="300.00")
    queue_rebuild(as_of=timezone.now())
    return harbour


def figure(page, name):
    return page.locator(".customer-figures div", has_text=name).locator("dd")


def queue_row(page, name):
    return page.locator("#results tbody tr", has_text=name)


@pytest.mark.django_db(transaction=True)
def test_a_payment_taken_during_a_call_changes_the_balance_queue_and_timeline(
    live_server, browser_page, artifacts, django_user_model
):
    harbour = harbour_owes_two(django_user_model)
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("queue"))
    expect(queue_row(page, "Harbour Foods Ltd")).to_contain_text("£1,500.00")

    page.goto(live_server.url + reverse("customer_detail", args=[harbour.pk]))
    expect(figure(page, "Total open")).to_have_text("£1,500.00")
    page.keyboard.press("m")  # record a payment, in place
    form = page.locator("#action-area form")
    form.get_by_label("Amount").wait_for()
    # Typed as a person types (htmx binds the swapped-in form as it settles).
    form.get_by_label("Amount").press_sequentially("1200.00", delay=30)
    # The allocation table refills oldest first as the amount is typed.
    expect(form.get_by_label("Apply to INV-0042")).to_have_value("1200.00")
    expect(form.get_by_label("Apply to INV-0043")).to_have_value("")
    form.get_by_label("Method").select_option(label="Bank transfer")
    form.get_by_label("Reference").fill("Pat on the phone")
    page.screenshot(path=artifacts / "cash-payment-01-form.png", full_page=True)
    found = axe_violations(page)
    assert not found, violations_report("the payment form", found)
    form.get_by_role("button", name="Record the payment").click()

    page.locator(
        ".message-success", has_text="Payment of £1,200.00 recorded: £1,200.00 to INV-0042."
    ).wait_for()
    expect(figure(page, "Total open")).to_have_text("£300.00")
    open_invoices = page.locator(".customer-invoices")
    expect(open_invoices).not_to_contain_text("INV-0042")
    expect(open_invoices).to_contain_text("INV-0043")
    expect(page.get_by_test_id("payments")).to_contain_text("Bank transfer, Pat on the phone")
    expect(page.locator(".timeline").first).to_contain_text("Payment of £1,200.00 received")
    assert Invoice.objects.get(number="INV-0042").status == InvoiceStatus.PAID
    page.screenshot(path=artifacts / "cash-payment-02-customer.png", full_page=True)

    page.keyboard.press("u")  # back to the queue
    page.wait_for_url("**/queue/")
    expect(queue_row(page, "Harbour Foods Ltd")).to_contain_text("£300.00")
    page.screenshot(path=artifacts / "cash-payment-03-queue.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_an_unapplied_payment_is_matched_in_one_click(
    live_server, browser_page, artifacts, django_user_model
):
    harbour = harbour_owes_two(django_user_model)
    payment_record(
        actor=None,
        customer=harbour,
        amount=Decimal("300.00"),
        received_on=timezone.localdate(),
        reference="HARBOUR FOODS BACS",
        allocations=[],
    )
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cash").click()
    page.get_by_role("heading", name="Unapplied cash").wait_for()
    row = page.locator("table.unapplied-cash tbody tr", has_text="Harbour Foods Ltd")
    expect(row).to_contain_text("£300.00 to INV-0043 (same amount)")
    page.screenshot(path=artifacts / "cash-matching-01-screen.png", full_page=True)
    found = axe_violations(page)
    assert not found, violations_report("the matching screen", found)
    row.get_by_role("button", name="Apply").click()

    page.locator(
        ".message-success",
        has_text="Applied £300.00 of the payment of £300.00 received",
    ).wait_for()
    expect(page.get_by_text("No unapplied cash")).to_be_visible()
    assert Payment.objects.get().unapplied == Decimal("0.00")

    page.goto(
        live_server.url
        + reverse("invoice_detail", args=[Invoice.objects.get(number="INV-0043").pk])
    )
    expect(page.locator(".page-header .badge")).to_have_text("Paid")
    page.screenshot(path=artifacts / "cash-matching-02-invoice-paid.png", full_page=True)
