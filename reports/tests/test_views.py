import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    time_machine.move_to(dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC), tick=False)


def owes(days: int, amount: str, currency="GBP"):
    due = dt.date(2026, 3, 15) - dt.timedelta(days=days)
    return InvoiceFactory(
        customer=CustomerFactory(currency=currency),
        due_date=due,
        issue_date=due - dt.timedelta(days=30),
        amount=Decimal(amount),
    )


def test_the_dashboard_shows_aging_per_currency(manager_client):
    owes(45, "1200.00")
    owes(100, "80.00", currency="EUR")

    response = manager_client.get(reverse("reports:dashboard"))

    assert "£1,200.00" in response.text and "€80.00" in response.text
    assert "As of 15 Mar 2026" in response.text


def test_the_dashboard_draws_a_chart_per_currency(manager_client):
    owes(45, "1200.00")
    owes(100, "80.00", currency="EUR")

    response = manager_client.get(reverse("reports:dashboard"))

    assert response.text.count('<svg class="chart"') == 2


def test_the_dashboard_says_so_when_nothing_is_open(manager_client):
    response = manager_client.get(reverse("reports:dashboard"))

    assert "No open invoices" in response.text


def test_the_dashboard_costs_the_same_queries_for_few_and_many_invoices(manager_client):
    def queries_for(count):
        for days in range(count):
            owes(days, "10.00", currency=["GBP", "EUR"][days % 2])
        with CaptureQueriesContext(connection) as captured:
            manager_client.get(reverse("reports:dashboard"))
        return len(captured)

    assert queries_for(5) == queries_for(45)
