"""The ledger's payment writes as the screens make them: each also re-plans the customers'
queue rows in the same transaction, so the queue shows the new balance at once (the ledger
does not know the queue)."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db import transaction

from dunning.queue import queue_refresh
from invoices.models import CreditNote, Customer, Invoice, Payment
from invoices.payment_services import Applied, payment_reverse, payments_apply
from invoices.services import credit_note_issue, payment_record


@transaction.atomic
def payment_take(
    *,
    actor,
    customer: Customer,
    amount: Decimal,
    received_on: date,
    method: str,
    reference: str,
    allocations: Sequence[tuple[Invoice, Decimal]] | None,
) -> Payment:
    """Record a payment (allocations None: oldest open invoices first) and re-plan."""
    payment = payment_record(
        actor=actor,
        customer=customer,
        amount=amount,
        received_on=received_on,
        method=method,
        reference=reference,
        allocations=allocations,
    )
    queue_refresh(customer_ids=[customer.pk])
    return payment


@transaction.atomic
def credit_note_take(
    *, actor, invoice: Invoice, amount: Decimal, reason: str, issued_on: date
) -> CreditNote:
    credit = credit_note_issue(
        actor=actor, invoice=invoice, amount=amount, reason=reason, issued_on=issued_on
    )
    queue_refresh(customer_ids=[invoice.customer_id])
    return credit


@transaction.atomic
def payment_bounced(*, actor, payment: Payment, on: date, reason: str) -> list[dict]:
    """Reverse a payment that bounced; its invoices are chased again."""
    undone = payment_reverse(actor=actor, payment=payment, on=on, reason=reason)
    queue_refresh(customer_ids=[payment.customer_id])
    return undone


@transaction.atomic
def cash_apply(*, actor, plan: Sequence[tuple[Payment, list]], on: date) -> list[Applied]:
    """Apply unapplied payments as planned (all or none) and re-plan their customers."""
    done = payments_apply(actor=actor, plan=plan, on=on)
    customer_ids = sorted({applied.payment.customer_id for applied in done})
    if customer_ids:
        queue_refresh(customer_ids=customer_ids)
    return done
