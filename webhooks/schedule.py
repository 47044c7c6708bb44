"""The worker's webhook run every minute, created in code so every install has it."""

from django_q.models import Schedule

from dunning.schedule import every

NAME = "webhooks"
FUNC = "webhooks.tasks.webhooks_task"
MINUTES = 1


def schedule_ensure() -> Schedule:
    return every(MINUTES, name=NAME, func=FUNC)


def on_post_migrate(sender, **kwargs) -> None:
    schedule_ensure()
