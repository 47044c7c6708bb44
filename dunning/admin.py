"""Admin pages for the legal reference tables admins keep current (LEGAL.md: every period and
limit belongs in a dated table). Acknowledgements are recorded on the customer page, which
writes the audit trail, so they are read-only here."""

from django.contrib import admin

from .models import Acknowledgement, LimitationPeriod, SmallClaimsLimit


@admin.register(LimitationPeriod)
class LimitationPeriodAdmin(admin.ModelAdmin):
    list_display = ["country", "region", "kind", "valid_from", "years", "restarts", "note"]
    list_filter = ["country", "kind", "restarts"]
    search_fields = ["country", "region", "note"]


@admin.register(SmallClaimsLimit)
class SmallClaimsLimitAdmin(admin.ModelAdmin):
    list_display = ["country", "region", "claimant", "valid_from", "limit", "currency", "fee"]
    list_filter = ["country", "claimant"]
    search_fields = ["country", "region", "note"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["customer", "acknowledged_on", "recorded_by", "recorded_at"]
    list_select_related = ["customer", "recorded_by"]
    search_fields = ["customer__name", "customer__external_id", "note"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
