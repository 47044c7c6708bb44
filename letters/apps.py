from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = "Letters"

    def ready(self):
        from . import defaults

        post_migrate.connect(defaults.on_post_migrate, sender=self)
