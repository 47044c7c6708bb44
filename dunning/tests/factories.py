"""Dunning test data. Ledger rows come from invoices.tests.factories; these add the few
shapes the dunning tests keep needing."""

import datetime as dt
from decimal import Decimal

import pytest

from invoices.models import ContactRole
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

# Monday 16 March 2026, 10:00 UTC (10:00 in London): a business day inside the window.
MONDAY_10 = dt.datetime(2026, 3, 16, 10, 0, tzinfo=dt.UTC)


def overdue_customer(
    *,
    days: int = 3,
    invoices: int = 1,
    amount: Decimal = Decimal("100.00"),
    as_of: dt.datetime = MONDAY_10,
    email: bool = True,
    **customer_fields,
):
    """A customer whose invoices fell due `days` days before as_of, with a primary
    accounts-payable contact unless email=False."""
    customer = CustomerFactory(**customer_fields)
    due = as_of.date() - dt.timedelta(days=days)
    for _ in range(invoices):
        InvoiceFactory(
            customer=customer, issue_date=due - dt.timedelta(days=30), due_date=due, amount=amount
        )
    if email:
        ContactFactory(customer=customer, role=ContactRole.ACCOUNTS_PAYABLE)
    return customer


@pytest.fixture
def ladder(db):
    """The default ladder as the data migration ships it."""
    from dunning.models import Policy

    return Policy.objects.get(name="Standard")
