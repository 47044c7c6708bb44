"""Today's aging without reading the invoices: PostgreSQL keeps the outstanding balance per
currency, collector and due date (OpenByDue) with triggers on the ledger's own tables, so
every write that changes an invoice's balance, status, due date or customer, or a customer's
collector, changes the figures in the same transaction, whichever code made it (services,
imports, COPY, a bulk update).

The triggers are statement-level: each statement appends one change row per key it touched
(OpenByDueChange), summed from its transition tables, so a 10,000-row import adds a few
hundred rows rather than updating hot rows 10,000 times, and two writers never wait on each
other for a total. Readers add the changes to the kept rows; the worker folds them in (fold).
A statement that reads an invoice's collector holds its customer row (FOR SHARE) until it
commits, so a collector change and a new invoice for that customer cannot miss each other.

SQLite (a single office) has no triggers here: aging reads the invoices, as it always has."""

from django.db import connection, transaction

from invoices.models import Customer, Invoice
from invoices.selectors import OUTSTANDING

from .models import OpenByDue, OpenByDueChange

KEPT = OpenByDue._meta.db_table
CHANGES = OpenByDueChange._meta.db_table
INVOICES = Invoice._meta.db_table
CUSTOMERS = Customer._meta.db_table
_OUTSTANDING = ", ".join(f"'{status}'" for status in OUTSTANDING)
# Any fixed number: the fold and the rebuild take it so only one of them runs at a time.
_LOCK = 7_424_301


def available() -> bool:
    return connection.vendor == "postgresql"


def _rows_of(table: str, sign: int) -> str:
    """The outstanding invoices of a transition table, with their customer's collector (the
    customer row held until commit) and a signed count and balance."""
    return f"""
        SELECT i.currency, c.collector_id, i.due_date, {sign} AS invoices,
               {"" if sign > 0 else "-"}i.open_balance AS amount
        FROM {table} i
        JOIN (
            SELECT id, collector_id FROM {CUSTOMERS}
            WHERE id IN (SELECT customer_id FROM {table}) FOR SHARE
        ) c ON c.id = i.customer_id
        WHERE i.status IN ({_OUTSTANDING})"""


def _append(rows: str) -> str:
    return f"""
        INSERT INTO {CHANGES} (currency, collector_id, due_date, invoices, amount)
        SELECT currency, collector_id, due_date, SUM(invoices), SUM(amount)
        FROM ({rows}) AS changed
        GROUP BY currency, collector_id, due_date
        HAVING SUM(invoices) <> 0 OR SUM(amount) <> 0;"""


INSTALL = f"""
CREATE OR REPLACE FUNCTION reports_open_by_due_invoices() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_append(_rows_of("new_rows", 1))}
    ELSIF TG_OP = 'DELETE' THEN
        {_append(_rows_of("old_rows", -1))}
    ELSE
        {_append(_rows_of("new_rows", 1) + " UNION ALL " + _rows_of("old_rows", -1))}
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION reports_open_by_due_customers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {
    _append(f'''
        SELECT i.currency, moved.collector_id, i.due_date, moved.sign AS invoices,
               moved.sign * i.open_balance AS amount
        FROM (
            SELECT n.id, n.collector_id, 1 AS sign
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.collector_id IS DISTINCT FROM o.collector_id
            UNION ALL
            SELECT o.id, o.collector_id, -1
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.collector_id IS DISTINCT FROM o.collector_id
        ) moved
        JOIN {INVOICES} i ON i.customer_id = moved.id
        WHERE i.status IN ({_OUTSTANDING})''')
}
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS reports_open_by_due_insert ON {INVOICES};
DROP TRIGGER IF EXISTS reports_open_by_due_update ON {INVOICES};
DROP TRIGGER IF EXISTS reports_open_by_due_delete ON {INVOICES};
DROP TRIGGER IF EXISTS reports_open_by_due_collector ON {CUSTOMERS};
CREATE TRIGGER reports_open_by_due_insert AFTER INSERT ON {INVOICES}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_open_by_due_invoices();
CREATE TRIGGER reports_open_by_due_update AFTER UPDATE ON {INVOICES}
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_open_by_due_invoices();
CREATE TRIGGER reports_open_by_due_delete AFTER DELETE ON {INVOICES}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_open_by_due_invoices();
CREATE TRIGGER reports_open_by_due_collector AFTER UPDATE ON {CUSTOMERS}
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_open_by_due_customers();
"""

