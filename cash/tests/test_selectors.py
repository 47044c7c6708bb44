"""The matching screen's proposals: by reference, by amount, oldest first; each user sees
the payments they may match; a page costs the same queries however much it shows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import role_of
from cash.selectors import recent_payments, reference_tokens, unapplied_page
from invoices.models import Invoice
from invoices.services import payment_record
from invoices.tests.factories import CustomerFactory

from .factories import TODAY, invoice_due

pytestmark = pytest.mark.django_db


def _unapplied(customer, amount, reference="", received_on=TODAY):
    return payment_record(
        actor=None,
        customer=customer,
        amount=Decimal(amount),
        received_on=received_on,
        reference=reference,
        allocations=[],
    )


def _proposed(user):
    """{payment id: [(invoice number, amount, reason)]} on the first page."""
    return {
        row.payment.pk: [(p.invoice.number, p.amount, p.reason) for p in row.proposals]
        for row in unapplied_page(user).object_list
    }


def test_an_invoice_the_reference_names_comes_first(manager):
    customer = CustomerFactory()
    invoice_due(customer, days_late=60, amount="100.00")
    invoice_due(customer, days_late=10, amount="300.00", number="INV-2044")
    payment = _unapplied(customer, "100.00", reference="Remittance inv-2044 thanks")

    assert _proposed(manager)[payment.pk] == [
        ("INV-2044", Decimal("100.00"), "reference names INV-2044")
    ]


def test_then_an_invoice_of_exactly_the_amount(manager):
    customer = CustomerFactory()
    invoice_due(customer, days_late=60, amount="100.00")
    same = invoice_due(customer, days_late=10, amount="245.50")
    payment = _unapplied(customer, "245.50", reference="March")

    assert _proposed(manager)[payment.pk] == [(same.number, Decimal("245.50"), "same amount")]


def test_else_the_oldest_invoices_the_amount_covers(manager):
    customer = CustomerFactory()
    oldest = invoice_due(customer, days_late=60, amount="100.00")
    next_one = invoice_due(customer, days_late=40, amount="50.00")
    invoice_due(customer, days_late=20, amount="100.00")
    payment = _unapplied(customer, "170.00")

    row = unapplied_page(manager).object_list[0]

    assert _proposed(manager)[payment.pk] == [
        (oldest.number, Decimal("100.00"), "oldest first"),
        (next_one.number, Decimal("50.00"), "oldest first"),
    ]
    assert row.left == Decimal("20.00")


def test_only_open_invoices_of_the_same_customer_and_currency_are_proposed(manager):
    customer = CustomerFactory()
    invoice_due(CustomerFactory(), days_late=60, amount="100.00", number="INV-9")
    invoice_due(customer, days_late=60, amount="100.00", currency="EUR")
    payment = _unapplied(customer, "100.00", reference="INV-9")

    assert _proposed(manager)[payment.pk] == []


def test_two_payments_are_not_proposed_the_same_balance(manager):
    customer = CustomerFactory()
    only = invoice_due(customer, days_late=60, amount="100.00")
    newer = _unapplied(customer, "100.00")
    older = _unapplied(customer, "100.00", received_on=TODAY - dt.timedelta(days=1))

    proposed = _proposed(manager)

    assert proposed[newer.pk] == [(only.number, Decimal("100.00"), "same amount")]
    assert proposed[older.pk] == []


def test_a_collector_sees_only_their_own_customers_payments(collector, manager):
    mine = _unapplied(CustomerFactory(collector=collector), "10.00")
    colleagues = _unapplied(CustomerFactory(collector=manager), "20.00")

    assert set(_proposed(collector)) == {mine.pk}
    assert set(_proposed(manager)) == {mine.pk, colleagues.pk}


def test_applied_payments_are_not_listed(manager):
    customer = CustomerFactory()
    invoice_due(customer, days_late=60, amount="100.00")
    payment_record(actor=None, customer=customer, amount=Decimal("100.00"), received_on=TODAY)

    assert _proposed(manager) == {}


def test_reference_tokens_keep_the_words_that_may_be_invoice_numbers():
    assert reference_tokens("Pay INV-001, inv-002/INV-003; thanks 2x") == {
        "INV-001",
        "INV-002",
        "INV-003",
    }


def _many(count: int, invoices_each: int):
    for i in range(count):
        customer = CustomerFactory()
        Invoice.objects.bulk_create(
            Invoice(
                customer=customer,
                number=f"Q{customer.pk}-{n:04d}",
                issue_date=TODAY - dt.timedelta(days=90 + n),
                due_date=TODAY - dt.timedelta(days=60 + n),
                currency="GBP",
                amount=Decimal("100.00"),
                open_balance=Decimal("100.00"),
            )
            for n in range(invoices_each)
        )
        _unapplied(customer, "150.00", reference=f"Q{customer.pk}-0001 Q{customer.pk}-0002")
        _unapplied(customer, f"{100 + i}.00")


def test_the_matching_page_costs_the_same_queries_for_6_or_25_payments(manager):
    role_of(manager)  # looked up once per request, not per row

    def queries():
        with CaptureQueriesContext(connection) as captured:
            rows = unapplied_page(manager).object_list
        assert all(row.proposals for row in rows)
        return len(captured), len(rows)

    _many(3, invoices_each=3)
    few = queries()
    _many(22, invoices_each=40)
    many = queries()

    assert (few, many) == ((2, 6), (2, 25))


def test_recent_payments_show_what_is_applied():
    customer = CustomerFactory()
    invoice_due(customer, days_late=60, amount="100.00")
    payment_record(actor=None, customer=customer, amount=Decimal("130.00"), received_on=TODAY)

    [payment] = recent_payments(customer.pk)

    assert (payment.applied, payment.unapplied) == (Decimal("100.00"), Decimal("30.00"))
