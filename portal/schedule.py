"""Sending what a dropped task left behind: confirmations wait at most a few minutes."""

from django_q.models import Schedule

from dunning.schedule import every

NAME = "customer page confirmations"
FUNC = "portal.tasks.confirmations_sweep_task"
MINUTES = 5


def schedule_ensure() -> Schedule:
    return every(MINUTES, name=NAME, func=FUNC)


def on_post_migrate(sender, **kwargs) -> None:
    schedule_ensure()
