import datetime as dt
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from audit.models import AuditEvent
from invoices.models import ImportBatch, Invoice, InvoiceStatus, Payment
from invoices.services import payment_record
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

HEADER = "number,customer_external_id,issue_date,due_date,currency,amount\n"


@pytest.fixture
def acme():
    return CustomerFactory(external_id="ACME", currency="GBP")


def invoices_file(tmp_path, *rows, header=HEADER):
    return write_csv(tmp_path, header + "".join(row + "\n" for row in rows))


def test_it_creates_invoices_with_their_balance_open(tmp_path, acme):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00",
        "INV-2,ACME,2026-01-10,2026-02-09,GBP,250.5",
    )

    out = import_csv("invoices", path)

    assert "2 created, 0 updated, 0 unchanged" in out
    second = Invoice.objects.get(number="INV-2")
    assert (second.customer, second.amount, second.open_balance, second.status) == (
        acme,
        Decimal("250.50"),
        Decimal("250.50"),
        InvoiceStatus.OPEN,
    )
    assert second.due_date == dt.date(2026, 2, 9)


def test_created_invoices_point_at_their_import_batch(tmp_path, acme):
    import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,1"))

    batch = ImportBatch.objects.get()
    assert Invoice.objects.get(number="INV-1").import_batch == batch
    assert (batch.kind, batch.filename, batch.rows, batch.created) == (
        "invoices",
        "import.csv",
        1,
        1,
    )


def test_one_bad_row_among_good_ones_imports_nothing_and_every_bad_row_is_listed(tmp_path, acme):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00",
        "INV-2,ACME,2026-01-01,2026-01-31,GBP,-5",
        "INV-3,ACME,2026-01-01,2026-01-31,GBP,30.00",
        "INV-4,NOBODY,2026-01-01,2026-01-31,GBP,30.00",
    )

    with pytest.raises(CommandError) as rejected:
        import_csv("invoices", path)

    message = str(rejected.value)
    assert "2 problem(s); nothing was imported" in message
    assert "line 3: amount -5 must be more than zero" in message
    assert "line 5: unknown customer 'NOBODY'" in message
    assert not Invoice.objects.exists()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",ACME,2026-01-01,2026-01-31,GBP,10", "number is missing"),
        ("INV-9,ACME,,2026-01-31,GBP,10", "issue_date is missing"),
        ("INV-9,ACME,2026-02-30,2026-03-31,GBP,10", "issue_date '2026-02-30' is not a date"),
        ("INV-9,ACME,01/02/2026,2026-03-31,GBP,10", "issue_date '01/02/2026' is not a date"),
        ("INV-9,ACME,2026-02-01,2026-01-31,GBP,10", "due_date 2026-01-31 is before issue_date"),
        ("INV-9,ACME,2026-01-01,2026-01-31,GBP,-10", "amount -10 must be more than zero"),
        ("INV-9,ACME,2026-01-01,2026-01-31,GBP,0.00", "amount 0.00 must be more than zero"),
        ("INV-9,ACME,2026-01-01,2026-01-31,GBP,10.005", "has more than two decimal places"),
        ("INV-9,ACME,2026-01-01,2026-01-31,GBP,1 000", "is not an amount"),
        (
            "INV-9,ACME,2026-01-01,2026-01-31,GBX,10",
            "currency 'GBX' is not an ISO 4217 currency code",
        ),
        (
            "INV-9,ACME,2026-01-01,2026-01-31,ADP,10",
            "currency 'ADP' (Andorran Peseta) is no longer",
        ),
        ("INV-9,ACME,2026-01-01,2026-01-31,EUR,10", "is in EUR but customer ACME is billed in GBP"),
        ("INV-9,GHOST,2026-01-01,2026-01-31,GBP,10", "unknown customer 'GHOST'"),
        ("INV-9,ACME,2026-01-01,2026-01-31", "has 4 columns but the header has 6"),
    ],
)
def test_it_rejects_a_bad_row_with_its_line_number_and_reason(tmp_path, acme, row, reason):
    path = invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00", row)

    with pytest.raises(CommandError) as rejected:
        import_csv("invoices", path)

    assert "line 3: " in str(rejected.value)
    assert reason in str(rejected.value)
    assert not Invoice.objects.exists()


def test_it_rejects_the_same_number_twice_with_different_data(tmp_path, acme):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00",
        "INV-2,ACME,2026-01-01,2026-01-31,GBP,20.00",
        "INV-1,ACME,2026-01-01,2026-01-31,GBP,120.00",
    )

    with pytest.raises(CommandError, match="line 4: invoice INV-1 is also on line 2 with"):
        import_csv("invoices", path)


def test_it_imports_an_identical_duplicate_row_once(tmp_path, acme):
    row = "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00"

    out = import_csv("invoices", invoices_file(tmp_path, row, row))

    assert "1 created" in out
    assert Invoice.objects.count() == 1


