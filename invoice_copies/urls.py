from django.urls import path

from . import views

app_name = "invoice_copies"

urlpatterns = [
    path("invoices/<int:pk>/copy/", views.attach, name="attach"),
    path("invoices/<int:pk>/copy.pdf", views.download, name="download"),
    path("invoices/copies/", views.import_zip, name="import"),
    path("invoices/copies/report/", views.report, name="report"),
]
