"""The collector's queue: customers worth chasing, best first (see dunning.queue for the
order), with filters, and bulk actions that always ask for confirmation first."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import COLLECTOR, MANAGER, changeable, has_role, refusal, role_required
from dunning.models import QueueEntry
from invoices.models import Customer
from invoices.selectors import customer_currencies
from invoices.views import render_list

from .bulk import customers_assign, customers_hold, customers_send_now
from .queue_forms import BULK_ACTIONS, BulkForm, QueueFilterForm
from .queue_selectors import queue_page


@role_required(COLLECTOR)
@require_GET
def queue(request):
    now = timezone.now()
    today = timezone.localdate()
    managing = has_role(request.user, MANAGER)
    form = QueueFilterForm(request.GET, currencies=customer_currencies(), managing=managing)
    filters = form.filters()
    if not managing:
        filters["collector"] = request.user
    page = queue_page(raw_page=request.GET.get("page"), now=now, today=today, **filters)
    return render_list(
        request,
        page_template="workspace/queue.html",
        partial_template="workspace/_queue_table.html",
        context={"form": form, "page": page, "now": now, "today": today, "managing": managing},
    )


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("queue")


@role_required(COLLECTOR)
@require_POST
def queue_bulk(request):
    """First POST: the confirmation page, listing the customers and asking what the action
    needs (a reason, a collector). Second POST (confirm): do it, one customer at a time."""
    managing = has_role(request.user, MANAGER)
    form = BulkForm(request.POST, today=timezone.localdate(), managing=managing)
    chosen = [int(v) for v in request.POST.getlist("customer") if v.isdigit()]
    ticked = Customer.objects.filter(pk__in=chosen).order_by("name")
    customers = list(changeable(request.user, ticked))
    # Someone else's customer (reassigned since the queue was shown, or a forged id) is left
    # out with the reason, the same reason the customer page gives.
    for other in ticked.exclude(pk__in=[c.pk for c in customers]).select_related("collector"):
        messages.warning(request, refusal(request.user, other))
    if not customers:
        messages.error(request, "Tick at least one of your customers first.")
        return _back(request)
    action = request.POST.get("action")
    if action not in dict(BULK_ACTIONS) or (action == "assign" and not managing):
        messages.error(request, "Choose one of the actions offered.")
        return _back(request)
    confirming = request.POST.get("confirm") == "1"
    if confirming and form.is_valid():
        data = form.cleaned_data
        if action == "send":
            result = customers_send_now(
                actor=request.user, customers=customers, as_of=timezone.now()
            )
            verb = "Next step sent for"
        elif action == "hold":
            result = customers_hold(
                actor=request.user,
                customers=customers,
                reason=data["reason"].strip(),
                until=data["until"],
            )
            verb = "Put on hold:"
        else:
            result = customers_assign(
                actor=request.user, customers=customers, collector=form.assignee()
            )
            verb = "Assigned:"
        if result.done:
            messages.success(request, f"{verb} {len(result.done)} customer(s).")
        for name, why in result.skipped:
            messages.warning(request, f"{name}: {why}")
        return _back(request)
    entries = QueueEntry.objects.in_bulk([c.pk for c in customers])
    rows = [(customer, entries.get(customer.pk)) for customer in customers]
    return render(
        request,
        "workspace/queue_bulk.html",
        {
            # The first visit asks; errors are for what the user has filled in.
            "form": form if confirming else BulkForm(today=timezone.localdate(), managing=managing),
            "rows": rows,
            "action": action,
            "next": request.POST.get("next") or reverse("queue"),
            "now": timezone.now(),
        },
    )
