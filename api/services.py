"""Tokens, and the ledger writes the API makes: each through the same services as the screens,
audited with the token's label as the actor."""

import secrets
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from dunning.queue import queue_refresh
from invoices.exceptions import LedgerError
from invoices.models import Customer, Invoice
from invoices.services import customer_create, customer_update, invoice_create, invoice_update

from .models import ApiToken, Scope, token_hash

PREFIX_LENGTH = 12  # "dnm_" and 8 random characters: enough to tell tokens apart


@transaction.atomic
def api_token_create(
    *, actor, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the raw token, which is never stored nor shown again."""
    unknown = set(scopes) - set(Scope.values)
    if unknown or not scopes:
        raise ValueError(f"Choose scopes among {Scope.values}.")
    raw = "dnm_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        prefix=raw[:PREFIX_LENGTH],
        hash=token_hash(raw),
        scopes=[scope for scope in Scope.values if scope in scopes],
        expires_at=expires_at,
        created_by=actor,
    )
    audit_record(
        action="api.token.created",
        actor=actor,
        summary=f"API token “{name}” ({token.prefix}…) created: {', '.join(token.scopes)}",
        data={
            "api_token_id": token.pk,
            "prefix": token.prefix,
            "scopes": token.scopes,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> bool:
    """Revoke a token at once; False when it was already revoked."""
    now = timezone.now()
    if not ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(
        revoked_at=now, revoked_by=actor
    ):
        return False
    audit_record(
        action="api.token.revoked",
        actor=actor,
        summary=f"API token “{token.name}” ({token.prefix}…) revoked",
        data={"api_token_id": token.pk, "prefix": token.prefix},
    )
    return True


@transaction.atomic
def api_customer_upsert(
    *, token: ApiToken, external_id: str, values: dict
) -> tuple[Customer, bool]:
    """Create the customer with this external id, or change what differs; returns it and
    whether it was created. The same values twice change nothing and record nothing."""
    actor = token.actor()
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        customer = customer_create(actor=actor, external_id=external_id, **values)
        created, changed = True, True
    else:
        created, changed = False, bool(customer_update(actor=actor, customer=customer, **values))
        if changed:
            customer.refresh_from_db()
    if changed:
        queue_refresh(customer_ids=[customer.pk])
    return customer, created


@transaction.atomic
def api_invoice_upsert(
    *,
    token: ApiToken,
    number: str,
    customer: str,
    issue_date: date,
    due_date: date,
    amount: Decimal,
    currency: str | None = None,
) -> tuple[Invoice, bool]:
    """Create the invoice with this number, or change its amount and dates; returns it and
    whether it was created. An invoice never moves to another customer or currency."""
    actor = token.actor()
    owner = Customer.objects.filter(external_id=customer).first()
    if owner is None:
        raise LedgerError(f"No customer has the external id “{customer}”.")
    invoice = Invoice.objects.filter(number=number).first()
    if invoice is None:
        invoice = invoice_create(
            actor=actor,
            customer=owner,
            number=number,
            issue_date=issue_date,
            due_date=due_date,
            amount=amount,
            currency=currency,
        )
        created, changed = True, True
    else:
        if invoice.customer_id != owner.pk:
            raise LedgerError(f"Invoice {number} belongs to another customer.")
        if currency and currency != invoice.currency:
            raise LedgerError(f"Invoice {number} is in {invoice.currency}, not {currency}.")
        values = {"amount": amount, "issue_date": issue_date, "due_date": due_date}
        created, changed = False, bool(invoice_update(actor=actor, invoice=invoice, **values))
        if changed:
            invoice.refresh_from_db()
    if changed:
        queue_refresh(customer_ids=[owner.pk])
    return invoice, created
