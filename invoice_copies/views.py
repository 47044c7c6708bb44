"""Attaching invoice copies: one PDF on an invoice's page of copies (opened from the
customer page), or a ZIP of PDFs named by invoice number with a report of what matched;
and the newest copy's download.

Anyone with a role reads any invoice's copy (reading writes nothing); attaching is for
those who may change the customer (accounts.roles). A ZIP may name anyone's invoices: a
collector's are attached, the others reported as not theirs."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import COLLECTOR, require_change, role_required
from invoices.models import Invoice

from .exceptions import ArchiveRefused, CopyError
from .forms import CopiesZipForm, CopyForm
from .report import CopiesReport
from .selectors import invoice_copies, invoice_copy_newest
from .services import copies_import_zip, copy_attach

REPORT_KEY = "invoice_copies_report"


def _posted(request):
    return request.POST if request.method == "POST" else None


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def attach(request, pk: int):
    invoice = get_object_or_404(
        Invoice.objects.select_related("customer", "customer__collector"), pk=pk
    )
    require_change(request.user, invoice.customer)
    form = CopyForm(_posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            attached = copy_attach(
                actor=request.user, invoice=invoice, filename=upload.name, content=form.content
            )
        except CopyError as error:
            form.add_error("file", str(error))
        else:
            if attached.created:
                messages.success(request, f"Copy of invoice {invoice.number} attached.")
            else:
                messages.info(
                    request,
                    f"That PDF is already on file for invoice {invoice.number}: nothing new "
                    "was stored.",
                )
            return redirect("customer_detail", pk=invoice.customer_id)
    return render(
        request,
        "invoice_copies/attach.html",
        {"invoice": invoice, "form": form, "copies": invoice_copies(invoice.pk)},
    )


@role_required(COLLECTOR)
@require_GET
def download(request, pk: int):
    """The invoice's newest copy."""
    document = invoice_copy_newest(pk)
    if document is None:
        raise Http404("This invoice has no copy on file.")
    response = HttpResponse(bytes(document.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["ETag"] = f'"{document.sha256}"'
    return response


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def import_zip(request):
    form = CopiesZipForm(_posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = copies_import_zip(actor=request.user, upload=form.cleaned_data["file"])
        except ArchiveRefused as error:
            form.add_error("file", str(error))
        else:
            request.session[REPORT_KEY] = report.as_data()
            return redirect("invoice_copies:report")
    return render(request, "invoice_copies/import.html", {"form": form})


@role_required(COLLECTOR)
@require_GET
def report(request):
    """The report of the last ZIP this user uploaded (kept in their session)."""
    data = request.session.get(REPORT_KEY)
    if not data:
        messages.info(request, "No ZIP of invoice copies uploaded yet.")
        return redirect("invoice_copies:import")
    return render(request, "invoice_copies/report.html", {"report": CopiesReport.from_data(data)})
