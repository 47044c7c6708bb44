"""The manager's dashboard, its drill-down from an aging bucket to the invoices in it, and
its exports. Every view reads the same filter form, so an export holds what the page shows."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import MANAGER, role_required
from invoices.selectors import uncounted_page

from . import export_tasks, exports
from .aging import aging_invoices, buckets_for
from .credit_holds import credit_holds_csv
from .forms import ReportFilterForm, report_filters
from .selectors import aging_part, bucket_totals
from .selectors import dashboard as dashboard_read


def _form(request) -> tuple[ReportFilterForm, dict]:
    return report_filters(request.GET, today=timezone.localdate())


@role_required(MANAGER)
@require_GET
def dashboard(request):
    form, filters = _form(request)
    board = dashboard_read(filters, today=timezone.localdate())
    return render(request, "reports/dashboard.html", {"form": form, "board": board})


def _drill(request, filters: dict):
    """The chosen bucket and its invoices; 404 for an unknown bucket."""
    key = request.GET.get("bucket")
    bucket = next((b for b in buckets_for(filters["edges"]) if b.key == key), None)
    if bucket is None:
        raise Http404("No such aging bucket.")
    invoices = aging_invoices(
        as_of=filters["as_of"],
        today=timezone.localdate(),
        bucket=bucket,
        currency=filters["currency"],
        collector_id=filters["collector_id"],
        unassigned=filters["unassigned"],
    )
    return bucket, invoices


@role_required(MANAGER)
@require_GET
def aging_drill(request):
    """The invoices behind one bucket, as of the chosen date, with their balance then, and
    the bucket's total per currency."""
    form, filters = _form(request)
    bucket, invoices = _drill(request, filters)
    board = aging_part({**filters, "by": "currency"}, today=timezone.localdate())
    page = uncounted_page(invoices, request.GET.get("page"))
    context = {
        "form": form,
        "board": board,
        "bucket": bucket,
        "page": page,
        "totals": bucket_totals(board, bucket),
    }
    return render(request, "reports/aging_drill.html", context)


@role_required(MANAGER)
@require_GET
def export(request, report: str, fmt: str):
    _, filters = _form(request)
    if (report, fmt) == (exports.AGING_INVOICES, "csv"):
        # The drill-down's invoices, every page of them; past WORKER_ROWS, by the worker.
        bucket, invoices = _drill(request, filters)
        if invoices[: export_tasks.WORKER_ROWS + 1].count() > export_tasks.WORKER_ROWS:
            job = export_tasks.aging_invoices_start(
                request, filters, bucket, total=invoices.count()
            )
            return redirect("jobs:detail", pk=job.pk)
        return exports.aging_invoices_csv(filters, bucket, invoices)
    if report not in exports.REPORTS or fmt not in ("csv", "pdf"):
        raise Http404("No such export.")
    return exports.respond(report, fmt, filters, today=timezone.localdate())


@role_required(MANAGER)
@require_GET
def credit_holds_export(request):
    """Every account on credit hold, for the sales side (CSV; not filtered: a hold is for
    every currency and collector)."""
    return credit_holds_csv(today=timezone.localdate())
