"""An export from another accounting system: its own headers, US dates, a paid-date column,
and a payments file of its own. The balances Dunmore ends with must match what the test
works out from the CSV files alone."""

import csv
from collections import defaultdict
from decimal import Decimal

import pytest

from invoices.models import Customer, Invoice, InvoiceStatus
from invoices.tests.data import HERE, import_csv

pytestmark = pytest.mark.django_db

INVOICE_MAP = (
    "Invoice No.=number,Client Ref=customer_external_id,Invoice Date=issue_date,"
    "Due Date=due_date,Curr=currency,Total=amount,Date Paid=settled_date"
)
PAYMENT_MAP = "Inv #=invoice_number,Paid On=date,Amount Received=amount,Check No=reference"


def expected_balances() -> dict[str, Decimal]:
    """Each invoice's balance from the CSV files: nothing if marked paid, else its total less
    the payments received, never below zero (an excess is the customer's credit)."""
    with open(HERE / "foreign_invoices.csv", newline="") as f:
        invoices = list(csv.DictReader(f))
    with open(HERE / "foreign_payments.csv", newline="") as f:
        received = defaultdict(Decimal)
        for row in csv.DictReader(f):
            received[row["Inv #"]] += Decimal(row["Amount Received"])
    return {
        row["Invoice No."]: Decimal("0.00")
        if row["Date Paid"]
        else max(Decimal(row["Total"]) - received[row["Invoice No."]], Decimal("0.00"))
        for row in invoices
    }


@pytest.fixture
def imported():
    import_csv("customers", HERE / "foreign_customers.csv")
    import_csv(
        "invoices", HERE / "foreign_invoices.csv", "--map", INVOICE_MAP, "--date-format", "%m/%d/%Y"
    )
    import_csv(
        "payments", HERE / "foreign_payments.csv", "--map", PAYMENT_MAP, "--date-format", "%m/%d/%Y"
    )


def test_every_invoice_balance_matches_the_export(imported):
    balances = dict(Invoice.objects.values_list("number", "open_balance"))

    assert balances == expected_balances()


def test_each_customers_balance_matches_the_export(imported):
    expected = defaultdict(Decimal)
    with open(HERE / "foreign_invoices.csv", newline="") as f:
        owner = {row["Invoice No."]: row["Client Ref"] for row in csv.DictReader(f)}
    for number, balance in expected_balances().items():
        expected[owner[number]] += balance

    for customer in Customer.objects.all():
        owed = sum(customer.invoices.values_list("open_balance", flat=True), Decimal("0.00"))
        assert owed == expected[customer.external_id], customer.external_id


def test_us_dates_and_the_paid_column_are_read(imported):
    settled = Invoice.objects.get(number="QB-1003")

    assert (settled.issue_date.isoformat(), settled.due_date.isoformat()) == (
        "2025-12-15",
        "2026-01-14",
    )
    assert (settled.status, settled.closed_on.isoformat()) == (InvoiceStatus.PAID, "2026-01-30")


def test_the_unmapped_memo_column_is_reported_as_ignored():
    import_csv("customers", HERE / "foreign_customers.csv")

    out = import_csv(
        "invoices",
        HERE / "foreign_invoices.csv",
        "--map",
        INVOICE_MAP,
        "--date-format",
        "%m/%d/%Y",
        "--dry-run",
    )

    assert "Ignored column(s) not used by this import: Memo" in out


def test_importing_the_whole_export_again_changes_nothing(imported):
    again = [
        import_csv(
            "invoices",
            HERE / "foreign_invoices.csv",
            "--map",
            INVOICE_MAP,
            "--date-format",
            "%m/%d/%Y",
        ),
        import_csv(
            "payments",
            HERE / "foreign_payments.csv",
            "--map",
            PAYMENT_MAP,
            "--date-format",
            "%m/%d/%Y",
        ),
    ]

    assert all("0 created, 0 updated" in out for out in again)
    assert dict(Invoice.objects.values_list("number", "open_balance")) == expected_balances()
