"""Write-offs wait for a manager: a collector proposes one from the invoice page, a manager
approves or declines it on the Write-offs page."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import COLLECTOR, MANAGER, has_role, require_change, role_required

from .exceptions import LedgerError
from .models import Invoice, WriteOffRequest, WriteOffStatus
from .money import format_money
from .services import write_off_approve, write_off_decline, write_off_propose, write_off_withdraw

DECIDED_ROWS = 50


@role_required(COLLECTOR)
@require_POST
def write_off_propose_view(request, pk: int):
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk)
    require_change(request.user, invoice.customer)
    try:
        proposal = write_off_propose(
            actor=request.user, invoice=invoice, reason=request.POST.get("reason", "")
        )
    except LedgerError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Write-off of {format_money(proposal.amount, proposal.currency)} proposed; "
            "a manager will approve or decline it.",
        )
    return redirect("invoice_detail", pk)


@role_required(COLLECTOR)
@require_POST
def write_off_withdraw_view(request, pk: int):
    proposal = get_object_or_404(WriteOffRequest.objects.select_related("invoice__customer"), pk=pk)
    require_change(request.user, proposal.invoice.customer)
    if proposal.proposed_by_id != request.user.pk and not has_role(request.user, MANAGER):
        messages.error(request, "Only the person who proposed it or a manager can withdraw it.")
    else:
        try:
            write_off_withdraw(actor=request.user, request=proposal)
        except LedgerError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "The proposed write-off was withdrawn.")
    return redirect("invoice_detail", proposal.invoice_id)


@role_required(MANAGER)
@require_GET
def write_off_list(request):
    rows = WriteOffRequest.objects.select_related(
        "invoice", "invoice__customer", "proposed_by", "decided_by"
    )
    pending = list(rows.filter(status=WriteOffStatus.PENDING).order_by("proposed_at", "id"))
    today = timezone.localdate()
    for proposal in pending:
        proposal.days_late = proposal.invoice.days_overdue(today)
    decided = rows.exclude(status=WriteOffStatus.PENDING).order_by("-decided_at", "-id")[
        :DECIDED_ROWS
    ]
    return render(request, "invoices/write_off_list.html", {"pending": pending, "decided": decided})


@role_required(MANAGER)
@require_POST
def write_off_decide(request, pk: int):
    proposal = get_object_or_404(WriteOffRequest.objects.select_related("invoice__customer"), pk=pk)
    require_change(request.user, proposal.invoice.customer)
    note = request.POST.get("note", "")
    number = proposal.invoice.number
    try:
        if request.POST.get("decision") == "approve":
            decided = write_off_approve(actor=request.user, request=proposal, note=note)
            messages.success(
                request,
                f"Invoice {number}: {decided.written_off} {decided.currency} written off "
                f"(credit note {decided.credit_note.number}).",
            )
        else:
            write_off_decline(actor=request.user, request=proposal, note=note)
            messages.success(request, f"Write-off of invoice {number} declined.")
    except LedgerError as error:
        messages.error(request, f"Invoice {number}: {error}")
    return redirect("write_off_list")
