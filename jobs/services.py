"""Starting jobs and running them in the worker."""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from .models import Job, JobStatus
from .progress import Progress, cache_key

logger = logging.getLogger(__name__)

STOPPED = (
    "The worker stopped before this was finished (it was restarted or ran out of time). "
    "Nothing was changed: start it again."
)


class JobFailed(Exception):
    """The work cannot be done for a reason the user can act on; it changed nothing."""

    def __init__(self, message: str, *, result: dict | None = None):
        super().__init__(message)
        self.message = message
        self.result = result or {}


@dataclass
class Outcome:
    """What a job's work ends with: where its result is, and what the job page keeps."""

    result_url: str = ""
    result: dict = field(default_factory=dict)


def job_start(
    *,
    kind: str,
    title: str,
    user,
    task: str,
    params: dict,
    total: int = 0,
    links: list[tuple[str, str]] = (),
) -> Job:
    """Record a queued job and hand `task(job_id)` to the worker once this transaction
    commits. The task calls job_run with the work to do. `links` (label, URL) are where the
    user may go on from if it fails."""
    job = Job.objects.create(
        kind=kind,
        title=title[:300],
        user=user,
        params=params,
        total=total,
        result={"links": [list(link) for link in links]},
    )
    transaction.on_commit(lambda: async_task(task, job.pk, task_name=f"{kind} job {job.pk}"))
    return job


def job_run(*, job_id: int, work: Callable[[Job], Outcome]) -> None:
    """Run a job's work in the worker, reporting progress, and record how it ended.

    1. Claim the job, queued to running, by compare-and-set. A job already running was left
       by a worker that died and its task was handed out again: mark it stopped, not redone.
    2. Run the work while a heartbeat publishes its progress; the work's changes are its own
       transaction's, so a failure leaves nothing half done.
    3. Record it done with where its result is, or failed with the message to show: the
       work's own (JobFailed) or, for anything unexpected, a general one (and log it).
    """
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, progress_at=now
    )
    if not claimed:
        _finish(job_id, JobStatus.FAILED, error=STOPPED, from_status=JobStatus.RUNNING)
        return
    job = Job.objects.get(pk=job_id)
    try:
        with Progress(job.pk, total=job.total):
            outcome = work(job)
    except JobFailed as failure:
        _finish(job.pk, JobStatus.FAILED, error=failure.message, result=failure.result)
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(
            job.pk,
            JobStatus.FAILED,
            error=f"{job.title} stopped on an unexpected error. Nothing was changed. The error "
            f"is in the worker's log (job {job.pk}) for whoever runs Dunmore.",
        )
    else:
        _finish(job.pk, JobStatus.DONE, result_url=outcome.result_url, result=outcome.result)


def _finish(job_id: int, status: str, *, from_status: str | None = None, **values) -> None:
    now = timezone.now()
    jobs = Job.objects.filter(pk=job_id)
    if from_status:
        jobs = jobs.filter(status=from_status)
    if status == JobStatus.DONE:
        # A finished job shows its whole count done.
        values.update(phase="", done=F("total"))
    jobs.update(status=status, finished_at=now, progress_at=now, **values)
    cache.delete(cache_key(job_id))


def result_file_path(job_id: int) -> Path:
    """Where a job whose result is a file keeps it (under MEDIA_ROOT, which the worker and
    the web share as they share uploads)."""
    return Path(settings.MEDIA_ROOT) / "jobs" / str(int(job_id))


def result_file_write(job_id: int, write: Callable[[BinaryIO], None]) -> None:
    """Write a job's result file whole or not at all: a killed worker leaves no half file."""
    path = result_file_path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    try:
        with open(partial, "wb") as out:
            write(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
