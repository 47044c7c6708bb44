"""The aging drill-down's invoices as CSV, past WORKER_ROWS lines, written by the worker as a
job (jobs/) while the manager watches its progress page; the page then offers the file. A
proxy's timeout cannot cut it off, and a failed job leaves no file.

The worker reads the same filters from the same query string the page had, as of the day it
was asked for."""

import datetime as dt

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from jobs.models import JobKind
from jobs.progress import report_done
from jobs.services import JobFailed, Outcome, job_run, job_start, result_file_write

from .aging import aging_invoices, buckets_for
from .exports import aging_invoice_lines, aging_invoices_filename
from .forms import report_filters

# Over this many invoices, the export is handed to the worker.
WORKER_ROWS = 10_000


def aging_invoices_start(request, filters: dict, bucket, *, total: int):
    """Queue the export of one bucket's invoices (total of them); the job for the page to
    follow."""
    query = request.GET.urlencode()
    return job_start(
        kind=JobKind.EXPORT,
        title=f"Aging invoices, {bucket.label} days",
        user=request.user,
        task="reports.export_tasks.aging_invoices_task",
        params={
            "query": query,
            "today": timezone.localdate().isoformat(),
            "filename": aging_invoices_filename(filters, bucket),
        },
        total=total,
        links=[("Back to the aging", f"{reverse('reports:aging_drill')}?{query}")],
    )


def aging_invoices_task(job_id: int) -> None:
    job_run(job_id=job_id, work=_write_aging_invoices)


def _write_aging_invoices(job) -> Outcome:
    today = dt.date.fromisoformat(job.params["today"])
    query = QueryDict(job.params["query"])
    _, filters = report_filters(query, today=today)
    key = query.get("bucket")
    bucket = next((b for b in buckets_for(filters["edges"]) if b.key == key), None)
    if bucket is None:
        raise JobFailed("No such aging bucket: nothing was exported.")
    invoices = aging_invoices(
        as_of=filters["as_of"],
        today=today,
        bucket=bucket,
        currency=filters["currency"],
        collector_id=filters["collector_id"],
        unassigned=filters["unassigned"],
    )

    def write(out) -> None:
        lines = 0
        for chunk in aging_invoice_lines(filters["as_of"], bucket, invoices):
            out.write(chunk.encode("utf-8"))
            lines += chunk.count("\n")
            report_done(lines - 1)  # the head is not an invoice

    result_file_write(job.pk, write)
    return Outcome(
        reverse("jobs:file", args=[job.pk]),
        {**job.result, "filename": job.params["filename"], "content_type": "text/csv"},
    )
