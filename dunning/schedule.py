"""The django-q2 schedule of the dunning run, created in code so every install has it."""

from django_q.models import Schedule

from .models import DunningSettings

NAME = "dunning"
FUNC = "dunning.tasks.run_dunning_task"


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


def on_post_migrate(sender, **kwargs) -> None:
    schedule_ensure()
