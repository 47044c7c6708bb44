"""How far the running job has got, reported from deep inside long work without passing a
reporter down through every call.

The work only sets numbers on the current Progress (report_phase, report_done): attribute
writes, cheap enough for a row loop. A heartbeat thread publishes them every PUBLISH_EVERY
seconds on its own database connection, in autocommit, so the polling page sees them while
the work's own transaction is still open, and a job whose heartbeat stops lost its worker.
SQLite has one writer at a time and an import's transaction holds it: there a heartbeat that
cannot be written goes to the cache instead, until the transaction ends."""

import threading
from contextvars import ContextVar

from django.core.cache import cache
from django.db import OperationalError, connection
from django.utils import timezone

PUBLISH_EVERY = 0.5
# How long the heartbeat waits for SQLite's write lock before using the cache instead.
SQLITE_WAIT_MS = 50

_current: ContextVar["Progress | None"] = ContextVar("job_progress", default=None)


def cache_key(job_id: int) -> str:
    return f"jobs:progress:{job_id}"


def report_phase(phase: str, *, total: int | None = None) -> None:
    """The running job moved on to this phase (no-op outside a job)."""
    progress = _current.get()
    if progress is not None:
        progress.phase = phase
        if total is not None:
            progress.total = total


def report_done(done: int) -> None:
    """The running job has done this many of its units (no-op outside a job)."""
    progress = _current.get()
    if progress is not None:
        progress.done = done


class Progress:
    """While entered: the current job's numbers, published by a heartbeat thread."""

    def __init__(self, job_id: int, *, total: int = 0, every: float | None = None):
        self.job_id = job_id
        self.phase = ""
        self.done = 0
        self.total = total
        self.every = every if every is not None else PUBLISH_EVERY
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"job-{job_id}-progress", daemon=True
        )

    def __enter__(self) -> "Progress":
        self._token = _current.set(self)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        _current.reset(self._token)

    def _beat(self) -> None:
        # This thread has a database connection of its own (Django's are per thread).
        try:
            if connection.vendor == "sqlite":
                connection.ensure_connection()
                connection.connection.execute(f"PRAGMA busy_timeout = {SQLITE_WAIT_MS}")
            while not self._stop.wait(self.every):
                self.publish()
        finally:
            connection.close()

    def publish(self) -> None:
        from .models import Job, JobStatus

        values = {
            "phase": self.phase,
            "done": self.done,
            "total": max(self.total, self.done),
            "progress_at": timezone.now(),
        }
        try:
            Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(**values)
        except OperationalError:
            cache.set(cache_key(self.job_id), values, timeout=3600)
