"""A print batch of more than WORKER_LETTERS letters, put together into one PDF by the worker
as a job (jobs/) while the manager watches its progress page; the page then offers the file.

The letters are the queue's as it was when asked for (none queued after), less any marked
printed meanwhile. Putting them together changes nothing: a failed job leaves no file."""

import io

from django.urls import reverse
from pypdf import PdfWriter

from jobs.progress import report_done
from jobs.services import Outcome, job_run, result_file_write

from .selectors import print_queue

# Over this many letters the print batch's download is handed to the worker.
WORKER_LETTERS = 10_000
REPORT_EVERY = 100


def print_batch_task(job_id: int) -> None:
    job_run(job_id=job_id, work=_put_together)


def _put_together(job) -> Outcome:
    items = print_queue().filter(pk__lte=job.params["last_item"]).iterator(chunk_size=500)

    def write(out) -> None:
        writer = PdfWriter()
        for count, item in enumerate(items, start=1):
            writer.append(io.BytesIO(bytes(item.document.content)))
            if not count % REPORT_EVERY:
                report_done(count)
        writer.write(out)

    result_file_write(job.pk, write)
    return Outcome(
        reverse("jobs:file", args=[job.pk]),
        {**job.result, "filename": job.params["filename"], "content_type": "application/pdf"},
    )
