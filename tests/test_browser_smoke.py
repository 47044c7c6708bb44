"""A collector's first minutes: log in, find a customer, open their page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.queue import queue_rebuild
from invoices.services import dispute_open, invoice_create, payment_record
from invoices.tests.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def ledger(collector):
    """Three customers in arrears, built through the services so the timeline has entries."""
    today = timezone.localdate()
    for number, name in enumerate(["Harbour Foods Ltd", "Pine Joinery", "Quayside Print"]):
        customer = CustomerFactory(name=name, collector=collector)
        ContactFactory(customer=customer, name=f"Payables at {name}")
        invoices = [
            invoice_create(
                actor=collector,
                customer=customer,
                number=f"INV-{number}{days:03d}",
                issue_date=today - dt.timedelta(days=days + 30),
                due_date=today - dt.timedelta(days=days),
                amount=Decimal("120.00") * (number + 1),
            )
            for days in (95, 40, 5)
        ]
        payment_record(
            actor=collector,
            customer=customer,
            amount=Decimal("50.00"),
            received_on=today,
            reference=f"BACS-{number}",
        )
        dispute_open(actor=collector, invoice=invoices[-1], reason="pricing", opened_on=today)
    CustomerFactory(name="Settled Supplies", on_hold=True, hold_reason="Restructuring")


@pytest.mark.django_db(transaction=True)
def test_a_collector_logs_in_filters_customers_and_opens_one(
    live_server, browser_page, artifacts, django_user_model
):
    collector = django_user_model.objects.create_user(
        username="colin", password="pw-colin-123", first_name="Colin", last_name="Hart"
    )
    collector.groups.add(Group.objects.get(name=COLLECTOR))
    ledger(collector)
    queue_rebuild(as_of=timezone.now())  # what the worker's next dunning run does
    page = browser_page

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("colin")
    page.get_by_label("Password").fill("pw-colin-123")
    page.screenshot(path=artifacts / "01-login.png")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/queue/")
    assert page.get_by_role("link", name="Harbour Foods Ltd").is_visible()
    page.screenshot(path=artifacts / "02-queue.png", full_page=True)

    page.get_by_role("link", name="Customers").click()
    page.wait_for_url("**/customers/")
    page.screenshot(path=artifacts / "03-customers.png", full_page=True)
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Search").fill("harb")
    page.wait_for_url("**/customers/?q=harb*")
    assert page.locator("#results tbody tr").count() == 1
    # htmx swapped the table in place: the page itself was never reloaded.
    assert page.evaluate("window.stillTheSamePage") is True
    page.screenshot(path=artifacts / "04-customers-filtered.png", full_page=True)

    page.get_by_role("link", name="Harbour Foods Ltd").click()
    page.wait_for_url("**/customers/*/")
    assert page.get_by_role("heading", name="Harbour Foods Ltd", level=1).is_visible()
    assert page.get_by_text("Payables at Harbour Foods Ltd").is_visible()
    page.screenshot(path=artifacts / "05-customer.png", full_page=True)

    page.set_viewport_size({"width": 820, "height": 1100})
    page.screenshot(path=artifacts / "06-customer-tablet.png", full_page=True)
