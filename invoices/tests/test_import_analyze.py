"""A big import refreshes the planner's statistics of what it wrote, once it has committed."""

import pytest
from django.db import connection

from invoices.models import Invoice
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory

# Real commits: the statistics are refreshed after the import's transaction commits.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="only PostgreSQL analyses after an import"
    ),
]

HEADER = "number,customer_external_id,issue_date,due_date,currency,amount\n"


def last_analyze(table: str):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def import_invoices(tmp_path, count: int) -> None:
    CustomerFactory(external_id="ACME", currency="GBP")
    rows = "".join(f"INV-{i},ACME,2026-01-01,2026-01-31,GBP,10.00\n" for i in range(count))
    import_csv("invoices", write_csv(tmp_path, HEADER + rows))


def test_an_import_over_the_threshold_leaves_the_invoices_table_analysed(tmp_path, monkeypatch):
    monkeypatch.setattr("invoices.importing.apply.ANALYZE_AFTER_ROWS", 5)
    before = last_analyze("invoices_invoice")

    import_invoices(tmp_path, 10)

    assert Invoice.objects.count() == 10
    after = last_analyze("invoices_invoice")
    assert after is not None and after != before


def test_a_small_import_leaves_the_statistics_to_autovacuum(tmp_path):
    before = last_analyze("invoices_invoice")

    import_invoices(tmp_path, 10)

    assert Invoice.objects.count() == 10
    assert last_analyze("invoices_invoice") == before
