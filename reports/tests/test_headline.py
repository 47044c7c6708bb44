"""The figures at the top of the dashboard, and its As of box."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.services import credit_note_issue, payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.cache import forget_all

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC), tick=False)


def owes(days_late: int, amount: str, *, currency="GBP", customer=None):
    """An invoice issued 30 days before its due date, days_late days ago (negative: not due)."""
    due = TODAY - dt.timedelta(days=days_late)
    return InvoiceFactory(
        customer=customer or CustomerFactory(currency=currency),
        due_date=due,
        issue_date=due - dt.timedelta(days=30),
        amount=Decimal(amount),
    )


def pay(invoice, amount: str, on: dt.date):
    payment_record(
        actor=None,
        customer=invoice.customer,
        amount=Decimal(amount),
        received_on=on,
        allocations=[(invoice, Decimal(amount))],
    )


def headline(client, **params) -> list:
    forget_all()  # each test's ledger, not a part kept by an earlier request
    response = client.get(reverse("reports:dashboard"), params)
    assert response.status_code == 200
    return response.context["board"].headline


def figure(html: str, label: str) -> str:
    """The figure shown under a headline label (the first, for several currencies)."""
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", html)
    assert found, f"no {label!r} figure"
    return found.group(1)


def test_the_headline_shows_total_overdue_and_its_share_of_receivables(manager_client):
    owes(45, "1200.00")
    owes(-10, "300.00")  # not due yet

    forget_all()
    response = manager_client.get(reverse("reports:dashboard"))

    assert figure(response.text, "Total overdue") == "£1,200.00"
    assert figure(response.text, "Share of receivables overdue") == "80.0%"


def test_the_headline_keeps_each_currency_apart(manager_client):
    owes(45, "1200.00")
    owes(10, "80.00", currency="EUR")

    [eur, gbp] = headline(manager_client)

    assert (eur.currency, eur.overdue) == ("EUR", Decimal("80.00"))
    assert (gbp.currency, gbp.overdue) == ("GBP", Decimal("1200.00"))


def test_collected_this_month_counts_payments_but_not_last_month_or_credit_notes(
    manager_client,
):
    invoice = owes(45, "1200.00")
    pay(invoice, "100.00", dt.date(2026, 2, 27))
    pay(invoice, "250.00", dt.date(2026, 3, 2))
    credit_note_issue(
        actor=None, invoice=invoice, amount=Decimal("50.00"), reason="x", issued_on=TODAY
    )

    forget_all()
    response = manager_client.get(reverse("reports:dashboard"))

    assert figure(response.text, "Collected since 1 Mar 2026") == "£250.00"


def test_collected_follows_the_as_of_date_back_to_its_own_month(manager_client):
    invoice = owes(45, "1200.00")
    pay(invoice, "100.00", dt.date(2026, 2, 10))
    pay(invoice, "250.00", dt.date(2026, 2, 27))

    [gbp] = headline(manager_client, as_of="2026-02-20")

    assert gbp.collected == Decimal("100.00")


def test_the_headline_follows_the_collector_filter(manager_client, collector):
    mine = CustomerFactory(collector=collector)
    pay(owes(45, "1200.00", customer=mine), "200.00", dt.date(2026, 3, 3))
    pay(owes(45, "5000.00"), "900.00", dt.date(2026, 3, 3))  # nobody's customer

    [gbp] = headline(manager_client, collector=str(collector.pk))

    assert (gbp.overdue, gbp.collected) == (Decimal("1000.00"), Decimal("200.00"))


def test_dso_now_is_the_countback_dso_of_the_month_to_date(manager_client):
    owes(45, "1200.00")
    owes(-10, "300.00")

    forget_all()
    response = manager_client.get(reverse("reports:dashboard"))

    board = response.context["board"]
    [gbp] = board.headline
    assert gbp.dso is not None
    assert gbp.dso == board.trends[0]["months"][-1].countback_dso
    assert figure(response.text, "DSO now") == f"{gbp.dso} days"


def test_dso_now_says_which_currencies_it_was_not_worked_out_for(manager_client):
    for currency in ("CHF", "EUR", "GBP", "USD"):  # trends are drawn for the first three
        owes(45, "100.00", currency=currency)

    forget_all()
    response = manager_client.get(reverse("reports:dashboard"))

    usd = response.context["board"].headline[-1]
    assert (usd.currency, usd.dso) == ("USD", None)
    assert "not worked out for USD: choose that currency to see it" in response.text


def test_choosing_a_currency_shows_its_figures_alone(manager_client):
    owes(45, "1200.00")
    owes(45, "80.00", currency="EUR")

    [only] = headline(manager_client, currency="EUR")

    assert (only.currency, only.overdue) == ("EUR", Decimal("80.00"))
    assert only.dso is not None


def test_with_nothing_open_and_nothing_collected_the_headline_says_so(manager_client):
    forget_all()
    response = manager_client.get(reverse("reports:dashboard"))

    assert "Nothing open and nothing collected since 1 Mar 2026" in response.text


def test_the_headline_costs_no_query_once_the_slow_parts_are_kept(manager_client):
    def queries_for(count):
        for days in range(count):
            invoice = owes(days * 3, "10.00", currency=["GBP", "EUR"][days % 2])
            pay(invoice, "1.00", dt.date(2026, 3, 1) + dt.timedelta(days=days % 14))
        manager_client.get(reverse("reports:dashboard"))  # keeps the slow parts
        with CaptureQueriesContext(connection) as captured:
            manager_client.get(reverse("reports:dashboard"))
        return len(captured)

    assert queries_for(4) == queries_for(40)


# --- As of ----------------------------------------------------------------------------


def as_of_box(html: str) -> str:
    found = re.search(r'<input[^>]*name="as_of"[^>]*>', html)
    assert found, "no As of box"
    return found.group(0)


def test_as_of_shows_today_when_the_dashboard_opens(manager_client):
    response = manager_client.get(reverse("reports:dashboard"))

    assert 'value="2026-03-15"' in as_of_box(response.text)


def test_as_of_shows_today_when_other_filters_leave_it_empty(manager_client):
    response = manager_client.get(reverse("reports:dashboard"), {"as_of": "", "period": "90"})

    assert 'value="2026-03-15"' in as_of_box(response.text)
    assert "was ignored" not in response.text


def test_as_of_keeps_a_past_date_and_offers_no_future_one(manager_client):
    response = manager_client.get(reverse("reports:dashboard"), {"as_of": "2025-12-31"})

    box = as_of_box(response.text)
    assert 'value="2025-12-31"' in box and 'max="2026-03-15"' in box
    assert response.context["board"].as_of == dt.date(2025, 12, 31)
