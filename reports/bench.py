"""bench reports: server time of the manager's dashboard over the scale data set, as of
today and as of a year back, beside a bare SQL aging query over the same invoices measured
in the same run (ratio = dashboard today / bare query). The medians are with the closed
months stored and the slow parts kept, as the worker's refresh keeps them; the cold figure
is one request with nothing kept. Runs as a signed-in manager through
Django's test client; the user it adds is rolled back."""

import datetime as dt
import statistics
import time

from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.bench import signed_in_manager
from invoices.bench import _cpus, _peak_mb
from invoices.models import Invoice

from . import summary
from .aging import aging, buckets_for
from .cache import forget_all

RUNS = 15

# The same figures as the dashboard's aging by currency as of today, written by hand.
BARE_AGING = """
SELECT currency,
       SUM(open_balance) FILTER (WHERE due_date >= %(d)s),
       SUM(open_balance) FILTER (WHERE due_date < %(d)s AND due_date >= %(d)s - 30),
       SUM(open_balance) FILTER (WHERE due_date < %(d)s - 30 AND due_date >= %(d)s - 60),
       SUM(open_balance) FILTER (WHERE due_date < %(d)s - 60 AND due_date >= %(d)s - 90),
       SUM(open_balance) FILTER (WHERE due_date < %(d)s - 90),
       COUNT(*)
FROM invoices_invoice
WHERE status IN ('open', 'in_dispute') AND issue_date <= %(d)s
GROUP BY currency
"""


def _ms(run) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def _p95(timings: list[float]) -> float:
    return sorted(timings)[max(0, round(0.95 * len(timings)) - 1)]


def _bare(day: dt.date) -> None:
    with connection.cursor() as cursor:
        cursor.execute(BARE_AGING, {"d": day})
        cursor.fetchall()


def bench_reports(*, rows: int | None = None, say=print) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError("bench reports measures PostgreSQL: set DATABASE_URL=postgres://...")
    if Invoice.objects.count() < 100_000:
        say("warning: fewer than 100,000 invoices; load the scale set with seed_scale")
    runs = rows or RUNS
    today = timezone.localdate()
    year_back = today - dt.timedelta(days=365)
    dashboard = reverse("reports:dashboard")
    buckets = buckets_for()
    with signed_in_manager("bench-reports-manager") as (client, _manager):
        cases = {
            "bare_aging": lambda: _bare(today),
            "dashboard": lambda: client.get(dashboard),
            "dashboard_year_back": lambda: client.get(f"{dashboard}?as_of={year_back}"),
            "aging_year_back": lambda: aging(as_of=year_back, today=today, buckets=buckets),
        }
        # Once with nothing kept: what the first manager waits for when the worker has not
        # refreshed yet (months stored again, slow parts computed).
        forget_all()
        summary.forget()
        cold = _ms(cases["dashboard"])
        say(
            f"dashboard, cold     once   {cold:7.1f} ms   (nothing kept: months and parts computed)"
        )
        for run in cases.values():
            run()  # warm up
        # Round by round, so that the bare query and the pages meet the same machine: a
        # neighbour's load moves both, not just one side of the ratio.
        timings = {name: [] for name in cases}
        for _ in range(runs):
            for name, run in cases.items():
                timings[name].append(_ms(run))
    figures = {}
    for name, values in timings.items():
        median, p95 = statistics.median(values), _p95(values)
        say(f"{name:19} median {median:7.1f} ms   p95 {p95:7.1f} ms")
        figures[f"{name}_median_ms"] = round(median, 1)
        if name.startswith("dashboard"):
            figures[f"{name}_p95_ms"] = round(p95, 1)
    figures["dashboard_cold_ms"] = round(cold, 1)
    figures["ratio"] = round(figures["dashboard_median_ms"] / figures["bare_aging_median_ms"], 2)
    return {**figures, "peak_mb": _peak_mb(), "cpus": _cpus()}
