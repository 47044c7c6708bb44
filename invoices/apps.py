from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InvoicesConfig(AppConfig):
    name = "invoices"
    verbose_name = "Ledger"

    def ready(self):
        from .importing import shipped_mappings

        post_migrate.connect(shipped_mappings.on_post_migrate, sender=self)
