"""Read-only admin pages for looking things up. Every change goes through the services,
which keep balances derived and write the audit trail, so nothing is editable here."""

from django.contrib import admin

from .models import (
    Allocation,
    ColumnMapping,
    Contact,
    CreditNote,
    Customer,
    Dispute,
    ImportBatch,
    Invoice,
    Organisation,
    Payment,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "name", "currency", "collector", "on_hold", "do_not_contact"]
    list_select_related = ["collector"]
    search_fields = ["external_id", "name"]
    list_filter = ["currency", "debtor_type", "on_hold", "do_not_contact", "insolvent"]
    show_full_result_count = False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "customer", "due_date", "amount", "open_balance", "status"]
    list_select_related = ["customer"]
    search_fields = ["number"]
    list_filter = ["status", "currency"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["received_on", "customer", "amount", "currency", "reference"]
    list_select_related = ["customer"]
    search_fields = ["reference"]
    show_full_result_count = False


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "reason", "amount", "status", "opened_on", "resolved_on"]
    list_select_related = ["invoice"]
    list_filter = ["status", "reason"]


for model in (Organisation, Contact, CreditNote, Allocation, ImportBatch, ColumnMapping):
    admin.site.register(model, ReadOnlyAdmin)
