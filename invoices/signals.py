"""Signals of the ledger that the ORM's own do not cover."""

import datetime as dt

from django.dispatch import Signal

# Sent inside the transaction of a set-based write (an import, a bulk load) that created or
# changed invoices or allocations without the ORM's save signals. Keyword arguments:
#   currencies  the currencies touched, or None for "any"
#   since       the earliest date whose figures may have changed (issue or applied date),
#               or None for "from the start"
ledger_changed = Signal()


def ledger_changed_by(cursor, sql: str, sender) -> None:
    """Send ledger_changed per currency from a query of (currency, earliest date) rows."""
    cursor.execute(sql)
    for currency, since in cursor.fetchall():
        if since is None:
            continue
        if not isinstance(since, dt.date):  # SQLite returns an aggregate's date as text
            since = dt.date.fromisoformat(str(since)[:10])
        ledger_changed.send(sender=sender, currencies={currency}, since=since)
