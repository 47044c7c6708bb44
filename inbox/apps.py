from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Replies coming in"

    def ready(self):
        from . import schedule, webhooks

        webhooks.connect()
        post_migrate.connect(schedule.on_post_migrate, sender=self)
