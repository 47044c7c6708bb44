"""django-q2 task functions: a few lines each that call a service."""

import time

from django.conf import settings
from django.utils import timezone

from .credit_hold import credit_holds_apply
from .services import dunning_cycle

# Delivery stops claiming messages this long before django-q2 would kill the task, so a
# routine run never dies mid-send (which would leave outcomes unknown); the rest wait for
# the next run.
MARGIN_SECONDS = 60


def run_dunning_task() -> int:
    """The scheduled run: settle holds, plan and record, deliver, as of now. Safe to run
    twice or on two workers at once: the database keeps every step to one touch."""
    timeout = settings.Q_CLUSTER.get("timeout") or 300
    deadline = time.monotonic() + max(timeout - MARGIN_SECONDS, timeout / 2)
    return len(dunning_cycle(as_of=timezone.now(), deadline=deadline))


def credit_holds_task() -> int:
    """The scheduled credit-hold rule, as of today; returns how many accounts changed."""
    result = credit_holds_apply(as_of_date=timezone.localdate())
    return len(result.held) + len(result.released)
