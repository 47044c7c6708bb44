"""bench dunning: a full planning run over the scale data set (`seed_scale`).

It plans and records every due action (chases, touches, tasks, audit events) exactly as
the scheduled run does, but skips delivery (no mail is sent) and rolls the whole run back
at the end, so the data set stays reusable; audit events would otherwise be permanent.
Its results are counted as they stream (dunning_run_stream), not kept, as the scheduled
run needs only their number: the peak memory is the run's own, a chunk or two.
Foreign keys are checked as each statement runs rather than at a commit that never comes,
so the timing includes them.

The yardstick is a bare SQL query selecting the same overdue customers: each customer with
an overdue invoice, with the open invoices a run must read for it, fetched to the client
(the least any run has to do). It is warmed up once, then the median of three runs is
taken, so both sides read from a warm cache. The time of the bare aggregate (one row per
overdue customer, nothing fetched per invoice) is printed beside it.

peak_mb is the run's own peak resident size: the high-water mark is started afresh after
the bare query, whose result the driver holds whole (every open invoice at once, more than
the run ever holds); its own peak is bare_peak_mb. The run's planning processes
(dunning.planners) share this process's memory as it was when they were forked;
planners_peak_mb is the most each held beyond that, summed: the run's whole footprint is
peak_mb + planners_peak_mb."""

import contextlib
import datetime as dt
import statistics
import time

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from invoices.bench import _cpus, _peak_mb

from .planning import dunning_run_stream
from .selectors import customers_to_chase

BARE_QUERY = """
    SELECT c.id, c.external_id, c.name, c.timezone, c.currency,
           i.id, i.number, i.due_date, i.open_balance, i.status
    FROM invoices_customer c
    JOIN invoices_invoice i ON i.customer_id = c.id
    WHERE i.status IN ('open', 'in_dispute')
      AND c.id IN (
        SELECT customer_id FROM invoices_invoice
        WHERE status IN ('open', 'in_dispute') AND due_date < %s
      )
"""
CHASED = """
    SELECT count(*) FROM (
        SELECT customer_id FROM invoices_invoice WHERE status IN ('open', 'in_dispute')
        UNION
        SELECT customer_id FROM dunning_chase WHERE status = 'active'
    ) chased
"""
BARE_AGGREGATE = """
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


def _bare_ms(query: str, as_of: dt.datetime) -> tuple[int, float]:
    timings = []
    with connection.cursor() as cursor:
        for attempt in range(4):
            started = time.perf_counter()
            cursor.execute(query, [as_of.date()])
            rows = 0
            while batch := cursor.fetchmany(10_000):
                rows += len(batch)
            if attempt:  # the first run only warms the cache
                timings.append((time.perf_counter() - started) * 1000)
    return rows, statistics.median(timings)


def _peak_reset() -> None:
    """Start the peak resident size afresh from the current one (Linux; elsewhere the
    peak stays the process's)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass


def bench_dunning(*, rows: int | None = None, say=print) -> dict:
    """rows: plan only the first this many customers (default: all)."""
    if connection.vendor != "postgresql":
        raise CommandError(
            "bench dunning measures PostgreSQL: set DATABASE_URL=postgres://... and run it again."
        )
    # Earlier bench runs leave their rolled-back rows behind as dead tuples: clear them so
    # every run starts from the same tables.
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE dunning_chase, dunning_touch, dunning_task, audit_auditevent, "
            "dunning_queueentry"
        )
        # An earlier run's writes are flushed now rather than by a checkpoint that falls
        # inside this one's timings (the bare query took from 7 to 12 s at 10M without).
        with contextlib.suppress(DatabaseError), transaction.atomic():
            cursor.execute("CHECKPOINT")  # a superuser's or pg_checkpoint's: else skipped
    as_of = _as_of()
    overdue, aggregate_ms = _bare_ms(BARE_AGGREGATE, as_of)
    invoices, bare_ms = _bare_ms(BARE_QUERY, as_of)
    say(
        f"bare query: {overdue} overdue customers with {invoices} open invoices in "
        f"{bare_ms:.0f} ms; "
        f"the bare aggregate alone {aggregate_ms:.0f} ms (warm, median of 3)"
    )
    # The queue rows are written on the planning processes' own connections, so they stay:
    # derived data, planned from the ledger as it is once the rest is rolled back.
    say(
        f"planning as of {as_of.isoformat()} (delivery skipped; everything but the queue "
        "rows rolled back)"
    )
    customer_ids = customers_to_chase()[:rows] if rows else None
    if customer_ids is None:
        with connection.cursor() as cursor:
            cursor.execute(CHASED)
            (customers,) = cursor.fetchone()
    else:
        customers = len(customer_ids)
    actions = 0
    phases: dict[str, float] = {}
    memory: dict[str, float] = {}
    bare_peak_mb = _peak_mb()
    _peak_reset()
    started = time.perf_counter()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for result in dunning_run_stream(
                as_of=as_of, customer_ids=customer_ids, timings=phases, memory=memory
            ):
                actions += result.touch_id is not None
            wall_s = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    say(f"{customers} customers planned, {actions} actions recorded in {wall_s:.1f} s")
    return {
        "customers": customers,
        "actions": actions,
        "wall_s": round(wall_s, 1),
        **{f"{phase}_s": round(seconds, 1) for phase, seconds in phases.items()},
        "customers_per_s": round(customers / wall_s),
        "bare_query_ms": round(bare_ms),
        "bare_aggregate_ms": round(aggregate_ms),
        "ratio": round(wall_s * 1000 / bare_ms, 1),
        "peak_mb": _peak_mb(),
        "planners": settings.DUNNING_PLANNERS,
        "planners_peak_mb": memory.get("planners_peak_mb", 0),
        "bare_peak_mb": bare_peak_mb,
        "cpus": _cpus(),
    }
