"""Past days kept by PostgreSQL (reports.history) agree with the ledger: the aging of a past
day and the months' sales and AR read from the kept days equal what the invoices and their
allocations give. Every write of test_rollup checks them as well (assert_history_agrees);
here are the writes that only the past sees: allocations dated back, an invoice issued
later than it was paid, a new issue date under its payments, folds and rebuilds."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.models import Allocation, Invoice
from invoices.services import invoice_create, invoice_update, payment_record
from invoices.tests.factories import CustomerFactory
from reports import history, metrics
from reports.aging import aging, buckets_for
from reports.models import OpenHistory, OpenHistoryChange

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="past days are kept by PostgreSQL triggers; on SQLite aging reads the invoices",
    ),
    pytest.mark.django_db,
]

TODAY = dt.date(2026, 3, 15)
BUCKETS = buckets_for()
D = Decimal


def _aging(day: dt.date, today: dt.date) -> list[tuple]:
    rows = aging(as_of=day, today=today, buckets=BUCKETS)
    return [(r.currency, r.counts, r.amounts, r.count, r.total) for r in rows]


def _from_invoices(read, *args, **kwargs):
    """What read answers when the kept days are not there: from the invoices."""
    with mock.patch.object(history, "available", return_value=False):
        return read(*args, **kwargs)


def assert_history_agrees(today: dt.date) -> None:
    """The kept days equal the ledger's, and so do a past day's aging and the months'
    figures a manager sees, in every currency."""
    assert history.differences() == []
    for back in (1, 20, 45, 100, 200):
        day = today - dt.timedelta(days=back)
        assert _aging(day, today) == _from_invoices(_aging, day, today)
    for currency in Invoice.objects.values_list("currency", flat=True).distinct():
        for as_of in (today, today - dt.timedelta(days=50)):
            figures = metrics.monthly_figures(as_of=as_of, currency=currency, months=6)
            assert figures == _from_invoices(
                metrics.monthly_figures, as_of=as_of, currency=currency, months=6
            )


@pytest.fixture
def acme():
    return CustomerFactory(external_id="ACME", currency="GBP")


def _invoice(customer, number, issued, due, amount="100.00"):
    return invoice_create(
        actor=None,
        customer=customer,
        number=number,
        issue_date=issued,
        due_date=due,
        amount=D(amount),
    )


def _pay(customer, invoice, amount, on):
    return payment_record(
        actor=None,
        customer=customer,
        amount=D(amount),
        received_on=on,
        allocations=[(invoice, D(amount))],
    )


@pytest.fixture
def paid_over_time(acme):
    """Invoices paid in parts on days in the past, one closed, one open still."""
    first = _invoice(acme, "H-1", TODAY - dt.timedelta(days=150), TODAY - dt.timedelta(120))
    second = _invoice(
        acme, "H-2", TODAY - dt.timedelta(days=90), TODAY - dt.timedelta(60), "250.50"
    )
    _pay(acme, first, "40.00", TODAY - dt.timedelta(days=110))
    _pay(acme, first, "60.00", TODAY - dt.timedelta(days=70))
    _pay(acme, second, "100.25", TODAY - dt.timedelta(days=30))
    return first, second


def test_a_past_day_shows_what_was_open_then(acme, paid_over_time):
    first, second = paid_over_time
    by_day = {
        back: {row[0]: row[4] for row in _aging(TODAY - dt.timedelta(days=back), TODAY)}
        for back in (140, 100, 80, 50, 10)
    }

    assert by_day[140] == {"GBP": D("100.00")}
    assert by_day[100] == {"GBP": D("60.00")}  # 40 paid; the second not issued yet
    assert by_day[80] == {"GBP": D("60.00") + D("250.50")}
    assert by_day[50] == {"GBP": D("250.50")}  # the first closed
    assert by_day[10] == {"GBP": D("150.25")}
    assert_history_agrees(TODAY)


def test_the_kept_days_answer_without_reading_the_invoices(acme, paid_over_time):
    history.fold()
    with CaptureQueriesContext(connection) as queries:
        rows = _aging(TODAY - dt.timedelta(days=80), TODAY)

    assert rows and rows[0][4] == D("310.50")
    assert not [q for q in queries.captured_queries if Invoice._meta.db_table in q["sql"]]


def test_a_payment_dated_before_the_invoice_counts_from_the_issue_date(acme):
    invoice = _invoice(acme, "H-3", TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(10))
    _pay(acme, invoice, "30.00", TODAY - dt.timedelta(days=60))
    _pay(acme, invoice, "70.00", TODAY - dt.timedelta(days=50))  # closed before it was issued

    assert _aging(TODAY - dt.timedelta(days=55), TODAY) == []
    assert _aging(TODAY - dt.timedelta(days=20), TODAY) == []
    assert_history_agrees(TODAY)


def test_a_new_issue_date_or_due_date_under_payments_moves_them(acme, paid_over_time):
    first, second = paid_over_time
    # Issued after its payment now: the payment counts from the new issue date.
    invoice_update(
        actor=None,
        invoice=second,
        issue_date=TODAY - dt.timedelta(days=20),
        due_date=TODAY + dt.timedelta(days=10),
    )
    assert_history_agrees(TODAY)

    invoice_update(
        actor=None,
        invoice=second,
        issue_date=TODAY - dt.timedelta(days=95),
        due_date=TODAY - dt.timedelta(days=5),
        amount=D("300.00"),
    )
    assert_history_agrees(TODAY)


def test_a_changed_allocation_and_a_deleted_one(acme, paid_over_time):
    """Writes outside the services (a repair in the database) are kept too."""
    first, second = paid_over_time
    allocation = Allocation.objects.get(invoice=second)
    Allocation.objects.filter(pk=allocation.pk).update(
        applied_on=TODAY - dt.timedelta(days=80), amount=D("50.00")
    )
    assert_history_agrees(TODAY)

    Allocation.objects.filter(invoice=first, amount=D("60.00")).delete()
    assert_history_agrees(TODAY)


def test_a_fold_and_a_rebuild_keep_the_figures(acme, paid_over_time):
    before = _aging(TODAY - dt.timedelta(days=100), TODAY)
    assert OpenHistoryChange.objects.exists()

    assert history.fold()
    assert not OpenHistoryChange.objects.exists()
    assert OpenHistory.objects.exists()
    assert _aging(TODAY - dt.timedelta(days=100), TODAY) == before

    OpenHistory.objects.all().delete()
    assert history.differences() != []  # the check can fail
    history.rebuild()
    assert history.differences() == []
    assert _aging(TODAY - dt.timedelta(days=100), TODAY) == before


def test_the_dashboard_a_year_back_reads_the_kept_days(acme, paid_over_time, manager_client):
    """The page, as a manager asks for it, shows the past day's aging of the kept days."""
    response = manager_client.get(
        reverse("reports:dashboard"), {"as_of": (TODAY - dt.timedelta(days=80)).isoformat()}
    )

    assert response.status_code == 200
    assert "310.50" in response.content.decode()
