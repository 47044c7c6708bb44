import datetime as dt
from decimal import Decimal

import pytest

from invoices.services import dispute_open, payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.charts import bar_chart
from reports.selectors import aging_by_currency

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)


def owes(days: int, amount: str, customer=None):
    due = TODAY - dt.timedelta(days=days)
    return InvoiceFactory(
        customer=customer or CustomerFactory(),
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
    )


def amounts(row):
    return [str(amount) for amount in row.amounts]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-10, 0), (0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (400, 4)],
)
def test_an_invoice_falls_in_the_bucket_of_its_days_past_due(days, bucket):
    owes(days, "100.00")

    [row] = aging_by_currency(as_of=TODAY)

    assert row.amounts.index(Decimal("100.00")) == bucket


def test_it_ages_each_currency_separately():
    owes(5, "100.00", CustomerFactory(currency="GBP"))
    owes(45, "70.00", CustomerFactory(currency="EUR"))

    rows = aging_by_currency(as_of=TODAY)

    assert [(row.currency, amounts(row)) for row in rows] == [
        ("EUR", ["0.00", "0.00", "70.00", "0.00", "0.00"]),
        ("GBP", ["0.00", "100.00", "0.00", "0.00", "0.00"]),
    ]


def test_it_ages_the_open_balance_not_the_invoice_amount():
    invoice = owes(5, "100.00")
    payment_record(
        actor=None,
        customer=invoice.customer,
        amount=Decimal("30.00"),
        received_on=TODAY,
        allocations=[(invoice, Decimal("30.00"))],
    )

    [row] = aging_by_currency(as_of=TODAY)

    assert row.total == Decimal("70.00")


def test_it_leaves_out_paid_invoices_and_keeps_disputed_ones():
    paid = owes(5, "100.00")
    payment_record(
        actor=None,
        customer=paid.customer,
        amount=Decimal("100.00"),
        received_on=TODAY,
        allocations=[(paid, Decimal("100.00"))],
    )
    disputed = owes(5, "40.00")
    dispute_open(actor=None, invoice=disputed, reason="pricing", opened_on=TODAY)

    [row] = aging_by_currency(as_of=TODAY)

    assert row.total == Decimal("40.00")


def test_it_runs_one_query(django_assert_num_queries):
    owes(5, "100.00", CustomerFactory(currency="GBP"))
    owes(45, "70.00", CustomerFactory(currency="EUR"))

    with django_assert_num_queries(1):
        aging_by_currency(as_of=TODAY)


def test_bars_are_scaled_to_the_largest_value():
    chart = bar_chart(["a", "b"], [Decimal("50"), Decimal("200")])

    assert [bar.length for bar in chart.bars] == [chart.max_length / 4, chart.max_length]


def test_all_zero_values_draw_empty_bars():
    chart = bar_chart(["a", "b"], [Decimal("0"), Decimal("0")])

    assert [bar.length for bar in chart.bars] == [0, 0]
