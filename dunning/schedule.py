"""The django-q2 schedule of the dunning run, created in code so every install has it."""

from django_q.models import Schedule

from .models import DunningSettings

NAME = "dunning"
FUNC = "dunning.tasks.run_dunning_task"
# The credit-hold rule (dunning.credit_hold): hourly, so a hold lifts soon after the payment
# that brings the account back in terms, at the cost of two reads when nothing changed.
CREDIT_HOLDS = "credit holds"
CREDIT_HOLDS_FUNC = "dunning.tasks.credit_holds_task"
CREDIT_HOLDS_MINUTES = 60


def every(minutes: int, *, name: str, func: str) -> Schedule:
    """Create or update a schedule that runs func every `minutes`, for ever."""
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
    return schedule


def schedule_ensure() -> Schedule:
    """Create or update the run's schedule (every DunningSettings.schedule_minutes)."""
    return every(DunningSettings.current().schedule_minutes or 15, name=NAME, func=FUNC)


def credit_holds_schedule_ensure() -> Schedule:
    return every(CREDIT_HOLDS_MINUTES, name=CREDIT_HOLDS, func=CREDIT_HOLDS_FUNC)


def on_post_migrate(sender, **kwargs) -> None:
    schedule_ensure()
    credit_holds_schedule_ensure()
