"""What /healthz checks. Each check answers {"ok": bool} and, for the two that are about
time, "age_seconds" (null when there is nothing to measure). Only the check names and ages
leave the app: why a check failed goes to the log, never to the answer."""

import datetime as dt
import logging

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min, Q
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule
from django_q.signing import BadSignature, SignedPackage

from dunning.models import Run
from invoices.models import Invoice

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 2


def health_check(*, now: dt.datetime) -> dict:
    """Run every check; status is "ok" only when all of them pass."""
    broker = _safely("broker", _broker)
    checks = {
        "database": _safely("database", _database),
        "broker": broker,
        # Without the broker the worker cannot be seen (nor reach its tasks).
        "worker": _safely("worker", _worker, now) if broker["ok"] else _failed("worker"),
        "dunning_run": _safely("dunning_run", last_dunning_run, now),
    }
    status = "ok" if all(check["ok"] for check in checks.values()) else "fail"
    return {"status": status, "checks": checks}


TIMED = {"worker", "dunning_run"}  # checks that also answer age_seconds


def _failed(name: str) -> dict:
    return {"ok": False, "age_seconds": None} if name in TIMED else {"ok": False}


def _safely(name: str, check, *args) -> dict:
    try:
        return check(*args)
    except Exception:
        logger.warning("health check %s failed", name, exc_info=True)
        return _failed(name)


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _redis():
    import redis  # the "redis" extra: installed wherever REDIS_URL is set

    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )


def _broker() -> dict:
    if settings.REDIS_URL:
        return {"ok": bool(_redis().ping())}
    OrmQ.objects.using(Conf.ORM or "default").exists()
    return {"ok": True}


def _worker(now: dt.datetime) -> dict:
    """When the task worker (django-q2 cluster) was last seen, within HEALTHZ_WORKER_MAX_AGE.

    With Redis, every cluster writes its status there every half second (kept 3 s): the
    newest one's time. With the database as broker a cluster keeps its status in its own
    process's cache, out of sight, so the sign of life is its scheduler: it hands out due
    schedules (the webhooks' every minute) at least every 30 s; a schedule left overdue
    means no cluster is running. The age is then how late the most overdue schedule is."""
    max_age = settings.HEALTHZ_WORKER_MAX_AGE
    if settings.REDIS_URL:
        seen = [stat.timestamp for stat in _redis_clusters()]
        if not seen:
            return _failed("worker")
        age = max(0, round((now - max(seen)).total_seconds()))
    else:
        due = (
            Schedule.objects.exclude(repeats=0)
            # The schedules this installation's cluster hands out, as its scheduler picks them.
            .filter(Q(cluster__isnull=True) | Q(cluster=Conf.CLUSTER_NAME))
            .aggregate(first=Min("next_run"))["first"]
        )
        age = 0 if due is None else max(0, round((now - due).total_seconds()))
    return {"ok": age <= max_age, "age_seconds": age}


def _redis_clusters() -> list:
    """django_q's Stat.get_all(), read through a client with time-outs."""
    client = _redis()
    keys = client.keys(f"{Conf.Q_STAT}:*")
    stats = []
    for pack in client.mget(keys) if keys else []:
        if pack is None:
            continue  # expired between the two calls
        try:
            stats.append(SignedPackage.loads(pack))
        except BadSignature:
            continue
    return stats


def last_dunning_run(now: dt.datetime) -> dict:
    """How long ago the last scheduled dunning run finished without error, within
    HEALTHZ_RUN_MAX_AGE hours (dunning.Run: a run that failed does not count). No run at
    all is fine only while there are no invoices to chase (a new installation); with
    invoices and no run, the worker never ran it."""
    finished = Run.objects.filter(succeeded=True).aggregate(last=Max("finished_at"))["last"]
    if finished is None:
        return {"ok": not Invoice.objects.exists(), "age_seconds": None}
    age = max(0, round((now - finished).total_seconds()))
    return {"ok": age <= settings.HEALTHZ_RUN_MAX_AGE * 3600, "age_seconds": age}
