"""The API's writes to contacts, payments and credit notes: each through the screens' own
ledger services, audited with the token's label as the actor, then the queue re-planned."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from dunning.queue import queue_refresh
from invoices.exceptions import LedgerError
from invoices.models import Contact, CreditNote, Customer, Invoice, Payment
from invoices.services import (
    contact_create,
    contact_update,
    credit_note_issue,
    payment_record,
)

from .models import ApiToken


def _first_wins(record, known):
    """record() in a savepoint; when the same key was recorded meanwhile by a request racing
    this one (the unique key refuses the second row), the row on file instead."""
    try:
        with transaction.atomic():
            return record(), True
    except IntegrityError:
        row = known()
        if row is None:
            raise
        return row, False


def _customer(external_id: str) -> Customer:
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise LedgerError(f"No customer has the external id “{external_id}”.")
    return customer


@transaction.atomic
def api_contact_upsert(
    *, token: ApiToken, customer: str, email: str, values: dict
) -> tuple[Contact, bool]:
    """The contact with this email at this customer (the natural key: contacts have no
    external id), created or changed; the same values twice change nothing."""
    owner = _customer(customer)
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
    owner = _customer(customer)
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
    payment, created = _first_wins(
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
    credit, created = _first_wins(
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
