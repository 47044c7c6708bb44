"""django-q2 task functions: a few lines each that call a service."""

import datetime as dt
import time

from django.conf import settings
from django.utils import timezone

from .credit_hold import credit_holds_apply
from .models import Run
from .services import dunning_cycle_stream

# Delivery stops claiming messages this long before django-q2 would kill the task, so a
# routine run never dies mid-send (which would leave outcomes unknown); the rest wait for
# the next run.
MARGIN_SECONDS = 60


# Runs are recorded for health and metrics; older records are dropped as new runs start.
RUNS_KEPT_DAYS = 90


def run_dunning_task() -> int:
    """The scheduled run: settle holds, plan and record, deliver, as of now. Safe to run
    twice or on two workers at once: the database keeps every step to one touch. Each run
    is recorded (Run): when it started, finished, and whether it failed."""
    timeout = settings.Q_CLUSTER.get("timeout") or 300
    deadline = time.monotonic() + max(timeout - MARGIN_SECONDS, timeout / 2)
    now = timezone.now()
    Run.objects.filter(started_at__lt=now - dt.timedelta(days=RUNS_KEPT_DAYS)).delete()
    run = Run.objects.create(started_at=now)
    try:
        # Counted as they stream: the run holds one chunk of customers' results at a time.
        touches = sum(1 for _ in dunning_cycle_stream(as_of=now, deadline=deadline))
    except BaseException as error:
        _finish(run, succeeded=False, error=f"{type(error).__name__}: {error}"[:500])
        raise
    _finish(run, succeeded=True, touches=touches)
    return touches


def _finish(run: Run, **fields) -> None:
    Run.objects.filter(pk=run.pk).update(finished_at=timezone.now(), **fields)


def credit_holds_task() -> int:
    """The scheduled credit-hold rule, as of today; returns how many accounts changed."""
    result = credit_holds_apply(as_of_date=timezone.localdate())
    return len(result.held) + len(result.released)
