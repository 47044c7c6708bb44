from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("invoices.urls")),
    path("import/", include("invoices.import_urls")),
    path("dashboard/", include("reports.urls")),
    path("letters/", include("letters.urls")),
    path("", include("dunning.urls")),
    path("", include("dunning.workspace_urls")),
    path("anymail/", include("anymail.urls")),
    path("admin/", admin.site.urls),
]
