import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from invoices.services import payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(dt.datetime(2025, 4, 10, 12, tzinfo=dt.UTC), tick=False)


def invoice(issued, due, amount, currency="EUR"):
    return InvoiceFactory(
        customer=CustomerFactory(currency=currency),
        issue_date=dt.date.fromisoformat(issued),
        due_date=dt.date.fromisoformat(due),
        amount=Decimal(amount),
    )


def report(*args):
    out = StringIO()
    call_command("ar_report", *args, stdout=out)
    return out.getvalue()


def test_it_prints_aging_and_metrics_for_the_month_ending_on_the_date():
    # March 2025 (31 days): sales 1,000 + 500 = 1,500; at 31 Mar the 1,000 invoice is
    # 16 days late and the 500 one is current. AR 1,500 → DSO 1,500 / 1,500 × 31 = 31.0;
    # best possible 500 / 1,500 × 31 = 10.3; ADD 20.7; CEI: opening 0, nothing collected,
    # (0 + 1,500 − 1,500) / (0 + 1,500 − 500) = 0.0.
    invoice("2025-03-01", "2025-03-15", "1000.00")
    invoice("2025-03-20", "2025-04-19", "500.00")
    late = invoice("2025-03-02", "2025-03-10", "40.00", currency="GBP")
    payment_record(
        actor=None,
        customer=late.customer,
        amount=Decimal("40.00"),
        received_on=dt.date(2025, 3, 31),
        allocations=[(late, Decimal("40.00"))],
    )

    data = json.loads(report("--as-of", "2025-03-31", "--currency", "EUR"))

    assert data["as_of"] == "2025-03-31" and data["currency"] == "EUR"
    assert data["buckets"][0] == {"label": "current", "count": 1, "amount": "500.00"}
    assert data["buckets"][1] == {"label": "1-30", "count": 1, "amount": "1000.00"}
    assert data["total_open"] == "1500.00"
    assert (data["dso"], data["best_possible_dso"], data["add"], data["cei"]) == (
        31.0,
        10.3,
        20.7,
        0.0,
    )


def test_csv_has_a_row_per_currency():
    invoice("2025-03-01", "2025-03-15", "1000.00")
    invoice("2025-03-01", "2025-03-15", "70.00", currency="GBP")

    lines = report("--as-of", "2025-03-31", "--format", "csv").splitlines()

    assert lines[0].startswith("as_of,currency,current count")
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["EUR", "GBP"]


def test_a_wrong_date_is_refused_with_a_message():
    with pytest.raises(CommandError, match="not a date"):
        report("--as-of", "31/03/2025")
    with pytest.raises(CommandError, match="future"):
        report("--as-of", "2030-01-01")
