"""Polling the replies mailbox every few minutes, only where INBOX_IMAP_URL is set."""

from django.conf import settings
from django_q.models import Schedule

from dunning.schedule import every

NAME = "fetch replies"
FUNC = "inbox.tasks.fetch_replies_task"
MINUTES = 5


def schedule_ensure() -> Schedule | None:
    if not settings.INBOX_IMAP_URL:
        Schedule.objects.filter(name=NAME).delete()
        return None
    return every(MINUTES, name=NAME, func=FUNC)


def on_post_migrate(sender, **kwargs) -> None:
    schedule_ensure()
