"""Aging and AR on any past day without reading the invoices: PostgreSQL keeps, per currency,
due date and day, what moved the open balance that day (OpenHistory), with triggers on the
invoices and allocations, so every write changes the figures in the same transaction,
whichever code made it.

An invoice is open on D when issued on or before D and not closed by the end of D, for its
amount less the allocations applied by then (reports.aging.open_on). So, per invoice:
- on its issue date, one invoice more and its amount (also counted as that day's sales);
- on the day it closed, one invoice fewer;
- on each allocation's date, the allocation's amount less.
A date before the issue date counts on the issue date (an invoice is not open before it is
issued). Summed up to D, those rows give every invoice open on D and its balance, grouped
by due date: the aging of D, whatever the size of the ledger, in rows of days.

The rows of an allocation depend on its invoice's currency, due date and issue date: an
invoice statement that changes those moves its allocations' rows, read as they are now,
and an allocation statement reads its invoice as it is now. The services that write an
allocation hold its invoice's row lock, so the two never cross.

Like reports.rollup, the triggers only append (OpenHistoryChange) and the worker folds the
changes in; a reader adds the kept rows and the changes. The collectors are not kept here:
a past day's aging for one collector reads that collector's invoices. SQLite reads the
invoices, as it always has."""

import datetime as dt

from django.db import connection, transaction

from invoices.models import Allocation, Invoice

from .models import OpenHistory, OpenHistoryChange
from .rollup import many_changes, statement_triggers

KEPT = OpenHistory._meta.db_table
CHANGES = OpenHistoryChange._meta.db_table
INVOICES = Invoice._meta.db_table
ALLOCATIONS = Allocation._meta.db_table
_LOCK = 7_424_302  # folds and rebuilds, one at a time
_COLUMNS = "currency, on_date, due_date, invoices, amount, issued"


def available() -> bool:
    return connection.vendor == "postgresql"


def _invoice_rows(table: str, sign: int) -> str:
    """The rows of the invoices in a transition table (or the invoices), signed."""
    return f"""
        SELECT currency, issue_date AS on_date, due_date, {sign} AS invoices,
               {sign} * amount AS amount, {sign} * amount AS issued
        FROM {table}
        UNION ALL
        SELECT currency, GREATEST(closed_on, issue_date), due_date, {-sign}, 0, 0
        FROM {table} WHERE closed_on IS NOT NULL"""


def _allocation_rows(allocations: str, invoices: str, sign: int, on: str = "") -> str:
    """The rows of allocations joined to their invoices, signed (an allocation takes its
    amount off: sign 1 for one that is there)."""
    return f"""
        SELECT i.currency, GREATEST(a.applied_on, i.issue_date), i.due_date, 0,
               {-sign} * a.amount, 0
        FROM {allocations} a JOIN {invoices} i ON i.id = a.invoice_id {on}"""


# An invoice statement that changed a currency, due date or issue date moves the rows of
# the invoice's allocations: out from where the old row put them, in where the new one does.
_MOVED = """
    JOIN new_rows n ON n.id = o.id
    WHERE (o.currency, o.due_date, o.issue_date) IS DISTINCT FROM
          (n.currency, n.due_date, n.issue_date)"""


def _moved_rows() -> str:
    allocations = f"(SELECT a.* FROM {ALLOCATIONS} a JOIN old_rows o ON o.id = a.invoice_id"
    old = _allocation_rows(f"{allocations} {_MOVED})", "old_rows", -1)
    new = _allocation_rows(f"{allocations} {_MOVED})", "new_rows", 1)
    return f"{old} UNION ALL {new}"


def _append(rows: str) -> str:
    return f"""
        INSERT INTO {CHANGES} ({_COLUMNS})
        SELECT currency, on_date, due_date, SUM(invoices), SUM(amount), SUM(issued)
        FROM ({rows}) AS changed (currency, on_date, due_date, invoices, amount, issued)
        GROUP BY currency, on_date, due_date
        HAVING SUM(invoices) <> 0 OR SUM(amount) <> 0 OR SUM(issued) <> 0;"""


_ON_UPDATE = " UNION ALL ".join(
    [_invoice_rows("new_rows", 1), _invoice_rows("old_rows", -1), _moved_rows()]
)
_ON_ALLOCATION_UPDATE = " UNION ALL ".join(
    [_allocation_rows("new_rows", INVOICES, 1), _allocation_rows("old_rows", INVOICES, -1)]
)

_CREATE, _DROP = statement_triggers(
    [
        (f"reports_open_history{kind}_{event.lower()}", event, table, function)
        for kind, table, function in (
            ("", INVOICES, "reports_open_history_invoices"),
            ("_allocation", ALLOCATIONS, "reports_open_history_allocations"),
        )
        for event in ("INSERT", "UPDATE", "DELETE")
    ]
)

INSTALL = f"""
CREATE OR REPLACE FUNCTION reports_open_history_invoices() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_append(_invoice_rows("new_rows", 1))}
    ELSIF TG_OP = 'DELETE' THEN
        {_append(_invoice_rows("old_rows", -1))}
    ELSE
        {_append(_ON_UPDATE)}
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION reports_open_history_allocations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_append(_allocation_rows("new_rows", INVOICES, 1))}
    ELSIF TG_OP = 'DELETE' THEN
        {_append(_allocation_rows("old_rows", INVOICES, -1))}
    ELSE
        {_append(_ON_ALLOCATION_UPDATE)}
    END IF;
    RETURN NULL;
END $$;

{_DROP}
{_CREATE}
"""

