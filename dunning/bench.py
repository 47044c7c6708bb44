"""bench dunning: a full planning run over the scale data set (`seed_scale`).

It plans and records every due action (chases, touches, tasks, audit events) exactly as
the scheduled run does, but skips delivery (no mail is sent) and rolls the whole run back
at the end, so the data set stays reusable; audit events would otherwise be permanent.
As a yardstick it times a bare SQL query selecting the same overdue customers."""

import datetime as dt
import time

from django.core.management.base import CommandError
from django.db import connection, transaction

from invoices.bench import _cpus, _peak_mb

from .services import dunning_run

BARE_QUERY = """
    SELECT customer_id, min(due_date), sum(open_balance)
    FROM invoices_invoice
    WHERE status IN ('open', 'in_dispute') AND due_date < %s
    GROUP BY customer_id
"""


class _Rollback(Exception):
    pass


def _as_of() -> dt.datetime:
    # A weekday at 11:00 UTC, so that sending windows do not hide due actions.
    day = dt.datetime.now(dt.UTC).date()
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(11), tzinfo=dt.UTC)


def bench_dunning(*, rows: int | None = None, say=print) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError(
            "bench dunning measures PostgreSQL: set DATABASE_URL=postgres://... and run it again."
        )
    as_of = _as_of()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(BARE_QUERY, [as_of.date()])
        overdue = len(cursor.fetchall())
        bare_ms = (time.perf_counter() - started) * 1000
    say(f"bare query: {overdue} overdue customers in {bare_ms:.0f} ms")
    say(f"planning as of {as_of.isoformat()} (delivery skipped; everything rolled back)")
    results = []
    started = time.perf_counter()
    try:
        with transaction.atomic():
            results = dunning_run(as_of=as_of)
            wall_s = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    actions = sum(1 for r in results if r.touch_id)
    from .selectors import customers_to_chase

    customers = len(customers_to_chase())
    say(f"{customers} customers planned, {actions} actions recorded in {wall_s:.1f} s")
    return {
        "customers": customers,
        "actions": actions,
        "wall_s": round(wall_s, 1),
        "customers_per_s": round(customers / wall_s),
        "bare_query_ms": round(bare_ms),
        "ratio": round(wall_s * 1000 / bare_ms, 1),
        "peak_mb": _peak_mb(),
        "cpus": _cpus(),
    }
