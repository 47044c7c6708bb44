import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.cache import forget_all
from reports.charts import COLOURS

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
    # Each bar carries its colour, which the PDF renderer needs (it ignores the page's CSS).
    assert f'class="bar-1" fill="{COLOURS["bar-1"]}"' in response.text


def test_the_dashboard_says_so_when_nothing_is_open(manager_client):
    response = manager_client.get(reverse("reports:dashboard"))

    assert "No open invoices" in response.text


def test_the_dashboard_costs_the_same_queries_for_few_and_many_invoices(manager_client):
    def queries_for(count):
        for days in range(count):
            # Issued over several months: stored month figures are forgotten and refilled.
            owes(days * 3, "10.00", currency=["GBP", "EUR"][days % 2])
        forget_all()  # nothing kept from the previous request
        with CaptureQueriesContext(connection) as captured:
            manager_client.get(reverse("reports:dashboard"))
        return len(captured)

    assert queries_for(5) == queries_for(45)


def paid(invoice, on, amount=None):
    from invoices.services import payment_record

    payment_record(
        actor=None,
        customer=invoice.customer,
        amount=amount or invoice.amount,
        received_on=on,
        allocations=[(invoice, amount or invoice.amount)],
    )


def test_as_of_a_past_date_an_invoice_paid_since_is_still_open(manager_client):
    invoice = owes(45, "1200.00")
    paid(invoice, dt.date(2026, 3, 10))

    today = manager_client.get(reverse("reports:dashboard"))
    before = manager_client.get(reverse("reports:dashboard"), {"as_of": "2026-03-01"})

    assert "No open invoices" in today.text
    assert "£1,200.00" in before.text and "As of 1 Mar 2026" in before.text


def test_a_bucket_drills_down_to_its_invoices_with_their_balance_then(manager_client):
    invoice = owes(45, "1200.00")
    paid(invoice, dt.date(2026, 3, 10), Decimal("200.00"))
    owes(5, "70.00")

    response = manager_client.get(
        reverse("reports:aging_drill"), {"bucket": "31-60", "as_of": "2026-03-15"}
    )

    assert [i.number for i in response.context["page"].object_list] == [invoice.number]
    assert "£1,000.00" in response.text


def test_a_date_in_the_future_is_refused_with_a_message(manager_client):
    owes(45, "1200.00")

    response = manager_client.get(reverse("reports:dashboard"), {"as_of": "2027-01-01"})

    assert "As of was ignored: Reports look back" in response.text
    assert "As of 15 Mar 2026" in response.text


def test_the_aging_csv_holds_the_figures_of_the_page(manager_client):
    owes(45, "1200.00")
    owes(100, "80.00", currency="EUR")

    response = manager_client.get(reverse("reports:export", args=["aging", "csv"]))

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0].startswith("as_of,group,currency,current amount,1-30 amount")
    assert "2026-03-15,GBP,GBP,0.00,0.00,1200.00,0.00,0.00" in lines[2]
    assert "2026-03-15,EUR,EUR,0.00,0.00,0.00,0.00,80.00" in lines[1]


def test_the_metrics_export_is_a_real_pdf(manager_client):
    owes(45, "1200.00")

    response = manager_client.get(reverse("reports:export", args=["metrics", "pdf"]))

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_collector_cannot_see_the_dashboard_or_its_exports(collector_client):
    for url in (reverse("reports:dashboard"), reverse("reports:export", args=["aging", "csv"])):
        assert collector_client.get(url).status_code == 403


def test_the_most_bucket_edges_allowed_draw_a_bar_for_every_bucket(manager_client):
    owes(200, "75.00")

    response = manager_client.get(reverse("reports:dashboard"), {"edges": "15,30,45,60,90,180"})

    assert response.status_code == 200
    assert response.text.count('class="bar-track"') == 8  # current, six edges, and beyond
    assert "180+" in response.text