UNINSTALL = f"""
DROP TRIGGER IF EXISTS reports_open_by_due_insert ON {INVOICES};
DROP TRIGGER IF EXISTS reports_open_by_due_update ON {INVOICES};
DROP TRIGGER IF EXISTS reports_open_by_due_delete ON {INVOICES};
DROP TRIGGER IF EXISTS reports_open_by_due_collector ON {CUSTOMERS};
DROP FUNCTION IF EXISTS reports_open_by_due_invoices();
DROP FUNCTION IF EXISTS reports_open_by_due_customers();
"""

_LIVE = f"""
    SELECT i.currency, c.collector_id, i.due_date, COUNT(*), SUM(i.open_balance)
    FROM {INVOICES} i JOIN {CUSTOMERS} c ON c.id = i.customer_id
    WHERE i.status IN ({_OUTSTANDING})
    GROUP BY i.currency, c.collector_id, i.due_date"""


def fold() -> bool:
    """Add the changes written so far to the kept rows, in one transaction (readers see
    before or after, never half). False if another fold or rebuild holds the lock."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f"""
            WITH moved AS (DELETE FROM {CHANGES} RETURNING *)
            INSERT INTO {KEPT} (currency, collector_id, due_date, invoices, amount)
            SELECT currency, collector_id, due_date, SUM(invoices), SUM(amount)
            FROM moved GROUP BY currency, collector_id, due_date
            ON CONFLICT (currency, collector_id, due_date) DO UPDATE
            SET invoices = {KEPT}.invoices + EXCLUDED.invoices,
                amount = {KEPT}.amount + EXCLUDED.amount""")
        cursor.execute(f"DELETE FROM {KEPT} WHERE invoices = 0 AND amount = 0")
    return True


REBUILD_SQL = f"""
    DELETE FROM {CHANGES};
    DELETE FROM {KEPT};
    INSERT INTO {KEPT} (currency, collector_id, due_date, invoices, amount) {_LIVE};"""


def rebuild() -> None:
    """The kept rows read again from the ledger (after a bulk load, or to repair). Writers
    to invoices and customers wait the few seconds it takes (SHARE locks), so none is
    counted twice or missed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        cursor.execute(f"LOCK TABLE {INVOICES}, {CUSTOMERS} IN SHARE MODE")
        cursor.execute(REBUILD_SQL)


def open_by_due(
    *, currency: str = "", collector_id: int | None = None, unassigned: bool = False
) -> list[tuple]:
    """(currency, collector id, due date, invoices, balance) of the outstanding invoices,
    from the kept rows and the changes since, for a currency and a collector (or the
    customers without one), or all."""
    where, params = [], []
    if currency:
        where.append("currency = %s")
        params.append(currency)
    if unassigned:
        where.append("collector_id IS NULL")
    elif collector_id is not None:
        where.append("collector_id = %s")
        params.append(collector_id)
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    columns = "currency, collector_id, due_date, invoices, amount"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT currency, collector_id, due_date, SUM(invoices), SUM(amount)
            FROM (
                SELECT {columns} FROM {KEPT} {condition}
                UNION ALL
                SELECT {columns} FROM {CHANGES} {condition}
            ) AS rows
            GROUP BY currency, collector_id, due_date
            HAVING SUM(invoices) <> 0""",
            params * 2,
        )
        return cursor.fetchall()


def differences() -> list[tuple]:
    """Where the kept figures and the ledger disagree: (currency, collector id, due date,
    kept (invoices, balance), ledger (invoices, balance)); empty when they agree."""
    kept = {row[:3]: tuple(row[3:]) for row in open_by_due()}
    with connection.cursor() as cursor:
        cursor.execute(_LIVE)
        live = {row[:3]: tuple(row[3:]) for row in cursor.fetchall()}
    return [
        (*key, kept.get(key), live.get(key))
        for key in sorted(set(kept) | set(live), key=str)
        if kept.get(key) != live.get(key)
    ]
