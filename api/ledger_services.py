"""The API's writes to contacts, payments and credit notes: each through the screens' own
ledger services, audited with the token's label as the actor, then the queue re-planned.
A payment is reversed and its cash applied through the customer page's and the matching
screen's services (cash.services), which re-plan the queue themselves."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cash.services import cash_apply, payment_bounced
from dunning.queue import queue_refresh
from invoices.exceptions import LedgerError
from invoices.models import Contact, CreditNote, Customer, Invoice, Payment
from invoices.money import format_money
from invoices.services import (
    _auto_allocation,
    contact_create,
    contact_update,
    credit_note_issue,
    payment_record,
)

from .models import ApiToken
from .services import created_or_found, customer_named


@transaction.atomic
def api_contact_upsert(
    *, token: ApiToken, customer: str, email: str, values: dict
) -> tuple[Contact, bool]:
    """The contact with this email at this customer (the natural key: contacts have no
    external id), created or changed; the same values twice change nothing."""
    owner = customer_named(customer)
    # Contacts have no unique key to refuse a twin: two requests for the same new email
    # would both create it. Locking the customer makes the second wait, then update (no
    # key: writers of rows pointing at the customer, audit events among them, go on).
    Customer.objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
    actor = token.actor()
    contact = Contact.objects.filter(customer=owner, email__iexact=email).order_by("id").first()
    if contact is None:
        contact = contact_create(actor=actor, customer=owner, email=email, **values)
        created, changed = True, True
    else:
        created, changed = False, bool(contact_update(actor=actor, contact=contact, **values))
        contact.refresh_from_db()
    if changed:
        queue_refresh(customer_ids=[owner.pk])
    return contact, created


@transaction.atomic
def api_payment_record(
    *,
    token: ApiToken,
    customer: str,
    amount: Decimal,
    received_on: date,
    currency: str | None = None,
    reference: str = "",
    method: str = "",
    allocations: dict[str, Decimal] | None = None,
    external_key: str | None = None,
) -> tuple[Payment, bool]:
    """Record a payment as the customer's page does (no allocations: oldest open invoices
    first); returns it and whether it was recorded now. A payment with this external_key
    already on file is returned unchanged, so the same POST twice records once."""
    owner = customer_named(customer)
    if external_key:
        known = Payment.objects.filter(external_key=external_key).first()
        if known is not None:
            if known.customer_id != owner.pk:
                raise LedgerError(f"Payment {external_key} belongs to another customer.")
            return known, False
    plan = None
    if allocations is not None:
        invoices = {
            invoice.number: invoice
            for invoice in Invoice.objects.filter(number__in=list(allocations))
        }
        missing = sorted(set(allocations) - set(invoices))
        if missing:
            raise LedgerError(f"No invoice has the number {', '.join(missing)}.")
        plan = [(invoices[number], part) for number, part in allocations.items()]
    payment, created = created_or_found(
        lambda: payment_record(
            actor=token.actor(),
            customer=owner,
            amount=amount,
            received_on=received_on,
            currency=currency,
            reference=reference,
            method=method,
            allocations=plan,
            external_key=external_key or None,
        ),
        lambda: Payment.objects.filter(external_key=external_key).first() if external_key else None,
    )
    if created:
        queue_refresh(customer_ids=[owner.pk])
    return payment, created


@transaction.atomic
def api_credit_note_issue(
    *,
    token: ApiToken,
    invoice: str,
    amount: Decimal,
    reason: str,
    issued_on: date,
    number: str | None = None,
) -> tuple[CreditNote, bool]:
    """Credit an invoice; returns the credit note and whether it was issued now. A credit
    note with this number already on file is returned unchanged (retries issue once)."""
    if number:
        known = CreditNote.objects.filter(number=number).first()
        if known is not None:
            if not known.allocations.filter(invoice__number=invoice).exists():
                raise LedgerError(f"Credit note {number} credits another invoice.")
            return known, False
    target = Invoice.objects.filter(number=invoice).first()
    if target is None:
        raise LedgerError(f"No invoice has the number {invoice}.")
    credit, created = created_or_found(
        lambda: credit_note_issue(
            actor=token.actor(),
            invoice=target,
            amount=amount,
            reason=reason,
            issued_on=issued_on,
            number=number or None,
        ),
        lambda: CreditNote.objects.filter(number=number).first() if number else None,
    )
    if created:
        queue_refresh(customer_ids=[target.customer_id])
    return credit, created


@transaction.atomic
def api_payment_reverse(*, token: ApiToken, payment: Payment, reason: str) -> tuple[Payment, bool]:
    """Reverse a payment that bounced, as the customer's page does: the invoices it paid are
    open again. Returns it and whether it was reversed now; one already reversed is returned
    unchanged (the first reversal stands), so a retry does no harm."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.reversed_on is not None:
        return payment, False
    payment_bounced(actor=token.actor(), payment=payment, on=timezone.localdate(), reason=reason)
    return payment, True


@transaction.atomic
def api_payment_allocate(
    *, token: ApiToken, payment: Payment, allocations: list[dict] | None = None
) -> Payment:
    """Apply a payment's unapplied cash to invoices, as the matching screen does: the
    allocations given ({"invoice": number, "amount"}), else the oldest open invoices of its
    customer and currency first. All or nothing: LedgerError (more than is left to apply,
    another customer's invoice, another currency) changes nothing."""
    # The payment first, then its invoices: the order the matching screen locks them in.
    payment = Payment.objects.select_for_update().select_related("customer").get(pk=payment.pk)
    if payment.reversed_on is None and payment.unapplied <= 0:
        raise LedgerError("Nothing of this payment is left to apply.")
    if allocations is None:
        plan = []
        if payment.reversed_on is None:
            plan = _auto_allocation(payment.customer, payment.currency, payment.unapplied)
            if not plan:
                raise LedgerError(
                    f"{payment.customer.name} has no open invoice in {payment.currency} to "
                    f"apply the {format_money(payment.unapplied, payment.currency)} to."
                )
    else:
        numbers = {row["invoice"] for row in allocations}
        invoices = {inv.number: inv for inv in Invoice.objects.filter(number__in=numbers)}
        missing = sorted(numbers - set(invoices))
        if missing:
            raise LedgerError(f"No invoice has the number {', '.join(missing)}.")
        plan = [(invoices[row["invoice"]], row["amount"]) for row in allocations]
    cash_apply(actor=token.actor(), plan=[(payment, plan)], on=timezone.localdate())
    return payment
