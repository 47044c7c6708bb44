"""Today's aging without reading the invoices: PostgreSQL keeps the outstanding balance per
currency, collector and due date (OpenByDue) with triggers on the ledger's own tables, so
every write that changes an invoice's balance, status, due date or customer, or a customer's
collector, changes the figures in the same transaction, whichever code made it (services,
imports, COPY, a bulk update).

The triggers are statement-level and only append (OpenByDueChange), so writers never wait
on one another or on a reader:
- A statement writing invoices appends, per customer, currency and due date it touched,
  the change in outstanding invoices and balance, summed from its transition tables. It
  does not read the customer's collector: a change row is counted under the customer's
  collector as of whoever reads it (a page, or the fold that adds it to the kept rows).
- A collector change moves what the kept rows hold of the customer (its outstanding
  invoices less its change rows not yet folded) out of the old collector's figures and
  into a change row of the customer's own, which then follows the customer.
So an invoice written while its customer changes collector is counted under the right one
whichever commits first, with no lock between the two. The fold (worker, after writes)
adds the change rows to the kept rows; a collector change waits for a fold in progress and
a fold skips while a collector change is open (one advisory lock, shared and exclusive).

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
# Any fixed number: folds and rebuilds take it exclusively, collector changes shared.
_LOCK = 7_424_301


def available() -> bool:
    return connection.vendor == "postgresql"


def _rows_of(table: str, sign: int) -> str:
    """The outstanding invoices of a transition table, signed."""
    minus = "" if sign > 0 else "-"
    return f"""
        SELECT customer_id, currency, due_date, {sign} AS invoices, {minus}open_balance AS amount
        FROM {table} WHERE status IN ({_OUTSTANDING})"""


def _append_by_customer(rows: str) -> str:
    return f"""
        INSERT INTO {CHANGES} (customer_id, collector_id, currency, due_date, invoices, amount)
        SELECT customer_id, NULL, currency, due_date, SUM(invoices), SUM(amount)
        FROM ({rows}) AS changed
        GROUP BY customer_id, currency, due_date
        HAVING SUM(invoices) <> 0 OR SUM(amount) <> 0;"""


_MOVED = """
    SELECT n.id, o.collector_id AS was
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.collector_id IS DISTINCT FROM o.collector_id"""

_REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def statement_triggers(triggers: list[tuple[str, str, str, str]]) -> tuple[str, str]:
    """(CREATE statements, DROP statements) of statement-level AFTER triggers with their
    transition tables, from (name, event, table, function) each."""
    drop = "\n".join(f"DROP TRIGGER IF EXISTS {name} ON {table};" for name, _, table, _ in triggers)
    create = "\n".join(
        f"CREATE TRIGGER {name} AFTER {event} ON {table} {_REFERENCING[event]}\n"
        f"    FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        for name, event, table, function in triggers
    )
    return create, drop


_CREATE, _DROP = statement_triggers(
    [
        (f"reports_open_by_due_{event.lower()}", event, INVOICES, "reports_open_by_due_invoices")
        for event in ("INSERT", "UPDATE", "DELETE")
    ]
    + [("reports_open_by_due_collector", "UPDATE", CUSTOMERS, "reports_open_by_due_customers")]
)

INSTALL = f"""
CREATE OR REPLACE FUNCTION reports_open_by_due_invoices() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_append_by_customer(_rows_of("new_rows", 1))}
    ELSIF TG_OP = 'DELETE' THEN
        {_append_by_customer(_rows_of("old_rows", -1))}
    ELSE
        {_append_by_customer(_rows_of("new_rows", 1) + " UNION ALL " + _rows_of("old_rows", -1))}
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION reports_open_by_due_customers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS ({_MOVED}) THEN
        RETURN NULL;
    END IF;
    -- A statement of its own: the next one sees what a fold in progress committed.
    PERFORM pg_advisory_xact_lock_shared({_LOCK});
    WITH moved AS ({_MOVED}),
    kept AS (
        SELECT customer_id, currency, due_date, SUM(invoices) AS invoices, SUM(amount) AS amount
        FROM (
            SELECT i.customer_id, i.currency, i.due_date, 1 AS invoices, i.open_balance AS amount
            FROM {INVOICES} i JOIN moved ON i.customer_id = moved.id
            WHERE i.status IN ({_OUTSTANDING})
            UNION ALL
            SELECT c.customer_id, c.currency, c.due_date, -c.invoices, -c.amount
            FROM {CHANGES} c JOIN moved ON c.customer_id = moved.id
        ) AS parts
        GROUP BY customer_id, currency, due_date
        HAVING SUM(invoices) <> 0 OR SUM(amount) <> 0
    )
    INSERT INTO {CHANGES} (customer_id, collector_id, currency, due_date, invoices, amount)
    SELECT NULL, moved.was, kept.currency, kept.due_date, -kept.invoices, -kept.amount
    FROM kept JOIN moved ON moved.id = kept.customer_id
    UNION ALL
    SELECT kept.customer_id, NULL, kept.currency, kept.due_date, kept.invoices, kept.amount
    FROM kept;
    RETURN NULL;
