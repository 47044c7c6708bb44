import datetime as dt
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from audit.models import AuditEvent
from invoices.models import InvoiceStatus, Payment
from invoices.services import payment_unallocated
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

HEADER = "invoice_number,date,amount,reference\n"


@pytest.fixture
def invoice():
    customer = CustomerFactory(external_id="ACME", currency="EUR")
    return InvoiceFactory(number="INV-1", customer=customer, amount=Decimal("100.00"))


def payments_file(tmp_path, *rows, name="payments.csv"):
    return write_csv(tmp_path, HEADER + "".join(row + "\n" for row in rows), name)


def test_a_partial_payment_leaves_the_rest_open(tmp_path, invoice):
    import_csv("payments", payments_file(tmp_path, "INV-1,2026-02-01,40.00,BANK-1"))

    invoice.refresh_from_db()
    assert (invoice.open_balance, invoice.status) == (Decimal("60.00"), InvoiceStatus.OPEN)


def test_a_full_payment_marks_the_invoice_paid_on_its_date(tmp_path, invoice):
    import_csv("payments", payments_file(tmp_path, "INV-1,2026-02-01,100,BANK-1"))

    invoice.refresh_from_db()
    assert (invoice.open_balance, invoice.status, invoice.closed_on) == (
        Decimal("0.00"),
        InvoiceStatus.PAID,
        dt.date(2026, 2, 1),
    )


def test_an_over_payment_stays_on_the_payment_as_unallocated_credit(tmp_path, invoice):
    import_csv("payments", payments_file(tmp_path, "INV-1,2026-02-01,130.00,BANK-1"))

    payment = Payment.objects.get()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert payment_unallocated(payment) == Decimal("30.00")


def test_payments_for_one_invoice_settle_it_in_file_order(tmp_path, invoice):
    import_csv(
        "payments",
        payments_file(tmp_path, "INV-1,2026-02-01,70,A", "INV-1,2026-02-03,50,B"),
    )

    first, second = Payment.objects.order_by("reference")
    assert (payment_unallocated(first), payment_unallocated(second)) == (
        Decimal("0.00"),
        Decimal("20.00"),
    )
    invoice.refresh_from_db()
    assert invoice.closed_on == dt.date(2026, 2, 3)


def test_a_payment_takes_the_invoices_currency_and_customer(tmp_path, invoice):
    import_csv("payments", payments_file(tmp_path, "INV-1,2026-02-01,10,"))

    payment = Payment.objects.get()
    assert (payment.currency, payment.customer) == ("EUR", invoice.customer)


def test_reimporting_a_payments_file_never_pays_twice(tmp_path, invoice):
    path = payments_file(tmp_path, "INV-1,2026-02-01,40.00,BANK-1", "INV-1,2026-02-02,5,BANK-2")
    import_csv("payments", path)

    out = import_csv("payments", path)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert Payment.objects.count() == 2
    invoice.refresh_from_db()
    assert invoice.open_balance == Decimal("55.00")


def test_a_later_file_repeating_old_rows_pays_only_the_new_ones(tmp_path, invoice):
    import_csv("payments", payments_file(tmp_path, "INV-1,2026-02-01,40.00,BANK-1"))

    out = import_csv(
        "payments",
        payments_file(
            tmp_path,
            "INV-1,2026-02-01,40,BANK-1",
            "INV-1,2026-03-01,10.00,BANK-2",
            name="march.csv",
        ),
    )

    assert "1 created, 0 updated, 1 unchanged" in out
    invoice.refresh_from_db()
    assert invoice.open_balance == Decimal("50.00")


def test_two_identical_rows_in_one_file_are_two_payments(tmp_path, invoice):
    path = payments_file(tmp_path, "INV-1,2026-02-01,10.00,", "INV-1,2026-02-01,10.00,")

    import_csv("payments", path)
    import_csv("payments", path)

    assert Payment.objects.count() == 2
    invoice.refresh_from_db()
    assert invoice.open_balance == Decimal("80.00")


def test_an_unknown_invoice_is_a_bad_row(tmp_path, invoice):
    path = payments_file(tmp_path, "INV-1,2026-02-01,10.00,", "INV-404,2026-02-01,10.00,")

    with pytest.raises(CommandError, match="line 3: unknown invoice 'INV-404'"):
        import_csv("payments", path)

    assert not Payment.objects.exists()


def test_each_payment_is_audited_against_its_customer_and_invoice(tmp_path, invoice):
    import_csv("payments", payments_file(tmp_path, "INV-1,2026-02-01,130.00,BANK-1"))

    event = AuditEvent.objects.get(action="ledger.payment.recorded")
    assert (event.customer_id, event.invoice_id) == (invoice.customer_id, invoice.pk)
    assert event.data["payment_id"] == Payment.objects.get().pk
    assert event.data["allocations"] == [{"invoice": "INV-1", "amount": "100.00"}]
    assert event.data["unallocated"] == "30.00"
