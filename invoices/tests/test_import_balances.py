"""The import derives balances with one UPDATE; it must agree with invoice_refresh."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from invoices.importing.balances import refresh_balances
from invoices.importing.staging import TOUCHED
from invoices.models import DisputeReason, Invoice, InvoiceStatus
from invoices.services import (
    credit_note_issue,
    dispute_open,
    invoice_refresh,
    invoice_write_off,
    payment_record,
)
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 2, 1)


def pay(invoice, amount, on=DAY):
    payment_record(
        actor=None,
        customer=invoice.customer,
        amount=Decimal(amount),
        received_on=on,
        allocations=[(invoice, Decimal(amount))],
    )


@pytest.fixture
def ledger():
    """Invoices in every state the ledger knows."""
    customer = CustomerFactory()
    make = lambda amount: InvoiceFactory(customer=customer, amount=Decimal(amount))  # noqa: E731
    make("10.00")  # nothing applied: stays open
    partly_paid = make("100.00")
    pay(partly_paid, "40.00")
    paid_in_two = make("100.10")
    pay(paid_in_two, "50.05", DAY)
    pay(paid_in_two, "50.05", DAY + dt.timedelta(days=3))
    written_off = make("80.00")
    pay(written_off, "30.00")
    invoice_write_off(actor=None, invoice=written_off, reason="insolvent", on=DAY)
    disputed = make("60.00")
    dispute_open(actor=None, invoice=disputed, reason=DisputeReason.QUALITY, opened_on=DAY)
    disputed_then_paid = make("20.00")
    dispute_open(
        actor=None, invoice=disputed_then_paid, reason=DisputeReason.PRICING, opened_on=DAY
    )
    pay(disputed_then_paid, "20.00", DAY + dt.timedelta(days=9))
    credited = make("45.00")
    credit_note_issue(
        actor=None, invoice=credited, amount=Decimal("45.00"), reason="returned", issued_on=DAY
    )
    return customer


def derived():
    return list(
        Invoice.objects.order_by("pk").values_list("pk", "open_balance", "status", "closed_on")
    )


def scramble():
    """Derived values no invoice of the ledger has, so every refreshed one visibly changes."""
    Invoice.objects.update(
        open_balance=0, status=InvoiceStatus.WRITTEN_OFF, closed_on=dt.date(2000, 1, 1)
    )


def refresh_set_based(ids):
    with connection.cursor() as cursor:
        TOUCHED.create(cursor)
        cursor.executemany("INSERT INTO import_touched (id) VALUES (%s)", [[i] for i in ids])
        refresh_balances(cursor)
        TOUCHED.drop(cursor)


def test_the_set_based_refresh_derives_what_invoice_refresh_derives(ledger):
    ids = list(Invoice.objects.values_list("pk", flat=True))
    scramble()
    invoice_refresh(invoice_ids=ids)
    by_service = derived()
    scramble()

    refresh_set_based(ids)

    assert derived() == by_service
    assert {status for _, _, status, _ in by_service} == set(InvoiceStatus.values)


def test_the_set_based_refresh_leaves_other_invoices_alone(ledger):
    first, *others = Invoice.objects.order_by("pk").values_list("pk", flat=True)
    scramble()
    before = derived()

    refresh_set_based(others)

    after = derived()
    assert after[0] == before[0]
    assert all(changed != old for changed, old in zip(after[1:], before[1:], strict=True))
