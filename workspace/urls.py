"""The collector's workspace: the queue, the customer page and the calls. Not namespaced, as
the ledger's own pages link to them by their plain names."""

from django.urls import path

from . import call_views, check_views, customer_views, ladder_views, queue_views, record_views

urlpatterns = [
    path("queue/", queue_views.queue, name="queue"),
    path("queue/bulk/", queue_views.queue_bulk, name="queue_bulk"),
    path("customers/<int:pk>/", customer_views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/call/", customer_views.customer_call, name="customer_call"),
    path("customers/<int:pk>/promise/", customer_views.customer_promise, name="customer_promise"),
    path(
        "customers/<int:pk>/promise/cancel/",
        customer_views.customer_promise_cancel,
        name="customer_promise_cancel",
    ),
    path("customers/<int:pk>/dispute/", customer_views.customer_dispute, name="customer_dispute"),
    path(
        "customers/<int:pk>/dispute/resolve/",
        customer_views.customer_dispute_resolve,
        name="customer_dispute_resolve",
    ),
    path("customers/<int:pk>/plan/", customer_views.customer_plan, name="customer_plan"),
    path(
        "customers/<int:pk>/plan/preview/",
        customer_views.customer_plan_preview,
        name="customer_plan_preview",
    ),
    path("customers/<int:pk>/note/", customer_views.customer_note, name="customer_note"),
    path("customers/<int:pk>/hold/", customer_views.customer_hold, name="customer_hold"),
    path(
        "customers/<int:pk>/hold/release/",
        customer_views.customer_hold_release,
        name="customer_hold_release",
    ),
    path(
        "customers/<int:pk>/acknowledgement/",
        customer_views.customer_acknowledgement,
        name="customer_acknowledgement",
    ),
    path(
        "customers/<int:pk>/documents-request/",
        customer_views.customer_documents_request,
        name="customer_documents_request",
    ),
    path("customers/<int:pk>/send/", customer_views.customer_send, name="customer_send"),
    path("calls/", call_views.calls, name="calls"),
    path("calls/<int:pk>/done/", call_views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/settle/", check_views.message_settle, name="message_settle"),
]

urlpatterns += [
    path("customers/new/", record_views.new_customer, name="new_customer"),
    path("customers/<int:pk>/edit/", record_views.customer_edit, name="customer_edit"),
    path(
        "customers/<int:pk>/contacts/new/",
        record_views.customer_contact_add,
        name="customer_contact_add",
    ),
    path("contacts/<int:pk>/edit/", record_views.contact_edit, name="contact_edit"),
]

urlpatterns += [
    path("customers/<int:pk>/move/", ladder_views.customer_move, name="customer_move"),
]
