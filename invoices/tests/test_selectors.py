import datetime as dt
from decimal import Decimal

import pytest

from invoices.models import Customer
from invoices.selectors import (
    CappedPaginator,
    customer_balances,
    customers_search,
    invoices_search,
    page_number,
)
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)


def owes(customer, *, days: int, amount: str):
    due = TODAY - dt.timedelta(days=days)
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
    )


def test_balances_for_a_page_count_only_outstanding_money():
    customer = CustomerFactory()
    owes(customer, days=5, amount="100.00")
    owes(customer, days=-5, amount="60.00")

    [shown] = customer_balances(Customer.objects.all(), as_of=TODAY)

    assert (shown.open_total, shown.overdue_total, shown.days_late) == (
        Decimal("160.00"),
        Decimal("100.00"),
        5,
    )


def test_a_customer_owing_nothing_shows_zeros():
    [shown] = customer_balances([CustomerFactory()], as_of=TODAY)

    assert (shown.open_total, shown.overdue_total, shown.days_late) == (0, 0, 0)


def test_the_paginator_stops_counting_at_its_cap():
    CustomerFactory.create_batch(7)

    paginator = CappedPaginator(Customer.objects.order_by("name"), per_page=2, cap=5)

    assert (paginator.count, paginator.is_capped, paginator.num_pages) == (5, True, 3)


def test_the_paginator_counts_exactly_below_its_cap():
    CustomerFactory.create_batch(4)

    paginator = CappedPaginator(Customer.objects.order_by("name"), per_page=2, cap=5)

    assert (paginator.count, paginator.is_capped) == (4, False)


@pytest.mark.parametrize(
    ("raw", "number"), [("3", 3), ("abc", 1), ("-2", 1), (None, 1), ("1e9", 1), ("999999", 20)]
)
def test_a_page_number_from_the_query_string_is_always_usable(raw, number):
    assert page_number(raw) == number


@pytest.mark.parametrize("cap", [1, 500])
def test_a_name_search_finds_every_matching_customer_however_many_match(monkeypatch, cap):
    monkeypatch.setattr("invoices.selectors.SEARCH_ID_CAP", cap)
    for name in ["Harbour North", "Harbour South", "Pine Joinery"]:
        CustomerFactory(name=name)

    found = customers_search(as_of=TODAY, q="harbour")

    assert [c.name for c in found] == ["Harbour North", "Harbour South"]


@pytest.mark.parametrize("cap", [1, 500])
def test_an_invoice_search_by_customer_name_works_however_many_match(monkeypatch, cap):
    monkeypatch.setattr("invoices.selectors.SEARCH_ID_CAP", cap)
    for name in ["Harbour North", "Harbour South", "Pine Joinery"]:
        owes(CustomerFactory(name=name), days=3, amount="10.00")

    found = invoices_search(as_of=TODAY, q="harbour")

    assert sorted(i.customer.name for i in found) == ["Harbour North", "Harbour South"]
