from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DunningConfig(AppConfig):
    name = "dunning"
    verbose_name = "Dunning"

    def ready(self):
        from letters.signals import template_uses

        from . import credit_hold, ladder, limitation, schedule, selectors, webhooks

        webhooks.connect()
        credit_hold.connect()
        template_uses.connect(selectors.template_uses_answer)
        post_migrate.connect(ladder.on_post_migrate, sender=self)
        post_migrate.connect(schedule.on_post_migrate, sender=self)
        post_migrate.connect(limitation.on_post_migrate, sender=self)
