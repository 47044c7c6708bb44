from django.urls import path

from . import views

app_name = "letters"

urlpatterns = [
    path("templates/", views.template_list, name="template_list"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:pk>/preview.pdf", views.template_preview_pdf, name="template_preview_pdf"),
    path("settings/", views.settings_edit, name="settings"),
    path("settings/logo/", views.settings_logo, name="settings_logo"),
    path("rates/", views.reference_rates, name="reference_rates"),
    path("print/", views.print_batch, name="print_batch"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("customers/<int:pk>/statement.pdf", views.statement, name="statement"),
]
