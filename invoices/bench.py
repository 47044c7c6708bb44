"""bench import: a million invoices through the same path as `import_csv invoices`.

It creates its own customers, writes the CSV to a temporary file, imports it with the
import_csv command and times that alone, then deletes the invoices, customers and batch it
made. Everything it makes is named with the PREFIX below, and a run first removes what an
interrupted earlier run left. The batch's one audit event stays: the trail is append-only."""

import csv
import os
import random
import resource
import tempfile
import time
import uuid
from datetime import date, timedelta

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from .models import Customer, ImportBatch, Invoice
from .signals import ledger_changed

CUSTOMERS = 10_000
PREFIX = "zz-bench-"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _peak_mb() -> int:
    # Linux reports ru_maxrss in kilobytes.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _write_csv(path: str, *, prefix: str, rows: int, customers: int) -> None:
    rng = random.Random(42)
    start = date(2024, 1, 1)
    with open(path, "w", newline="", encoding="utf-8") as target:
        out = csv.writer(target)
        out.writerow(
            ["number", "customer_external_id", "issue_date", "due_date", "currency", "amount"]
        )
        for n in range(1, rows + 1):
            issued = start + timedelta(days=rng.randrange(730))
            out.writerow(
                [
                    f"{prefix}-INV-{n:08d}",
                    f"{prefix}-C{rng.randrange(customers):05d}",
                    issued.isoformat(),
                    (issued + timedelta(days=rng.choice((14, 30, 30, 45, 60)))).isoformat(),
                    "GBP",
                    f"{rng.randrange(1_000, 2_500_000) / 100:.2f}",
                ]
            )


def _cleanup(prefix: str, say) -> float:
    started = time.perf_counter()
    with transaction.atomic():
        batch_ids = list(
            ImportBatch.objects.filter(filename__startswith=prefix).values_list("pk", flat=True)
        )
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM invoices_invoice WHERE number LIKE %s", [f"{prefix}%"])
        ledger_changed.send(sender=_cleanup, currencies=None, since=None)
        Customer.objects.filter(external_id__startswith=prefix).delete()
        ImportBatch.objects.filter(pk__in=batch_ids).delete()
    seconds = time.perf_counter() - started
    say(f"removed {prefix}* data in {seconds:.1f} s")
    return seconds


def _vacuum() -> None:
    # A million deleted rows would otherwise bloat the developer's tables until autovacuum.
    if connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE invoices_invoice")
        cursor.execute("VACUUM ANALYZE invoices_customer")


def bench_import(*, rows: int = 1_000_000, say=print) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError(
            "bench import measures PostgreSQL: set DATABASE_URL=postgres://... and run it again."
        )
    _cleanup(PREFIX, say)
    customers = max(1, min(CUSTOMERS, rows // 100))
    prefix = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    path = os.path.join(tempfile.gettempdir(), f"{prefix}.csv")
    try:
        Customer.objects.bulk_create(
            [
                Customer(
                    external_id=f"{prefix}-C{n:05d}",
                    name=f"Bench customer {n}",
                    timezone="Europe/London",
                    currency="GBP",
                    country="GB",
                )
                for n in range(customers)
            ],
            batch_size=2_000,
        )
        started = time.perf_counter()
        _write_csv(path, prefix=prefix, rows=rows, customers=customers)
        generate_s = time.perf_counter() - started
        say(f"{customers} customers created; {rows} rows written in {generate_s:.1f} s")

        started = time.perf_counter()
        call_command("import_csv", "invoices", path, source="bench", stdout=_Say(say))
        wall_s = time.perf_counter() - started
        imported = Invoice.objects.filter(number__startswith=prefix).count()
        say(f"imported {imported} invoices in {wall_s:.1f} s ({rows / wall_s:,.0f} rows/s)")
        if imported != rows:
            raise CommandError(f"expected {rows} invoices, found {imported}")
    finally:
        if os.path.exists(path):
            os.unlink(path)
        cleanup_s = _cleanup(prefix, say)
        _vacuum()
    return {
        "rows": rows,
        "wall_s": round(wall_s, 1),
        "rows_per_s": round(rows / wall_s),
        "peak_mb": _peak_mb(),
        "cpus": _cpus(),
        "generate_s": round(generate_s, 1),
        "cleanup_s": round(cleanup_s, 1),
    }


class _Say:
    """A file-like stdout for call_command that hands lines to say()."""

    def __init__(self, say):
        self.say = say

    def write(self, text: str) -> None:
        if text.strip():
            self.say(text.rstrip("\n"))

    def flush(self) -> None:
        pass
