from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from dunning.webhooks import tracking_urlpatterns
from inbox.webhooks import inbound_urlpatterns

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("invoices.urls")),
    path("import/", include("invoices.import_urls")),
    path("jobs/", include("jobs.urls")),
    path("dashboard/", include("reports.urls")),
    path("letters/", include("letters.urls")),
    path("", include("dunning.urls")),
    path("", include("workspace.urls")),
    path("", include("invoice_copies.urls")),
    path("", include("cash.urls")),
    path("inbox/", include("inbox.urls")),
    path("c/", include("portal.urls")),
    path("settings/webhooks/", include("webhooks.urls")),
    path("api/v1/", include("api.urls")),
    path("settings/api-tokens/", include("api.screen_urls")),
    # Only the configured ESP's delivery webhook exists, at anymail's own path.
    path("anymail/", include((tracking_urlpatterns(settings.ESP), "anymail"))),
    path("anymail/", include((inbound_urlpatterns(settings.ESP), "anymail_inbound"))),
    path("admin/", admin.site.urls),
    # /healthz and /metrics, outside any login: for load balancers and Prometheus.
    path("", include("ops.urls")),
]

handler403 = "accounts.views.permission_denied"
