import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.services import credit_note_issue, dispute_open, payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    time_machine.move_to(dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC), tick=False)


def invoice_due(days_ago: int, **fields):
    due = TODAY - dt.timedelta(days=days_ago)
    return InvoiceFactory(issue_date=due - dt.timedelta(days=30), due_date=due, **fields)


def listed(response):
    return [invoice.number for invoice in response.context["page"].object_list]


def get_list(client, **params):
    return client.get(reverse("invoice_list"), params)


def pay_in_full(invoice, actor):
    payment_record(
        actor=actor,
        customer=invoice.customer,
        amount=invoice.amount,
        received_on=TODAY,
        allocations=[(invoice, invoice.amount)],
    )


def test_it_lists_outstanding_invoices_oldest_due_first_by_default(collector_client, collector):
    newer = invoice_due(3, number="INV-NEW")
    older = invoice_due(40, number="INV-OLD")
    pay_in_full(invoice_due(10, number="INV-PAID"), collector)

    response = get_list(collector_client)

    assert listed(response) == [older.number, newer.number]


def test_it_filters_by_status(collector_client, collector):
    invoice_due(3, number="INV-OPEN")
    pay_in_full(invoice_due(10, number="INV-PAID"), collector)

    response = get_list(collector_client, status="paid")

    assert listed(response) == ["INV-PAID"]


def test_it_can_show_every_status(collector_client, collector):
    invoice_due(3, number="INV-OPEN")
    pay_in_full(invoice_due(10, number="INV-PAID"), collector)

    response = get_list(collector_client, status="all")

    assert set(listed(response)) == {"INV-OPEN", "INV-PAID"}


def test_it_shows_invoices_in_dispute(collector_client, collector):
    disputed = invoice_due(3, number="INV-DISPUTED")
    invoice_due(3, number="INV-OPEN")
    dispute_open(actor=collector, invoice=disputed, reason="pricing", opened_on=TODAY)

    response = get_list(collector_client, status="in_dispute")

    assert listed(response) == ["INV-DISPUTED"]
    assert "In dispute" in response.text


@pytest.mark.parametrize(
    ("overdue", "expected"),
    [
        ("not_due", ["D0", "D-5"]),
        ("1_30", ["D30", "D1"]),
        ("31_60", ["D60", "D31"]),
        ("61_90", ["D90", "D61"]),
        ("90_plus", ["D91"]),
    ],
)
def test_it_filters_by_overdue_range(collector_client, overdue, expected):
    for days in [-5, 0, 1, 30, 31, 60, 61, 90, 91]:
        invoice_due(days, number=f"D{days}")

    response = get_list(collector_client, overdue=overdue)

    assert listed(response) == expected


def test_it_leaves_settled_invoices_out_of_overdue_ranges(collector_client, collector):
    pay_in_full(invoice_due(10, number="INV-PAID"), collector)

    response = get_list(collector_client, status="all", overdue="1_30")

    assert listed(response) == []


def test_it_finds_invoices_by_customer_name(collector_client):
    invoice_due(3, number="INV-H", customer=CustomerFactory(name="Harbour Foods Ltd"))
    invoice_due(3, number="INV-P", customer=CustomerFactory(name="Pine Joinery"))

    response = get_list(collector_client, q="harbour")

    assert listed(response) == ["INV-H"]


def test_it_finds_an_invoice_by_number(collector_client):
    invoice_due(3, number="INV-77")
    invoice_due(3, number="INV-78")

    response = get_list(collector_client, q="inv-77")

    assert listed(response) == ["INV-77"]


def test_it_filters_by_one_customer(collector_client):
    customer = CustomerFactory(name="Harbour Foods Ltd")
    invoice_due(3, number="INV-H", customer=customer)
    invoice_due(3, number="INV-P")

    response = get_list(collector_client, customer=customer.pk)

    assert listed(response) == ["INV-H"]
    assert "Harbour Foods Ltd" in response.text


def test_it_filters_by_currency(collector_client):
    invoice_due(3, number="INV-EUR", customer=CustomerFactory(currency="EUR"))
    invoice_due(3, number="INV-GBP")

    response = get_list(collector_client, currency="EUR")

    assert listed(response) == ["INV-EUR"]