END $$;

{_DROP}
{_CREATE}
"""

UNINSTALL = f"""
{_DROP}
DROP FUNCTION IF EXISTS reports_open_by_due_invoices();
DROP FUNCTION IF EXISTS reports_open_by_due_customers();
"""

_LIVE = f"""
    SELECT i.currency, c.collector_id, i.due_date, COUNT(*), SUM(i.open_balance)
    FROM {INVOICES} i JOIN {CUSTOMERS} c ON c.id = i.customer_id
    WHERE i.status IN ({_OUTSTANDING})
    GROUP BY i.currency, c.collector_id, i.due_date"""


# The change rows with the collector each counts under: its own (a collector's share moved
# out) or its customer's now.
_ATTRIBUTED = f"""
    SELECT c.currency, CASE WHEN c.customer_id IS NULL THEN c.collector_id
                            ELSE customer.collector_id END AS collector_id,
           c.due_date, c.invoices, c.amount
    FROM {{changes}} c LEFT JOIN {CUSTOMERS} customer ON customer.id = c.customer_id"""


def fold() -> bool:
    """Add the changes written so far to the kept rows, in one transaction (readers see
    before or after, never half). False if another fold, a rebuild or an open collector
    change holds the lock: the next fold takes them."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
        if not cursor.fetchone()[0]:
            return False
        moved = _ATTRIBUTED.format(changes="moved")
        cursor.execute(f"""
            WITH moved AS (DELETE FROM {CHANGES} RETURNING *)
            INSERT INTO {KEPT} (currency, collector_id, due_date, invoices, amount)
            SELECT currency, collector_id, due_date, SUM(invoices), SUM(amount)
            FROM ({moved}) AS attributed
            GROUP BY currency, collector_id, due_date
            ORDER BY currency, collector_id, due_date
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
    *,
    currency: str = "",
    collector_id: int | None = None,
    unassigned: bool = False,
    per_collector: bool = True,
) -> list[tuple]:
    """(currency, collector id, due date, invoices, balance) of the outstanding invoices,
    from the kept rows and the changes since, for a currency and a collector (or the
    customers without one), or all. Without per_collector the collectors are summed (the
    collector id is None): a row per currency and due date, ten times fewer with ten
    collectors."""
    _fold_if_many()
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
    collector = "collector_id" if per_collector else "NULL::bigint"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT currency, {collector}, due_date, SUM(invoices), SUM(amount)
            FROM (
                SELECT currency, collector_id, due_date, invoices, amount FROM {KEPT}
                UNION ALL
                {_ATTRIBUTED.format(changes=CHANGES)}
            ) AS rows
            {condition}
            GROUP BY currency, {collector}, due_date
            HAVING SUM(invoices) <> 0""",
            params,
        )
        return cursor.fetchall()


# Change rows a page would rather not add up itself: past this many, the page folds them
# first (a bulk load with no worker running; the worker folds after every import).
FOLD_ON_READ_ROWS = 20_000


def _fold_if_many() -> None:
    if many_changes(CHANGES):
        fold()


def many_changes(table: str) -> bool:
    """Whether a change table holds more rows than a page would rather add up itself."""
    with connection.cursor() as cursor:
        # The statistics' live row count: no scan of the table to learn its size.
        cursor.execute(
            "SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = %s::regclass", [table]
        )
        row = cursor.fetchone()
    return bool(row) and row[0] > FOLD_ON_READ_ROWS


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
