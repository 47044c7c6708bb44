"""Payments taken on the customer page (record, credit, reverse) and the matching screen
for cash that came in without an invoice to pay.

The customer page's actions answer as its other actions do (workspace.customer_views):
the form alone for htmx, else the whole page; a success redirects to the page. Changing is
for those who may change the customer (accounts.roles); the matching screen lists and
applies only the payments of the customers the user may change."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import COLLECTOR, role_required
from invoices.dates import format_day
from invoices.exceptions import LedgerError
from invoices.forms import AmountField
from invoices.models import MONEY, Invoice
from invoices.money import ZERO, format_money
from workspace.customer_views import _action, _customer_to_change, _done, _posted

from . import services
from .forms import CreditNoteForm, PaymentForm, PaymentReverseForm, parse_plan
from .selectors import payments_in_scope, unapplied_page

# --- on the customer page ---------------------------------------------------------------------


def _amount_from(raw):
    """The amount typed so far (the allocation table refills from it), or None."""
    try:
        return AmountField(**MONEY, min_value=ZERO, required=False).clean(raw)
    except ValidationError:
        return None


def _recorded_text(payment, applied: list[tuple[str, Decimal]]) -> str:
    """What the collector reads after recording: where the money went, and what is left."""
    currency = payment.currency
    text = f"Payment of {format_money(payment.amount, currency)} recorded"
    if applied:
        text += ": " + ", ".join(f"{format_money(a, currency)} to {n}" for n, a in applied)
    text += "."
    left = payment.amount - sum((amount for _, amount in applied), ZERO)
    if left > 0:
        text += f" {format_money(left, currency)} is unapplied cash: apply it from Unapplied cash."
    return text


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_payment(request, pk: int):
    """Record a payment taken during a call and apply it: oldest invoices first unless the
    collector says otherwise per invoice; what is left over stays as unapplied cash."""
    customer = _customer_to_change(request, pk)
    today = timezone.localdate()
    form = PaymentForm(
        _posted(request),
        customer=customer,
        today=today,
        refill_url=request.path,
        initial={"received_on": today, "amount": _amount_from(request.GET.get("amount"))},
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_take(
                actor=request.user,
                customer=customer,
                amount=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                reference=data["reference"],
                allocations=form.allocations,
            )
        except LedgerError as error:
            form.add_error(None, str(error))
        else:
            applied = list(
                payment.allocations.order_by("invoice__due_date", "invoice__number").values_list(
                    "invoice__number", "amount"
                )
            )
            return _done(request, customer, _recorded_text(payment, applied))
    return _action(request, customer, "cash/_action_payment.html", {"form": form})


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_credit_note(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = CreditNoteForm(
        _posted(request), customer=customer, initial={"invoice": request.GET.get("invoice")}
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            credit = services.credit_note_take(
                actor=request.user,
                invoice=data["invoice"],
                amount=data["amount"],
                reason=data["reason"],
                issued_on=timezone.localdate(),
            )
        except LedgerError as error:
            form.add_error(None, str(error))
        else:
            return _done(
                request,
                customer,
                f"Credit note {credit.number} for {format_money(credit.amount, credit.currency)} "
                f"issued on {data['invoice'].number}.",
            )
    return _action(request, customer, "cash/_action_credit_note.html", {"form": form})


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_payment_reverse(request, pk: int):
    """Reverse a payment that bounced: the form names the payment and asks why; its
    button is the confirmation."""
    customer = _customer_to_change(request, pk)
    form = PaymentReverseForm(
        _posted(request), customer=customer, initial={"payment": request.GET.get("payment")}
    )
    if form.is_valid():
        payment = form.cleaned_data["payment"]
        try:
            undone = services.payment_bounced(
                actor=request.user,
                payment=payment,
                on=timezone.localdate(),
                reason=form.cleaned_data["reason"],
            )
        except LedgerError as error:
            form.add_error(None, str(error))
        else:
            text = (
                f"Payment of {format_money(payment.amount, payment.currency)} received "
                f"{format_day(payment.received_on)} reversed"
            )
            if undone:
                text += f": {', '.join(u['invoice'] for u in undone)} open again"
            return _done(request, customer, text + ".")
    return _action(request, customer, "cash/_action_payment_reverse.html", {"form": form})


# --- the matching screen -----------------------------------------------------------------------


@role_required(COLLECTOR)
@require_GET
def unapplied(request):
    page = unapplied_page(request.user, request.GET.get("page"))
    return render(request, "cash/unapplied.html", {"page": page})


def _plan(request, payments: dict) -> list:
    """(payment, [(invoice, amount)]) for the payments asked for, from their posted plans;
    LedgerError if a plan is not one."""
    plans = {}
    for payment_id in payments:
        pairs = parse_plan(request.POST.get(f"plan-{payment_id}", ""))
        if pairs is None:
            raise LedgerError("Nothing to apply: the proposal for a payment was missing.")
        plans[payment_id] = pairs
    wanted = {invoice_id for pairs in plans.values() for invoice_id, _ in pairs}
    invoices = Invoice.objects.in_bulk(wanted)
    plan = []
    for payment_id, pairs in plans.items():
        payment = payments[payment_id]
        allocations = []
        for invoice_id, amount in pairs:
            invoice = invoices.get(invoice_id)
            if invoice is None or invoice.customer_id != payment.customer_id:
                raise LedgerError("A proposed invoice no longer belongs to the payment's customer.")
            allocations.append((invoice, amount))
        plan.append((payment, allocations))
    return plan


def _applied_message(done) -> str:
    if len(done) == 1:
        applied = done[0]
        payment = applied.payment
        text = (
            f"Applied {format_money(applied.total, payment.currency)} of the payment of "
            f"{format_money(payment.amount, payment.currency)} received "
            f"{format_day(payment.received_on)} to "
            + ", ".join(a["invoice"] for a in applied.allocations)
        )
        if applied.left > 0:
            return text + f"; {format_money(applied.left, payment.currency)} stays unapplied."
        return text + "."
    invoices = sum(len(a.allocations) for a in done)
    text = f"Applied {len(done)} payments to {invoices} invoices"
    left = [a for a in done if a.left > 0]
    if left:
        text += "; " + ", ".join(
            f"{format_money(a.left, a.payment.currency)} of {a.payment.customer.name}'s payment"
            for a in left
        )
        text += " stays unapplied."
    return text + ("" if left else ".")


@role_required(COLLECTOR)
@require_POST
def apply(request):
    """Apply the proposals shown: one payment ("apply" names it) or the ticked ones
    ("apply" is "selected"). All or none; a payment not the user's is not found."""
    choice = request.POST.get("apply", "")
    raw_ids = request.POST.getlist("payment") if choice == "selected" else [choice]
    raw_ids = [raw for raw in raw_ids if raw]
    try:
        ids = sorted({int(raw) for raw in raw_ids})
    except ValueError:
        raise Http404("No such payment.") from None
    back = redirect("cash_unapplied")
    if not ids:
        messages.info(request, "Tick the payments to apply first.")
        return back
    payments = payments_in_scope(request.user).select_related("customer").in_bulk(ids)
    if len(payments) != len(ids):
        raise Http404("No such payment.")
    try:
        done = services.cash_apply(
            actor=request.user, plan=_plan(request, payments), on=timezone.localdate()
        )
    except LedgerError as error:
        messages.error(request, f"Nothing was applied: {error}")
    else:
        messages.success(request, _applied_message(done))
    return back