def test_it_shows_days_overdue(collector_client):
    invoice_due(17)

    response = get_list(collector_client)

    assert response.context["page"].object_list[0].days_late == 17
    assert '<tdclass="num">17</td>' in re.sub(r"\s+", "", response.text)


def test_it_sorts_newest_due_first_when_asked(collector_client):
    invoice_due(40, number="INV-OLD")
    invoice_due(3, number="INV-NEW")

    response = get_list(collector_client, sort="-due")

    assert listed(response) == ["INV-NEW", "INV-OLD"]


def test_it_shows_fifty_invoices_a_page(collector_client):
    customer = CustomerFactory()
    for days in range(51):
        invoice_due(days, customer=customer)

    second = get_list(collector_client, page=2)

    assert len(second.context["page"].object_list) == 1
    assert "51–51 of 51 invoices" in second.text


def test_it_answers_an_htmx_request_with_just_the_table(collector_client):
    invoice_due(3, number="INV-1")

    response = collector_client.get(reverse("invoice_list"), HTTP_HX_REQUEST="true")

    assert "INV-1" in response.text and "<html" not in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"overdue": "nonsense"},
        {"status": "lost"},
        {"page": "abc"},
        {"customer": "x"},
        {"currency": "XXX"},
    ],
)
def test_it_ignores_a_bad_filter_value(collector_client, params):
    invoice_due(3, number="INV-1")

    response = get_list(collector_client, **params)

    assert response.status_code == 200
    assert listed(response) == ["INV-1"]


def test_the_list_costs_the_same_queries_for_5_and_50_invoices(collector_client):
    def queries_for(count):
        for days in range(count):
            invoice_due(days, customer=CustomerFactory())
        with CaptureQueriesContext(connection) as captured:
            response = get_list(collector_client, overdue="1_30")
        assert response.status_code == 200
        return len(captured)

    assert queries_for(5) == queries_for(45)


# --- one invoice ------------------------------------------------------------------------


def test_the_invoice_page_shows_what_was_applied(collector_client, collector):
    invoice = invoice_due(10, amount=Decimal("300.00"))
    payment_record(
        actor=collector,
        customer=invoice.customer,
        amount=Decimal("100.00"),
        received_on=TODAY,
        reference="BACS-42",
        allocations=[(invoice, Decimal("100.00"))],
    )
    credit_note_issue(
        actor=collector,
        invoice=invoice,
        amount=Decimal("50.00"),
        reason="Damaged pallet",
        issued_on=TODAY,
    )

    response = collector_client.get(reverse("invoice_detail", args=[invoice.pk]))

    assert "BACS-42" in response.text and "Damaged pallet" in response.text
    assert "£150.00" in response.text  # open balance left


def test_the_invoice_page_shows_its_disputes_and_timeline(collector_client, collector):
    invoice = invoice_due(10)
    dispute_open(
        actor=collector,
        invoice=invoice,
        reason="quality",
        opened_on=TODAY,
        detail="Scratched panels",
    )

    response = collector_client.get(reverse("invoice_detail", args=[invoice.pk]))

    assert "Scratched panels" in response.text
    assert "ledger.dispute.opened" in response.text


def test_an_unknown_invoice_is_not_found(collector_client):
    assert collector_client.get(reverse("invoice_detail", args=[424242])).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/invoices/?customer=99999999999999999999999&page=99999999999999999999",
        "/invoices/?overdue=%00&status=%ff&sort=;drop",
        "/invoices/?q=" + "x" * 500,
        "/customers/?collector=99999999999999999999999&has_overdue=maybe&flag=on_hold",
        "/customers/?sort=-overdue&page=-1&currency=%E2%82%AC",
        "/queue/?page=99999999999999999999&collector=-1",
        "/customers/99999999999999999999999/",
        "/invoices/99999999999999999999999/",
    ],
)
def test_nonsense_in_the_address_never_breaks_a_page(admin_client_, url):
    invoice_due(3)

    assert admin_client_.get(url).status_code in (200, 404)