def test_reimporting_the_same_file_changes_nothing(tmp_path, acme):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00",
        "INV-2,ACME,2026-01-10,2026-02-09,GBP,250.50",
    )
    import_csv("invoices", path)
    before = list(Invoice.objects.values_list("number", "amount", "open_balance", "updated_at"))

    out = import_csv("invoices", path)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert (
        list(Invoice.objects.values_list("number", "amount", "open_balance", "updated_at"))
        == before
    )


def test_a_changed_amount_on_reimport_is_applied_to_the_balance(tmp_path, acme):
    import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,100"))
    invoice = Invoice.objects.get()
    payment_record(actor=None, customer=acme, amount=Decimal("30"), received_on=dt.date(2026, 1, 5))

    out = import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-02-15,GBP,90"))

    assert "0 created, 1 updated, 0 unchanged" in out
    invoice.refresh_from_db()
    assert (invoice.amount, invoice.open_balance, invoice.due_date) == (
        Decimal("90.00"),
        Decimal("60.00"),
        dt.date(2026, 2, 15),
    )


def test_a_changed_invoice_is_audited_with_before_and_after(tmp_path, acme):
    import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,100"))

    import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-02-15,GBP,90"))

    event = AuditEvent.objects.get(action="ledger.invoice.updated")
    assert event.invoice_id == Invoice.objects.get().pk
    assert event.customer_id == acme.pk
    assert event.data["changes"] == {
        "amount": ["100.00", "90.00"],
        "due_date": ["2026-01-31", "2026-02-15"],
    }


def test_an_amount_changed_down_to_what_is_paid_marks_the_invoice_paid(tmp_path, acme):
    import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,100"))
    payment_record(actor=None, customer=acme, amount=Decimal("80"), received_on=dt.date(2026, 1, 9))

    import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,80"))

    invoice = Invoice.objects.get()
    assert (invoice.open_balance, invoice.status, invoice.closed_on) == (
        Decimal("0.00"),
        InvoiceStatus.PAID,
        dt.date(2026, 1, 9),
    )


def test_it_refuses_a_new_amount_below_what_is_already_paid(tmp_path, acme):
    import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,100"))
    payment_record(actor=None, customer=acme, amount=Decimal("60"), received_on=dt.date(2026, 1, 5))

    with pytest.raises(CommandError, match="line 2: invoice INV-1: 60.00 is already paid"):
        import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,50"))

    assert Invoice.objects.get().amount == Decimal("100.00")


def test_it_refuses_an_existing_number_for_another_customer(tmp_path, acme):
    InvoiceFactory(number="INV-1", customer=CustomerFactory(external_id="OTHER"))

    with pytest.raises(CommandError, match="invoice INV-1 already exists for customer OTHER"):
        import_csv("invoices", invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,9"))


def test_a_dry_run_counts_but_writes_nothing(tmp_path, acme):
    path = invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00")

    out = import_csv("invoices", path, "--dry-run")

    assert "Would import 1 invoices row(s)" in out
    assert "1 created" in out
    assert not Invoice.objects.exists()
    assert not ImportBatch.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_applied_file_writes_one_batch_audit_event_with_its_hash(tmp_path, acme):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00",
        "INV-2,ACME,2026-01-01,2026-01-31,GBP,100.00",
    )

    import_csv("invoices", path)

    batch = ImportBatch.objects.get()
    event = AuditEvent.objects.get()
    assert event.action == "import.invoices.applied"
    assert event.data["batch_id"] == batch.pk
    assert event.data["sha256"] == batch.sha256 != ""
    assert (event.data["created"], event.data["filename"]) == (2, "import.csv")


def test_a_settled_date_records_a_payment_for_the_open_balance(tmp_path, acme):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00,2026-01-20",
        "INV-2,ACME,2026-01-01,2026-01-31,GBP,40.00,",
        header=HEADER.strip() + ",settled_date\n",
    )

    import_csv("invoices", path)

    settled = Invoice.objects.get(number="INV-1")
    payment = Payment.objects.get()
    assert (settled.status, settled.open_balance, settled.closed_on) == (
        InvoiceStatus.PAID,
        Decimal("0.00"),
        dt.date(2026, 1, 20),
    )
    assert (payment.amount, payment.received_on, payment.external_key) == (
        Decimal("100.00"),
        dt.date(2026, 1, 20),
        "settled:INV-1",
    )
    assert Invoice.objects.get(number="INV-2").status == InvoiceStatus.OPEN


def test_a_settled_date_pays_only_what_is_still_open_and_only_once(tmp_path, acme):
    header = HEADER.strip() + ",settled_date\n"
    import_csv(
        "invoices",
        invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,100,", header=header),
    )
    payment_record(actor=None, customer=acme, amount=Decimal("30"), received_on=dt.date(2026, 1, 5))
    settled = invoices_file(
        tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,GBP,100,2026-01-25", header=header
    )

    first = import_csv("invoices", settled)
    second = import_csv("invoices", settled)

    assert "1 updated" in first
    assert "0 updated, 1 unchanged" in second
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("70.00"),
    ]
    assert Invoice.objects.get().status == InvoiceStatus.PAID