UNINSTALL = f"""
{_DROP}
DROP FUNCTION IF EXISTS reports_open_history_invoices();
DROP FUNCTION IF EXISTS reports_open_history_allocations();
"""

_LIVE = f"""
    SELECT currency, on_date, due_date, SUM(invoices), SUM(amount), SUM(issued)
    FROM (
        {_invoice_rows(INVOICES, 1)}
        UNION ALL
        {_allocation_rows(ALLOCATIONS, INVOICES, 1)}
    ) AS live (currency, on_date, due_date, invoices, amount, issued)
    GROUP BY currency, on_date, due_date
    HAVING SUM(invoices) <> 0 OR SUM(amount) <> 0 OR SUM(issued) <> 0"""

REBUILD_SQL = f"""
    DELETE FROM {CHANGES};
    DELETE FROM {KEPT};
    INSERT INTO {KEPT} ({_COLUMNS}) {_LIVE};"""


def fold() -> bool:
    """Add the changes written so far to the kept rows, in one transaction. False if
    another fold or a rebuild holds the lock: the next fold takes them."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f"""
            WITH moved AS (DELETE FROM {CHANGES} RETURNING *)
            INSERT INTO {KEPT} ({_COLUMNS})
            SELECT currency, on_date, due_date, SUM(invoices), SUM(amount), SUM(issued)
            FROM moved
            GROUP BY currency, on_date, due_date
            ORDER BY currency, on_date, due_date
            ON CONFLICT (currency, on_date, due_date) DO UPDATE
            SET invoices = {KEPT}.invoices + EXCLUDED.invoices,
                amount = {KEPT}.amount + EXCLUDED.amount,
                issued = {KEPT}.issued + EXCLUDED.issued""")
        cursor.execute(f"DELETE FROM {KEPT} WHERE invoices = 0 AND amount = 0 AND issued = 0")
    return True


def rebuild() -> None:
    """The kept rows read again from the ledger. Writers to invoices and allocations wait
    the seconds it takes (SHARE locks), so none is counted twice or missed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        cursor.execute(f"LOCK TABLE {INVOICES}, {ALLOCATIONS} IN SHARE MODE")
        cursor.execute(REBUILD_SQL)


def _rows(
    where: str, params: list, columns: str, group: str = "", column_params: list = ()
) -> list[tuple]:
    """columns over the kept rows and the changes since that meet where, summed per group
    (or over them all); column_params fill placeholders in columns."""
    if many_changes(CHANGES):
        fold()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {f"{group}, " if group else ""}{columns}
            FROM (
                SELECT {_COLUMNS} FROM {KEPT} WHERE {where}
                UNION ALL
                SELECT {_COLUMNS} FROM {CHANGES} WHERE {where}
            ) AS rows
            {f"GROUP BY {group}" if group else ""}""",
            [*column_params, *params, *params],
        )
        return cursor.fetchall()


def open_by_due(as_of: dt.date, currency: str = "") -> list[tuple]:
    """(currency, due date, invoices, balance) of the invoices open at the end of as_of,
    for one currency or all."""
    where, params = "on_date <= %s", [as_of]
    if currency:
        where, params = f"{where} AND currency = %s", [as_of, currency]
    rows = _rows(where, params, "SUM(invoices), SUM(amount)", "currency, due_date")
    return [row for row in rows if row[2]]


def by_month(as_of: dt.date, currency: str) -> list[tuple]:
    """(first day of the month, credit sales, change in AR) of every month up to as_of's
    (its days up to as_of), for one currency: AR at a month's end is the changes summed up
    to it."""
    rows = _rows(
        "currency = %s AND on_date <= %s",
        [currency, as_of],
        "SUM(issued), SUM(amount)",
        "date_trunc('month', on_date)::date",
    )
    return sorted(rows)


def current_on(days: list[dt.date], currency: str) -> list:
    """The AR not yet past due at the end of each day (issued by then, due on or after it),
    in one reading of the rows due from the first day on."""
    columns = ", ".join("SUM(amount) FILTER (WHERE on_date <= %s AND due_date >= %s)" for _ in days)
    [row] = _rows(
        "currency = %s AND due_date >= %s AND on_date <= %s",
        [currency, min(days), max(days)],
        columns,
        column_params=[value for day in days for value in (day, day)],
    )
    return list(row)


def differences() -> list[tuple]:
    """Where the kept rows and the ledger disagree: (currency, day, due date, kept
    (invoices, balance change, sales), ledger's); empty when they agree."""
    kept = {
        row[:3]: tuple(row[3:])
        for row in _rows(
            "TRUE",
            [],
            "SUM(invoices), SUM(amount), SUM(issued)",
            "currency, on_date, due_date",
        )
        if any(row[3:])
    }
    with connection.cursor() as cursor:
        cursor.execute(_LIVE)
        live = {row[:3]: tuple(row[3:]) for row in cursor.fetchall()}
    return [
        (*key, kept.get(key), live.get(key))
        for key in sorted(set(kept) | set(live), key=str)
        if kept.get(key) != live.get(key)
    ]
