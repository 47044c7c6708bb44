"""The drill-down from an aging bucket: its total per currency and its CSV."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.selectors import PAGE_SIZE
from invoices.services import payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)
DRILL_CSV = reverse("reports:export", args=["aging-invoices", "csv"])


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC), tick=False)


def owes(days_late: int, amount: str, *, currency="GBP", customer=None, number=None):
    due = TODAY - dt.timedelta(days=days_late)
    extra = {"number": number} if number else {}
    return InvoiceFactory(
        customer=customer or CustomerFactory(currency=currency),
        due_date=due,
        issue_date=due - dt.timedelta(days=30),
        amount=Decimal(amount),
        **extra,
    )


def drill(client, **params):
    return client.get(reverse("reports:aging_drill"), {"bucket": "31-60", **params})


def download(client, **params) -> list[list[str]]:
    response = client.get(DRILL_CSV, {"bucket": "31-60", **params})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_drill_down_totals_its_bucket_per_currency(manager_client):
    owes(40, "1200.00")
    owes(50, "300.00")
    owes(45, "80.00", currency="EUR")
    owes(5, "999.00")  # another bucket

    response = drill(manager_client)

    assert response.context["totals"] == [
        ("EUR", Decimal("80.00"), 1),
        ("GBP", Decimal("1500.00"), 2),
    ]
    assert "Total EUR · 1 invoice" in response.text and "€80.00" in response.text
    assert "Total GBP · 2 invoices" in response.text and "£1,500.00" in response.text


def test_the_drill_down_total_covers_every_page(manager_client):
    customer = CustomerFactory()
    for _ in range(PAGE_SIZE + 1):
        owes(40, "10.00", customer=customer)

    response = drill(manager_client)

    assert len(response.context["page"].object_list) == PAGE_SIZE
    assert f"Total GBP · {PAGE_SIZE + 1} invoices, on every page" in response.text
    assert "£510.00" in response.text


def test_the_drill_down_total_is_the_balance_on_the_chosen_date(manager_client):
    invoice = owes(45, "1200.00")
    payment_record(
        actor=None,
        customer=invoice.customer,
        amount=Decimal("200.00"),
        received_on=dt.date(2026, 3, 10),
        allocations=[(invoice, Decimal("200.00"))],
    )

    before = drill(manager_client, as_of="2026-03-05")
    today = drill(manager_client)

    assert before.context["totals"] == [("GBP", Decimal("1200.00"), 1)]
    assert today.context["totals"] == [("GBP", Decimal("1000.00"), 1)]


def test_the_drill_down_downloads_every_invoice_as_csv(manager_client):
    customer = CustomerFactory(name="Harbour Foods Ltd", external_id="H-1")
    owes(40, "1200.00", customer=customer, number="INV-1")
    owes(50, "300.50", customer=customer, number="INV-2")
    owes(5, "999.00", customer=customer)  # another bucket

    rows = download(manager_client)

    assert rows[0] == [
        "as_of",
        "bucket",
        "invoice",
        "customer",
        "customer_external_id",
        "collector",
        "issue_date",
        "due_date",
        "days_late",
        "currency",
        "balance_then",
        "amount",
    ]
    # Oldest due first, as on the page; ISO dates and plain amounts, as in the other exports.
    assert rows[1] == [
        "2026-03-15",
        "31-60",
        "INV-2",
        "Harbour Foods Ltd",
        "H-1",
        "",
        "2025-12-25",
        "2026-01-24",
        "50",
        "GBP",
        "300.50",
        "300.50",
    ]
    assert [row[2] for row in rows[1:]] == ["INV-2", "INV-1"]


def test_the_drill_down_csv_holds_what_the_filters_chose(manager_client, collector):
    collector.first_name, collector.last_name = "Colin", "Hart"
    collector.save()
    owes(40, "1200.00", customer=CustomerFactory(collector=collector), number="INV-MINE")
    owes(40, "300.00", number="INV-OTHER")
    owes(40, "80.00", customer=CustomerFactory(collector=collector, currency="EUR"))

    rows = download(manager_client, collector=str(collector.pk), currency="GBP")

    assert [row[2] for row in rows[1:]] == ["INV-MINE"]
    assert rows[1][5] == "Colin Hart"


def test_the_drill_down_csv_does_not_hand_a_spreadsheet_a_formula(manager_client):
    owes(40, "10.00", customer=CustomerFactory(name='=HYPERLINK("http://evil","x")'))

    rows = download(manager_client)

    assert rows[1][3] == '\'=HYPERLINK("http://evil","x")'


def test_the_drill_down_csv_costs_the_same_queries_for_few_and_many_invoices(
    manager_client, collector
):
    def queries_for(count):
        for _ in range(count):
            owes(40, "10.00", customer=CustomerFactory(collector=collector))
        with CaptureQueriesContext(connection) as captured:
            download(manager_client)
        return len(captured)

    assert queries_for(2) == queries_for(20)


def test_an_unknown_bucket_has_no_csv(manager_client):
    assert manager_client.get(DRILL_CSV, {"bucket": "nope"}).status_code == 404


def test_a_collector_cannot_download_the_drill_down(collector_client):
    assert collector_client.get(DRILL_CSV, {"bucket": "31-60"}).status_code == 403


def test_the_drill_down_links_its_csv_with_the_same_filters(manager_client):
    owes(40, "10.00")

    response = drill(manager_client, as_of="2026-03-10", currency="GBP", page="1")

    assert f"{DRILL_CSV}?bucket=31-60&amp;as_of=2026-03-10&amp;currency=GBP" in response.text
