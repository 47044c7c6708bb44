from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks out"

    def ready(self):
        from . import schedule

        post_migrate.connect(schedule.on_post_migrate, sender=self)
