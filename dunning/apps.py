from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DunningConfig(AppConfig):
    name = "dunning"
    verbose_name = "Dunning"

    def ready(self):
        from . import ladder, limitation, schedule, webhooks

        webhooks.connect()
        post_migrate.connect(ladder.on_post_migrate, sender=self)
        post_migrate.connect(schedule.on_post_migrate, sender=self)
        post_migrate.connect(limitation.on_post_migrate, sender=self)
