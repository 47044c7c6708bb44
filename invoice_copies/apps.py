from django.apps import AppConfig


class InvoiceCopiesConfig(AppConfig):
    name = "invoice_copies"
    verbose_name = "Invoice copies"
