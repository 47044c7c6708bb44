"""bench dunning: a full planning run over the scale data set (`seed_scale`).

It plans and records every due action (chases, touches, tasks, audit events) exactly as
the scheduled run does, but skips delivery (no mail is sent) and rolls the whole run back
at the end, so the data set stays reusable; audit events would otherwise be permanent.
As a yardstick it times a bare SQL query selecting the same overdue customers: warmed up
once, then the median of three runs, so both sides read from a warm cache."""

import datetime as dt
import statistics
import time

from django.core.management.base import CommandError
from django.db import connection, transaction

from invoices.bench import _cpus, _peak_mb

from .planning import dunning_run
from .selectors import customers_to_chase

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


def _bare_query_ms(as_of: dt.datetime) -> tuple[int, float]:
    timings = []
    with connection.cursor() as cursor:
        for attempt in range(4):
            started = time.perf_counter()
            cursor.execute(BARE_QUERY, [as_of.date()])
            overdue = len(cursor.fetchall())
            if attempt:  # the first run only warms the cache
                timings.append((time.perf_counter() - started) * 1000)
    return overdue, statistics.median(timings)


def bench_dunning(*, rows: int | None = None, say=print) -> dict:
    """rows: plan only the first this many customers (default: all)."""
    if connection.vendor != "postgresql":
        raise CommandError(
            "bench dunning measures PostgreSQL: set DATABASE_URL=postgres://... and run it again."
        )
    as_of = _as_of()
    overdue, bare_ms = _bare_query_ms(as_of)
    say(f"bare query: {overdue} overdue customers in {bare_ms:.0f} ms (warm, median of 3)")
    say(f"planning as of {as_of.isoformat()} (delivery skipped; everything rolled back)")
    customer_ids = customers_to_chase()[:rows] if rows else None
    results = []
    phases: dict[str, float] = {}
    started = time.perf_counter()
    try:
        with transaction.atomic():
            results = dunning_run(as_of=as_of, customer_ids=customer_ids, timings=phases)
            wall_s = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    actions = sum(1 for r in results if r.touch_id)
    customers = len(customer_ids) if customer_ids else len(customers_to_chase())
    say(f"{customers} customers planned, {actions} actions recorded in {wall_s:.1f} s")
    return {
        "customers": customers,
        "actions": actions,
        "wall_s": round(wall_s, 1),
        **{f"{phase}_s": round(seconds, 1) for phase, seconds in phases.items()},
        "customers_per_s": round(customers / wall_s),
        "bare_query_ms": round(bare_ms),
        "ratio": round(wall_s * 1000 / bare_ms, 1),
        "peak_mb": _peak_mb(),
        "cpus": _cpus(),
    }
