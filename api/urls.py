from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from . import views
from .errors import not_found

app_name = "api"

# Path converters, not regexes: an external id or invoice number may hold dots.
router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("invoices", views.InvoiceViewSet, basename="invoice")

# The document and its reference page hold no data: public, no token needed.
PUBLIC = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**PUBLIC), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", **PUBLIC), name="docs"),
    *router.urls,
    # Anything else under /api/v1/ answers 404 in the API's error shape, not an HTML page.
    re_path(r"^.*$", not_found, name="not_found"),
]
