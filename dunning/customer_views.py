"""The customer page: where a collector works one customer (the ledger's figures, the
engine's next step, the timeline) and every action on them, in place."""

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import COLLECTOR, role_required
from invoices.models import Customer
from invoices.selectors import customer_page


@role_required(COLLECTOR)
@require_GET
def customer_detail(request, pk: int):
    customer = get_object_or_404(Customer.objects.select_related("collector"), pk=pk)
    as_of = timezone.localdate()
    return render(
        request,
        "invoices/customer_detail.html",
        {"view": customer_page(customer, as_of=as_of), "customer": customer, "as_of": as_of},
    )
