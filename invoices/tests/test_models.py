import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from invoices.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


def test_days_overdue_counts_from_the_day_after_the_due_date():
    invoice = InvoiceFactory(due_date=dt.date(2026, 3, 1))
    assert invoice.days_overdue(dt.date(2026, 3, 1)) == 0
    assert invoice.days_overdue(dt.date(2026, 3, 11)) == 10


def test_a_settled_invoice_is_never_overdue():
    invoice = InvoiceFactory(due_date=dt.date(2026, 3, 1), open_balance=Decimal("0"))
    assert invoice.days_overdue(dt.date(2026, 6, 1)) == 0


def test_the_database_refuses_a_zero_amount():
    with pytest.raises(IntegrityError):
        InvoiceFactory(amount=Decimal("0"), open_balance=Decimal("0"))


def test_the_database_refuses_a_balance_above_the_amount():
    with pytest.raises(IntegrityError):
        InvoiceFactory(amount=Decimal("10"), open_balance=Decimal("11"))
