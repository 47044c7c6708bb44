from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.customer_list, name="customer_list"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
]
