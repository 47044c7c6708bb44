from django.urls import path

from . import views, write_off_views

urlpatterns = [
    path("customers/", views.customer_list, name="customer_list"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path(
        "invoices/<int:pk>/write-off/",
        write_off_views.write_off_propose_view,
        name="invoice_write_off_propose",
    ),
    path("write-offs/", write_off_views.write_off_list, name="write_off_list"),
    path("write-offs/<int:pk>/decide/", write_off_views.write_off_decide, name="write_off_decide"),
    path(
        "write-offs/<int:pk>/withdraw/",
        write_off_views.write_off_withdraw_view,
        name="write_off_withdraw",
    ),
]
