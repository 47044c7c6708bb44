"""django-q2 task functions: a few lines each that call a service."""

from django.utils import timezone

from .services import dunning_cycle


def run_dunning_task() -> int:
    """The scheduled run: settle holds, plan and record, deliver, as of now. Safe to run
    twice or on two workers at once: the database keeps every step to one touch."""
    return len(dunning_cycle(as_of=timezone.now()))
