"""bench api: bulk invoice upserts through the API, and the paged incremental read.

Inside one transaction rolled back at the end (the data set stays as it was; the final
COMMIT is therefore not in the figures), it makes a token, then posts `rows` new invoices
for existing customers to /api/v1/invoices/bulk/ in calls of BATCH rows with Django's test
client, as a client would send them (the JSON is encoded before the clock starts), and
times the calls: rows/s. Then it reads what changed since the start a page of 1,000 at a
time (GET /api/v1/invoices/?updated_since=…&limit=1000, following the cursor), READS timed
pages: median and p95 in ms.

Migrations the database lacks (e.g. a data set made before the API existed) are applied
inside the same transaction, so they are rolled back with everything else."""

import json
import os
import random
import statistics
import time
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings
from django.utils import timezone

from invoices.bench import _cpus, _peak_mb

DEFAULT_ROWS = 100_000
BATCH = 10_000
READS = 30
PAGE = 1_000
URL = "/api/v1/invoices/"


class _Rollback(Exception):
    pass


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _migrate_missing(say) -> None:
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan)
        say(f"applying missing migrations inside the rolled-back transaction: {names}")
        executor.migrate(targets, plan=plan)


def _bodies(rows: int, customers: list[str], stamp: str) -> list[bytes]:
    rng = random.Random(42)
    start = date(2025, 1, 1)
    bodies = []
    for first in range(0, rows, BATCH):
        batch = []
        for n in range(first, min(rows, first + BATCH)):
            issued = start + timedelta(days=rng.randrange(365))
            batch.append(
                {
                    "number": f"zz-api-bench-{stamp}-{n:07d}",
                    "customer_external_id": rng.choice(customers),
                    "issue_date": issued.isoformat(),
                    "due_date": (issued + timedelta(days=30)).isoformat(),
                    "amount": f"{rng.randrange(1_000, 2_500_000) / 100:.2f}",
                }
            )
        bodies.append(json.dumps(batch).encode())
    return bodies


def bench_api(*, rows: int = DEFAULT_ROWS, say=print) -> dict:
    # Imported here: the API's models need the app registry, which a command has by now.
    from api.models import Scope
    from api.services import api_token_create
    from invoices.models import Customer

    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    bulk_s, reads, failed = 0.0, [], []
    try:
        with (
            transaction.atomic(),
            override_settings(API_RATE_LIMIT="1000000/min", ALLOWED_HOSTS=hosts),
        ):
            _migrate_missing(say)
            customers = list(
                Customer.objects.order_by("?").values_list("external_id", flat=True)[:10_000]
            )
            if not customers:
                raise SystemExit("bench api needs customers in the database")
            _, raw = api_token_create(
                actor=None, name="bench api", scopes=[Scope.READ, Scope.WRITE_LEDGER]
            )
            client = Client(headers={"authorization": f"Bearer {raw}"})
            bodies = _bodies(rows, customers, stamp)
            since = timezone.now() - timedelta(seconds=1)
            say(
                f"posting {rows:,} invoices in {len(bodies)} calls for {len(customers):,} customers"
            )
            for body in bodies:
                started = time.perf_counter()
                response = client.post(f"{URL}bulk/", body, content_type="application/json")
                bulk_s += time.perf_counter() - started
                if response.status_code != 200:
                    failed.append(response.content[:500])
            if failed:
                raise RuntimeError(f"bulk calls failed: {failed[:2]}")
            first = f"{URL}?updated_since={since.isoformat()}&limit={PAGE}".replace("+", "%2B")
            url = first
            for _ in range(READS):
                started = time.perf_counter()
                response = client.get(url)
                page = response.json()
                reads.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"read failed: {response.content[:500]}")
                url = page["next"] or first  # on to the next page; back to the start at the end
            raise _Rollback
    except _Rollback:
        pass
    say(
        f"{rows:,} rows in {bulk_s:.1f} s: {rows / bulk_s:,.0f} rows/s; reads of {PAGE:,}: "
        f"median {statistics.median(reads):.1f} ms, p95 {_percentile(reads, 0.95):.1f} ms "
        "(all rolled back; the final COMMIT is not included)"
    )
    return {
        "bulk_rows": rows,
        "bulk_batch_rows": BATCH,
        "bulk_s": round(bulk_s, 2),
        "bulk_rows_per_s": round(rows / bulk_s),
        "read_1000_median_ms": round(statistics.median(reads), 1),
        "read_1000_p95_ms": round(_percentile(reads, 0.95), 1),
        "cpus": _cpus(),
        # Other work on the machine shows in the tail of the reads: note how busy it was.
        "load_1min": round(os.getloadavg()[0], 1),
        "peak_mb": _peak_mb(),
    }
