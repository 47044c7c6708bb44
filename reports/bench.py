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

from dunning.bench_pages import signed_in_manager, time_pages
from invoices.bench import _cpus, _peak_mb
from invoices.models import Invoice

from . import summary
from .aging import aging, buckets_for
from .cache import forget_all

RUNS = 10

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


def _median_ms(run, runs: int = RUNS) -> float:
    run()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


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
    with signed_in_manager("bench-reports-manager") as (client, _manager):
        bare = _median_ms(lambda: _bare(today), runs)
        say(f"bare aging query    median {bare:7.1f} ms")
        dashboard = reverse("reports:dashboard")
        pages = {"dashboard": dashboard, "dashboard_year_back": f"{dashboard}?as_of={year_back}"}
        # Once with nothing kept: what the first manager waits for when the worker has not
        # refreshed yet (months stored again, slow parts computed).
        forget_all()
        summary.forget()
        started = time.perf_counter()
        client.get(dashboard)
        cold = (time.perf_counter() - started) * 1000
        say(
            f"dashboard, cold     once   {cold:7.1f} ms   (nothing kept: months and parts computed)"
        )
        figures = time_pages(client, pages, say=say, runs=runs)
        buckets = buckets_for()
        historic = _median_ms(lambda: aging(as_of=year_back, today=today, buckets=buckets), runs)
        say(f"aging a year back   median {historic:7.1f} ms   (as of {year_back})")
    figures["dashboard_cold_ms"] = round(cold, 1)
    figures["aging_year_back_median_ms"] = round(historic, 1)
    figures["bare_aging_median_ms"] = round(bare, 1)
    figures["ratio"] = round(figures["dashboard_median_ms"] / bare, 2)
    return {**figures, "peak_mb": _peak_mb(), "cpus": _cpus()}
