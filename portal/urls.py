from django.urls import path

from . import (
    check_views,
    contact_views,
    dispute_views,
    plan_views,
    promise_views,
    request_views,
    views,
)
from .payments import views as payment_views

app_name = "portal"

# Staff pages first: "staff" is never a token (tokens are 43 characters).
urlpatterns = [
    path("staff/contacts/<int:pk>/link/", views.link_make, name="link_make"),
    path("staff/contacts/<int:pk>/revoke/", views.links_revoke, name="links_revoke"),
    *request_views.urlpatterns,
    *payment_views.urlpatterns,
    path("<str:token>/", views.page, name="page"),
    path("<str:token>/statement/", views.statement, name="statement"),
    path("<str:token>/invoices/<int:pk>/copy/", views.invoice_copy, name="invoice_copy"),
    path("<str:token>/letters/<int:pk>/", views.letter, name="letter"),
    *dispute_views.urlpatterns,
    *promise_views.urlpatterns,
    *plan_views.urlpatterns,
    *contact_views.urlpatterns,
    *check_views.urlpatterns,
]
