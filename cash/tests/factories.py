import datetime as dt
from decimal import Decimal

from invoices.tests.factories import InvoiceFactory

TODAY = dt.date(2026, 3, 16)


def invoice_due(customer, *, days_late: int, amount="100.00", **fields):
    """An open invoice that fell due days_late days before TODAY."""
    due = TODAY - dt.timedelta(days=days_late)
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
        **fields,
    )
