"""Tokens, and the ledger writes the API makes: each through the same services as the screens,
audited with the token's label as the actor.

Two requests creating the same customer or invoice at once both find none on file; the
unique key lets one row in and refuses the other (IntegrityError). The create runs in a
savepoint, so the loser reads the winner's row and applies its own values as an update,
the upsert it asked for, rather than failing."""

import secrets
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from dunning.queue import queue_refresh
from invoices.exceptions import LedgerError
from invoices.models import Customer, Invoice
from invoices.services import customer_create, customer_update, invoice_create, invoice_update

from .models import ApiToken, Scope, token_hash

PREFIX_LENGTH = 12  # "dnm_" and 8 random characters: enough to tell tokens apart


def customer_named(external_id: str) -> Customer:
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise LedgerError(f"No customer has the external id “{external_id}”.")
    return customer


def created_or_found(create, find):
    """(create(), True) in a savepoint; when a request racing this one created the row
    first, (the row on file, False). The winner shows as an IntegrityError when it commits
    during our insert, or as the model's own uniqueness check when it committed before."""
    try:
        with transaction.atomic():
            return create(), True
    except (IntegrityError, DjangoValidationError):
        row = find()
        if row is None:  # refused for another reason: not a race
            raise
        return row, False


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

    def find():
        return Customer.objects.filter(external_id=external_id).first()

    customer, created = find(), False
    if customer is None:
        customer, created = created_or_found(
            lambda: customer_create(actor=actor, external_id=external_id, **values), find
        )
    changed = created
    if not created:
        changed = bool(customer_update(actor=actor, customer=customer, **values))
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
    owner = customer_named(customer)

    def find():
        return Invoice.objects.filter(number=number).first()

    invoice, created = find(), False
    if invoice is None:
        invoice, created = created_or_found(
            lambda: invoice_create(
                actor=actor,
                customer=owner,
                number=number,
                issue_date=issue_date,
                due_date=due_date,
                amount=amount,
                currency=currency,
            ),
            find,
        )
    changed = created
    if not created:
        if invoice.customer_id != owner.pk:
            raise LedgerError(f"Invoice {number} belongs to another customer.")
        if currency and currency != invoice.currency:
            raise LedgerError(f"Invoice {number} is in {invoice.currency}, not {currency}.")
        values = {"amount": amount, "issue_date": issue_date, "due_date": due_date}
        changed = bool(invoice_update(actor=actor, invoice=invoice, **values))
        if changed:
            invoice.refresh_from_db()
    if changed:
        queue_refresh(customer_ids=[owner.pk])
    return invoice, created
