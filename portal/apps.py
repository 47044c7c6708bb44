from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Customer page"

    def ready(self):
        # Messages carry a link to the customer's page; dunning calls this to make it.
        from dunning import delivery

        from . import schedule
        from .services import portal_url_for_message

        post_migrate.connect(schedule.on_post_migrate, sender=self)

        delivery.portal_link_maker = portal_url_for_message
