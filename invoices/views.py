"""The ledger screens: queue, customers and invoices. Read-only for now; each list answers
an htmx request with just its table so filtering does not reload the page."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from accounts.roles import COLLECTOR, read_only_notice, role_required

from .forms import CustomerFilterForm, InvoiceFilterForm
from .models import Customer, Invoice, InvoiceStatus, WriteOffStatus
from .selectors import (
    CappedPaginator,
    customer_currencies,
    customers_page,
    invoice_page,
    invoices_search,
    with_days_overdue,
)


def wants_partial(request: HttpRequest) -> bool:
    """An htmx swap of the results; a history restore or a boosted link needs the full page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def render_list(request, *, page_template: str, partial_template: str, context: dict):
    template = partial_template if wants_partial(request) else page_template
    response = render(request, template, context)
    # The same URL answers with a fragment or a whole page; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required(COLLECTOR)
@require_GET
def customer_list(request):
    as_of = timezone.localdate()
    form = CustomerFilterForm(request.GET, currencies=customer_currencies())
    filters = form.filters()
    page = customers_page(as_of=as_of, raw_page=request.GET.get("page"), **filters)
    return render_list(
        request,
        page_template="invoices/customer_list.html",
        partial_template="invoices/_customer_table.html",
        context={"form": form, "page": page, "sort": filters["sort"], "as_of": as_of},
    )


@role_required(COLLECTOR)
@require_GET
def invoice_list(request):
    as_of = timezone.localdate()
    form = InvoiceFilterForm(request.GET, currencies=customer_currencies())
    filters = form.filters()
    customer = None
    if filters["customer_id"]:
        customer = Customer.objects.filter(pk=filters["customer_id"]).first()
    paginator = CappedPaginator(invoices_search(as_of=as_of, **filters))
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = with_days_overdue(page.object_list, as_of=as_of)
    return render_list(
        request,
        page_template="invoices/invoice_list.html",
        partial_template="invoices/_invoice_table.html",
        context={
            "form": form,
            "page": page,
            "customer": customer,
            "sort": filters["sort"],
            "as_of": as_of,
        },
    )


@role_required(COLLECTOR)
@require_GET
def invoice_detail(request, pk: int):
    invoice = get_object_or_404(Invoice.objects.select_related("customer__collector"), pk=pk)
    as_of = timezone.localdate()
    write_offs = list(
        invoice.write_offs.select_related("proposed_by", "decided_by", "credit_note")[:10]
    )
    pending = next((w for w in write_offs if w.status == WriteOffStatus.PENDING), None)
    return render(
        request,
        "invoices/invoice_detail.html",
        {
            "view": invoice_page(invoice, as_of=as_of),
            "invoice": invoice,
            "as_of": as_of,
            "write_off_history": [w for w in write_offs if w is not pending],
            "write_off_pending": pending,
            "read_only": read_only_notice(request.user, invoice.customer),
            "can_propose_write_off": pending is None and invoice.status == InvoiceStatus.OPEN,
        },
    )
