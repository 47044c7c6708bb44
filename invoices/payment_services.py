"""Payments after they are recorded: reversing one that bounced, and applying unapplied
cash to invoices. Each writes its audit event in the same transaction; the balances of
invoices and payments are derived again (invoice_refresh, payment_refresh) before it ends.

Locks: the payment row first, then its invoices (_apply locks those it allocates to), the
same order payment_allocate takes, so two people matching the same cash wait in line."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction

from audit.services import audit_record

from .dates import format_day
from .exceptions import LedgerError, OverAllocation
from .models import Allocation, Invoice, Payment
from .money import ZERO, format_money, quantize
from .services import _apply, invoice_refresh, payment_refresh

REVERSAL_REASON_MAX_CHARS = 200


def _locked(payment: Payment | int) -> Payment:
    pk = payment.pk if isinstance(payment, Payment) else payment
    return Payment.objects.select_for_update().get(pk=pk)


def _described(payment: Payment) -> str:
    money = format_money(payment.amount, payment.currency)
    text = f"{money} received {format_day(payment.received_on)}"
    return text + (f" (ref {payment.reference})" if payment.reference else "")


@transaction.atomic
def payment_reverse(*, actor, payment: Payment, on: date, reason: str) -> list[dict]:
    """Reverse a payment that bounced (a returned cheque, a recalled transfer).

    Its allocations are removed, since that money never arrived, so the invoices it paid are
    open again and the engine chases them; the payment stays, marked reversed, as the
    record. Returns the allocations undone, each with the invoice's balance before and
    after."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError("Say why the payment is reversed (for example: cheque returned unpaid).")
    if len(reason) > REVERSAL_REASON_MAX_CHARS:
        raise LedgerError(
            f"The reason can be at most {REVERSAL_REASON_MAX_CHARS} characters; "
            f"this one has {len(reason)}."
        )
    payment = _locked(payment)
    if payment.reversed_on is not None:
        raise LedgerError(
            f"This payment of {_described(payment)} was already reversed on "
            f"{format_day(payment.reversed_on)}."
        )
    if on < payment.received_on:
        raise LedgerError("A payment cannot be reversed before the day it was received.")
    allocations = list(payment.allocations.values_list("invoice_id", "amount"))
    undone_by_invoice: dict[int, Decimal] = {}
    for invoice_id, amount in allocations:
        undone_by_invoice[invoice_id] = undone_by_invoice.get(invoice_id, ZERO) + amount
    invoices = {
        inv.pk: inv
        for inv in Invoice.objects.select_for_update()
        .filter(pk__in=list(undone_by_invoice))
        .order_by("due_date", "number")
    }
    before = {pk: inv.open_balance for pk, inv in invoices.items()}
    # One by one, so the reports' receivers forget the months these allocations counted in.
    for allocation in Allocation.objects.filter(payment=payment).select_related("invoice"):
        allocation.delete()
    payment.reversed_on = on
    payment.reversal_reason = reason
    payment.save(update_fields=["reversed_on", "reversal_reason"])
    invoice_refresh(invoice_ids=list(invoices))
    payment_refresh(payment_ids=[payment.pk])
    after = dict(Invoice.objects.filter(pk__in=list(invoices)).values_list("pk", "open_balance"))
    undone = [
        {
            "invoice": inv.number,
            "amount": str(undone_by_invoice[pk]),
            "before": str(before[pk]),
            "after": str(after[pk]),
        }
        for pk, inv in invoices.items()
    ]
    reopened = ", ".join(u["invoice"] for u in undone)
    audit_record(
        action="ledger.payment.reversed",
        actor=actor,
        customer_id=payment.customer_id,
        invoice_id=next(iter(invoices)) if len(invoices) == 1 else None,
        summary=f"Payment of {_described(payment)} reversed: {reason}"
        + (f"; {reopened} open again" if reopened else ""),
        data={
            "payment_id": payment.pk,
            "amount": payment.amount,
            "currency": payment.currency,
            "received_on": payment.received_on,
            "reference": payment.reference,
            "reversed_on": on,
            "reason": reason,
            "allocations": undone,
        },
    )
    return undone


@dataclass
class Applied:
    """What applying one payment did."""

    payment: Payment
    allocations: list[dict] = field(default_factory=list)
    left: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((Decimal(a["amount"]) for a in self.allocations), ZERO)


@transaction.atomic
def payment_apply(
    *, actor, payment: Payment | int, allocations: Sequence[tuple[Invoice, Decimal]], on: date
) -> Applied:
    """Apply part or all of a payment's unapplied amount to invoices of its customer."""
    payment = _locked(payment)
    if payment.reversed_on is not None:
        raise LedgerError(f"The payment of {_described(payment)} was reversed: nothing to apply.")
    allocations = [(invoice, quantize(amount)) for invoice, amount in allocations]
    if not allocations:
        raise LedgerError(f"Nothing was proposed for the payment of {_described(payment)}.")
    total = sum((amount for _, amount in allocations), ZERO)
    if total > payment.unapplied:
        raise OverAllocation(
            f"{format_money(total, payment.currency)} is more than the "
            f"{format_money(payment.unapplied, payment.currency)} left to apply of the payment "
            f"of {_described(payment)}."
        )
    applied = _apply(payment=payment, allocations=allocations, on=on, currency=payment.currency)
    payment.refresh_from_db(fields=["unapplied"])
    numbers = ", ".join(a["invoice"] for a in applied)
    audit_record(
        action="ledger.payment.allocated",
        actor=actor,
        customer_id=payment.customer_id,
        invoice_id=allocations[0][0].pk if len(allocations) == 1 else None,
        summary=f"{format_money(total, payment.currency)} of the payment of {_described(payment)} "
        f"applied to {numbers}",
        data={
            "payment_id": payment.pk,
            "currency": payment.currency,
            "allocations": applied,
            "unapplied": payment.unapplied,
        },
    )
    return Applied(payment=payment, allocations=applied, left=payment.unapplied)


@transaction.atomic
def payments_apply(
    *, actor, plan: Sequence[tuple[Payment | int, Sequence[tuple[Invoice, Decimal]]]], on: date
) -> list[Applied]:
    """Apply many payments at once, each as payment_apply does: all or none."""
    return [
        payment_apply(actor=actor, payment=payment, allocations=allocations, on=on)
        for payment, allocations in plan
    ]
