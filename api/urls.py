from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from . import bulk, collections_views, ledger_views, report_views, views
from .errors import not_found

app_name = "api"

# Path converters, not regexes: an external id or invoice number may hold dots.
router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("invoices", views.InvoiceViewSet, basename="invoice")
router.register("contacts", ledger_views.ContactViewSet, basename="contact")
router.register("payments", ledger_views.PaymentViewSet, basename="payment")
router.register("credit-notes", ledger_views.CreditNoteViewSet, basename="credit-note")
router.register(
    "invoices/<str:number>/copy", ledger_views.InvoiceCopyViewSet, basename="invoice-copy"
)
router.register("disputes", collections_views.DisputeViewSet, basename="dispute")
router.register("promises", collections_views.PromiseViewSet, basename="promise")
router.register("plans", collections_views.PlanViewSet, basename="plan")
router.register("notes", collections_views.NoteViewSet, basename="note")
router.register("touches", collections_views.TouchViewSet, basename="touch")
router.register("tasks", collections_views.TaskViewSet, basename="task")
router.register("policies", report_views.PolicyViewSet, basename="policy")
router.register("reports/aging", report_views.AgingViewSet, basename="report-aging")
router.register("reports/metrics", report_views.MetricsViewSet, basename="report-metrics")

# The document and its reference page hold no data: public, no token needed.
PUBLIC = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**PUBLIC), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", **PUBLIC), name="docs"),
    # Before the router: "bulk" would otherwise read as a customer's external id.
    path("customers/bulk/", bulk.BulkCustomersView.as_view(), name="customer-bulk"),
    path("invoices/bulk/", bulk.BulkInvoicesView.as_view(), name="invoice-bulk"),
    path("payments/bulk/", bulk.BulkPaymentsView.as_view(), name="payment-bulk"),
    *router.urls,
    # Anything else under /api/v1/ answers 404 in the API's error shape, not an HTML page.
    re_path(r"^[\s\S]*$", not_found, name="not_found"),  # [\s\S]: a path may hold a newline
]
