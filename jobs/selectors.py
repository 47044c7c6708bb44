"""Reading a job as its page shows it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from accounts.roles import MANAGER, has_role

from .models import Job, JobStatus
from .progress import cache_key

# A running job whose heartbeat (every half second) has been silent this long lost its worker.
STALE_AFTER = timedelta(minutes=1)


def stale_after() -> timedelta:
    """On SQLite a worker's heartbeat may be unwritable for as long as its transaction lasts
    (and a per-process cache hides it from the web): wait out the worker's own time limit."""
    if connection.vendor == "postgresql":
        return STALE_AFTER
    return max(STALE_AFTER, timedelta(seconds=settings.Q_CLUSTER.get("timeout", 300)))


def may_follow(user, job: Job) -> bool:
    """Whoever started a job follows it, as do managers and admins; each needs the role of
    the screens that start jobs of its kind."""
    if not has_role(user, job.minimum_role):
        return False
    return job.user_id == user.pk or has_role(user, MANAGER)


def job_as_seen(job: Job, *, now: datetime) -> Job:
    """The job with its latest progress (the cache's, when the heartbeat could not reach the
    database) and `stopped` set when its worker is gone."""
    if job.status == JobStatus.RUNNING:
        cached = cache.get(cache_key(job.pk))
        if cached and (job.progress_at is None or cached["progress_at"] > job.progress_at):
            for name, value in cached.items():
                setattr(job, name, value)
    job.stopped = (
        job.status == JobStatus.RUNNING
        and job.progress_at is not None
        and now - job.progress_at > stale_after()
    )
    job.waiting_long = job.status == JobStatus.QUEUED and now - job.created_at > stale_after()
    return job
