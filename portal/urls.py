from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("staff/contacts/<int:pk>/link/", views.link_make, name="link_make"),
    path("staff/contacts/<int:pk>/revoke/", views.links_revoke, name="links_revoke"),
    path("<str:token>/", views.page, name="page"),
    path("<str:token>/statement/", views.statement, name="statement"),
    path("<str:token>/invoices/<int:pk>/copy/", views.invoice_copy, name="invoice_copy"),
    path("<str:token>/letters/<int:pk>/", views.letter, name="letter"),
]
