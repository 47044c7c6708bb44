"""What a backup records about the database, read inside the dump's own snapshot, and read
again from a restored database to compare: row counts, migrations, the audit trail's head,
the hash of every stored file and the ledger's balances."""

from collections import defaultdict
from decimal import Decimal

from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Sum

from audit.models import AuditEvent
from inbox.models import InboundAttachment
from invoices.models import Allocation, Invoice
from invoices.money import quantize
from invoices.selectors import OUTSTANDING
from letters.models import Document
from reports.models import OpenByDue, OpenByDueChange, OpenHistory, OpenHistoryChange

# The aging the database keeps, today's and the past days': how many rows it has depends on
# when the worker last folded its changes in, so its figures are compared instead
# (checks.check_aging_kept, checks.check_history_kept).
UNCOUNTED = {
    model._meta.db_table for model in (OpenByDue, OpenByDueChange, OpenHistory, OpenHistoryChange)
}

# The models holding file contents in the database (bytes, and their SHA-256 beside them).
STORED_FILES = {"letters.Document": Document, "inbox.InboundAttachment": InboundAttachment}


def database_facts() -> dict:
    return {
        "migrations": latest_migrations(),
        "tables": table_counts(),
        "audit": audit_head(),
        "stored_files": {label: stored_file_hashes(model) for label, model in STORED_FILES.items()},
        "balances": {"by_currency": ledger_totals(), "by_customer": customer_balances()},
    }


def latest_migrations() -> dict[str, str]:
    """The last migration applied in each app, by the order they were applied in."""
    latest = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("id").values_list("app", "name"):
        latest[app] = name
    return dict(sorted(latest.items()))


def table_counts() -> dict[str, int]:
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        }
        | {MigrationRecorder.Migration._meta.db_table}
    )
    existing = set(connection.introspection.table_names())
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            if table not in existing or table in UNCOUNTED:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def audit_head() -> dict:
    # The chain proves each event against the one before it, not that none were cut off
    # the end: the count and the newest hash do.
    last = AuditEvent.objects.order_by("-id").values("id", "hash").first() or {}
    return {
        "events": AuditEvent.objects.count(),
        "last_id": last.get("id"),
        "last_hash": last.get("hash", ""),
    }


def stored_file_hashes(model) -> dict[str, str]:
    """id -> the SHA-256 recorded when the file was stored ("" for one not kept)."""
    rows = model.objects.order_by("id").values_list("id", "sha256")
    return {str(pk): sha256 for pk, sha256 in rows.iterator(chunk_size=5000)}


def ledger_totals() -> dict[str, dict[str, str]]:
    """Per currency: what was invoiced, what allocations applied, and the sum of the stored
    open balances (which the ledger derives from the other two)."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"invoiced": Decimal("0"), "applied": Decimal("0"), "open": Decimal("0")}
    )
    invoiced = Invoice.objects.order_by().values("currency")
    for row in invoiced.annotate(amount=Sum("amount"), open=Sum("open_balance")):
        totals[row["currency"]]["invoiced"] = row["amount"]
        totals[row["currency"]]["open"] = row["open"]
    applied = Allocation.objects.order_by().values("invoice__currency")
    for row in applied.annotate(amount=Sum("amount")):
        totals[row["invoice__currency"]]["applied"] = row["amount"]
    return {
        currency: {key: str(quantize(value)) for key, value in sums.items()}
        for currency, sums in sorted(totals.items())
    }


def customer_balances() -> dict[str, dict[str, str]]:
    """customer id -> currency -> what is outstanding (only customers who owe something)."""
    rows = (
        Invoice.objects.filter(status__in=OUTSTANDING)
        .order_by()
        .values("customer_id", "currency")
        .annotate(open=Sum("open_balance"))
        .order_by("customer_id", "currency")
    )
    balances: dict[str, dict[str, str]] = {}
    for row in rows.iterator(chunk_size=5000):
        owed = balances.setdefault(str(row["customer_id"]), {})
        owed[row["currency"]] = str(quantize(row["open"]))
    return balances


def invoices_off_ledger(limit: int = 10) -> tuple[int, list[str]]:
    """Invoices whose stored open balance is not their amount less what was applied: how
    many, and the first few numbers."""
    with connection.cursor() as cursor:
        sql = f"""
            FROM {Invoice._meta.db_table} i
            LEFT JOIN (
                SELECT invoice_id, SUM(amount) AS applied FROM {Allocation._meta.db_table}
                GROUP BY invoice_id
            ) a ON a.invoice_id = i.id
            WHERE i.open_balance <> i.amount - COALESCE(a.applied, 0)
        """
        cursor.execute(f"SELECT COUNT(*) {sql}")
        count = cursor.fetchone()[0]
        cursor.execute(f"SELECT i.number {sql} ORDER BY i.id LIMIT %s", [limit])
        return count, [number for (number,) in cursor.fetchall()]
