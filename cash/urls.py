"""Payments on the customer page and the matching screen. Not namespaced, like the
workspace's, whose action bar reverses its actions by their plain names."""

from django.urls import path

from . import views

urlpatterns = [
    path("customers/<int:pk>/payment/", views.customer_payment, name="customer_payment"),
    path(
        "customers/<int:pk>/credit-note/",
        views.customer_credit_note,
        name="customer_credit_note",
    ),
    path(
        "customers/<int:pk>/payment/reverse/",
        views.customer_payment_reverse,
        name="customer_payment_reverse",
    ),
    path("cash/", views.unapplied, name="cash_unapplied"),
    path("cash/apply/", views.apply, name="cash_apply"),
]
