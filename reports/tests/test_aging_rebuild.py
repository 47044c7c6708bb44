"""aging_rebuild: kept aging that drifted from the invoices is named and read again."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from invoices.services import customer_create, invoice_create
from reports import history, rollup
from reports.models import OpenByDue, OpenHistory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 16)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="aging is kept on PostgreSQL")
def test_drifted_kept_aging_is_listed_and_rebuilt(capsys):
    customer = customer_create(actor=None, external_id="ACME", name="Acme", currency="GBP")
    invoice_create(
        actor=None,
        customer=customer,
        number="INV-1",
        issue_date=TODAY,
        due_date=TODAY,
        amount=Decimal("100.00"),
    )
    rollup.fold()
    history.fold()
    OpenByDue.objects.update(amount=Decimal("1.00"))
    OpenHistory.objects.update(issued=Decimal("2.00"))
    assert rollup.differences() != []

    call_command("aging_rebuild")

    out = capsys.readouterr().out
    assert f"GBP collector none due {TODAY}: kept (1, Decimal('1.00'))" in out
    assert f"GBP on {TODAY} due {TODAY}: kept (1, Decimal('100.00'), Decimal('2.00'))" in out
    assert "(1 keys of today's and 1 of the past days' differed before)" in out
    assert rollup.differences() == []
    assert history.differences() == []
    assert list(OpenByDue.objects.values_list("invoices", "amount")) == [(1, Decimal("100.00"))]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite reads the invoices")
def test_on_sqlite_it_says_aging_is_not_kept():
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("aging_rebuild")
