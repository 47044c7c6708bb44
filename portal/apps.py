from django.apps import AppConfig


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Customer page"

    def ready(self):
        # Messages carry a link to the customer's page; dunning calls this to make it.
        from dunning import delivery

        from .services import portal_url_for_message

        delivery.portal_link_maker = portal_url_for_message
