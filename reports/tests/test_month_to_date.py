"""The month that is still running is shown as such, not as a collapse of the trends."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.metrics import monthly_figures

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 3)  # a month three days old


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC), tick=False)


@pytest.fixture
def ledger():
    customer = CustomerFactory()
    for issued in (dt.date(2026, 1, 5), dt.date(2026, 2, 5), dt.date(2026, 3, 2)):
        InvoiceFactory(customer=customer, issue_date=issued, amount=Decimal("500.00"))


def test_a_month_is_partial_until_its_last_day(ledger):
    *_, february, march = monthly_figures(as_of=TODAY, currency="GBP", months=3)
    [last_day] = monthly_figures(as_of=dt.date(2026, 2, 28), currency="GBP", months=1)

    assert (february.partial, march.partial, last_day.partial) == (False, True, False)


def test_the_dashboard_marks_the_month_to_date_in_its_table_and_charts(manager_client, ledger):
    response = manager_client.get(reverse("reports:dashboard"))

    assert '3 Mar 2026 <span class="muted">(month to date)</span>' in response.text
    assert "The month to date (3 days, to 3 Mar 2026) is drawn as a hollow point" in response.text
    # Both charts of the one currency: DSO's four series and CEI's one.
    assert response.text.count('<circle class="partial"') == 5


def test_a_month_that_has_ended_is_drawn_like_the_others(manager_client, ledger):
    response = manager_client.get(reverse("reports:dashboard"), {"as_of": "2026-02-28"})

    assert "month to date" not in response.text
    assert 'class="partial"' not in response.text


def test_the_metrics_csv_says_which_month_is_to_date(manager_client, ledger):
    response = manager_client.get(reverse("reports:export", args=["metrics", "csv"]))

    lines = response.content.decode().splitlines()
    assert lines[0].endswith(",cei,month_to_date")
    assert lines[-1].startswith("2026-03-03,GBP") and lines[-1].endswith(",yes")
    assert lines[-2].startswith("2026-02-28,GBP") and lines[-2].endswith(",no")
