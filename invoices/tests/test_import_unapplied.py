"""Payments without an invoice number: unapplied cash of the customer the row names."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from invoices.models import Allocation, Payment
from invoices.selectors import customer_totals
from invoices.services import payment_unallocated
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

HEADER = "invoice_number,customer_external_id,date,amount,reference\n"


@pytest.fixture
def acme():
    customer = CustomerFactory(external_id="ACME", currency="EUR")
    InvoiceFactory(number="INV-1", customer=customer, amount=Decimal("100.00"))
    return customer


def payments_file(tmp_path, *rows, name="payments.csv"):
    return write_csv(tmp_path, HEADER + "".join(row + "\n" for row in rows), name)


def test_a_row_without_invoice_number_becomes_unapplied_cash(tmp_path, acme):
    path = payments_file(
        tmp_path, ",ACME,2026-02-01,75.00,BANK-9", "INV-1,ACME,2026-02-02,40.00,BANK-10"
    )

    out = import_csv("payments", path)

    assert "2 created" in out
    cash = Payment.objects.get(reference="BANK-9")
    assert (cash.customer, cash.amount, cash.currency) == (acme, Decimal("75.00"), "EUR")
    assert not cash.allocations.exists()
    assert payment_unallocated(cash) == Decimal("75.00")
    assert Allocation.objects.get().payment.reference == "BANK-10"
    assert customer_totals(acme, as_of=dt.date(2026, 3, 1)).unallocated_credit == Decimal("75.00")
    event = AuditEvent.objects.get(action="ledger.payment.recorded", data__payment_id=cash.pk)
    assert event.invoice_id is None
    assert event.data["unallocated"] == "75.00"
    assert "unapplied" in event.summary


def test_reimporting_unapplied_cash_does_not_record_it_twice(tmp_path, acme):
    path = payments_file(tmp_path, ",ACME,2026-02-01,75.00,BANK-9", ",ACME,2026-02-01,75.00,BANK-9")
    import_csv("payments", path)

    out = import_csv("payments", path)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert Payment.objects.count() == 2  # two identical rows are two payments, once each


def test_a_file_without_the_customer_column_keys_payments_as_before(tmp_path, acme):
    import_csv(
        "payments",
        write_csv(tmp_path, "invoice_number,date,amount,reference\nINV-1,2026-02-01,10,R\n"),
    )

    out = import_csv(
        "payments", payments_file(tmp_path, "INV-1,ACME,2026-02-01,10,R", name="b.csv")
    )

    assert "0 created, 0 updated, 1 unchanged" in out


@pytest.mark.parametrize(
    "row,reason",
    [
        (",,2026-02-01,10,R", "invoice_number is missing (or give customer_external_id"),
        (",NOBODY,2026-02-01,10,R", "unknown customer 'NOBODY'"),
        ("INV-1,OTHER,2026-02-01,10,R", "invoice INV-1 belongs to customer ACME, not OTHER"),
        (",ACME,2026-02-01,0,R", "amount 0 must be more than zero"),
    ],
)
def test_a_bad_row_is_refused_with_its_line_and_reason_and_imports_nothing(
    tmp_path, acme, row, reason
):
    CustomerFactory(external_id="OTHER", currency="EUR")
    path = payments_file(tmp_path, ",ACME,2026-02-01,5,OK", row)

    with pytest.raises(CommandError) as raised:
        import_csv("payments", path)

    assert f"line 3: {reason}" in str(raised.value)
    assert not Payment.objects.exists()


def _queries(tmp_path, acme, count, prefix):
    rows = [f",ACME,2026-02-01,{n + 1},{prefix}{n}" for n in range(count)]
    path = payments_file(tmp_path, *rows, name=f"{prefix}.csv")
    with CaptureQueriesContext(connection) as queries:
        import_csv("payments", path)
    return len(queries)


def test_the_query_count_stays_flat_with_rows(tmp_path, acme):
    _queries(tmp_path, acme, 1, "W")  # the first import sets up what every later one reads

    assert _queries(tmp_path, acme, 3, "A") == _queries(tmp_path, acme, 30, "B")
