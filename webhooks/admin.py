from django.contrib import admin

from .models import Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "active", "consecutive_failures", "created_at")
    exclude = ("secret",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_id", "endpoint", "event_type", "status", "attempts", "created_at")
    list_filter = ("status", "event_type")
