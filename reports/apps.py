from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from . import receivers, tasks

        receivers.connect()
        post_migrate.connect(tasks.on_post_migrate, sender=self)
