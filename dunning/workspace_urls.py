"""The collector's workspace: the queue and the customer page. Not namespaced, as the
ledger's own pages link to both by their plain names."""

from django.urls import path

from . import customer_views, queue_views

urlpatterns = [
    path("queue/", queue_views.queue, name="queue"),
    path("customers/<int:pk>/", customer_views.customer_detail, name="customer_detail"),
]
