"""Paying from the customer's page: the one interface the page and the providers' webhooks
call. `checkout_start` opens a provider's hosted payment page for chosen invoices;
`checkout_paid` records the payment once the provider's signed event confirms it.

The redirect back from the provider proves nothing: only a verified event records money."""

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction

from audit.services import audit_record
from dunning.models import Chase, ChaseStatus
from dunning.planning import chase_close
from dunning.queue import queue_refresh
from invoices.dates import format_day
from invoices.models import Invoice, InvoiceStatus, Organisation, Payment, PaymentMethod
from invoices.money import ZERO, format_money
from invoices.services import payment_record

from ..confirmations import confirmation_queue
from ..exceptions import PortalError
from ..models import CheckoutSession, CheckoutStatus, PortalLink, ProviderEvent
from ..requests import came_from
from .stripe import client as stripe_client

log = logging.getLogger(__name__)

PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
LABEL = "customer page"


class PayError(PortalError):
    """What the customer is told when a payment cannot start."""


@dataclass(frozen=True)
class PayOptions:
    stripe: bool
    link_url: str

    @property
    def any(self) -> bool:
        return self.stripe or bool(self.link_url)


def pay_options() -> PayOptions:
    """The ways to pay the firm has set up: Stripe Checkout, another provider's link."""
    return PayOptions(stripe=stripe_client.enabled(), link_url=settings.PAYMENT_LINK_URL)


def payable_invoices(customer_id: int):
    """The customer's invoices with money still open, oldest first."""
    return Invoice.objects.filter(
        customer_id=customer_id, status__in=PAYABLE, open_balance__gt=0
    ).order_by("due_date", "issue_date", "number")


def _numbers(invoices) -> str:
    return ", ".join(invoice.number for invoice in invoices)


def _origin(checkout: CheckoutSession) -> dict:
    link = checkout.link
    if link is not None:
        return came_from(link)
    return {"via": "customer_page", "contact_id": checkout.contact_id, "link_id": None}


# --- starting -----------------------------------------------------------------------------


@transaction.atomic
def _reserve(*, link: PortalLink, invoice_ids: Sequence[int], now: dt.datetime):
    invoices = list(payable_invoices(link.customer_id).filter(pk__in=list(invoice_ids)))
    if len(invoices) != len(set(invoice_ids)):
        raise PayError("One of these invoices is already paid: reload the page to see why.")
    if not invoices:
        raise PayError("Choose at least one invoice to pay.")
    currencies = {invoice.currency for invoice in invoices}
    if len(currencies) > 1:
        raise PayError("Pay invoices in one currency at a time.")
    currency = currencies.pop()
    amount = sum((invoice.open_balance for invoice in invoices), ZERO)
    try:
        stripe_client.to_minor(amount, currency)
    except ValueError as error:
        raise PayError(
            "This amount cannot be paid by card: please pay by bank transfer."
        ) from error
    checkout = CheckoutSession.objects.create(
        provider=stripe_client.PROVIDER,
        # A placeholder until the provider names the session: its address needs our id.
        session_id=f"starting:{uuid.uuid4().hex}",
        customer_id=link.customer_id,
        contact_id=link.contact_id,
        link=link,
        amount=amount,
        currency=currency,
        invoice_ids=[invoice.pk for invoice in invoices],
        created_at=now,
    )
    return checkout, invoices


def checkout_start(
    *,
    link: PortalLink,
    invoice_ids: Sequence[int],
    success_url: Callable[[CheckoutSession], str],
    cancel_url: str,
    now: dt.datetime,
) -> tuple[CheckoutSession, str]:
    """Open a Stripe Checkout page for the open balances of these invoices of the link's
    customer; returns the session and the page's address to send the customer to.

    1. Reserve our row (committed), so the return address can name it.
    2. Ask Stripe for the session, outside any transaction: nobody waits on a lock for it.
    3. Name the session on the row and audit the start; on failure the row expires and the
       customer is told (nothing was paid, so nothing is audited)."""
    if not stripe_client.enabled():
        raise PayError("Paying by card is not available: please pay by bank transfer.")
    checkout, invoices = _reserve(link=link, invoice_ids=invoice_ids, now=now)
    what = "invoices" if len(invoices) > 1 else "invoice"
    description = f"{Organisation.current().name}: {what} {_numbers(invoices)}"
    try:
        started = stripe_client.checkout_create(
            amount=checkout.amount,
            currency=checkout.currency,
            description=description,
            reference=f"dunmore-checkout-{checkout.pk}",
            metadata={
                "checkout_id": str(checkout.pk),
                "customer": link.customer.external_id,
                "invoices": _numbers(invoices)[:500],
            },
            email=link.contact.email,
            success_url=success_url(checkout),
            cancel_url=cancel_url,
            idempotency_key=f"dunmore-checkout-{checkout.pk}",
        )
    except stripe_client.StripeUnavailable as error:
        log.warning("Stripe checkout %s not started: %s", checkout.pk, error)
        CheckoutSession.objects.filter(pk=checkout.pk).update(status=CheckoutStatus.EXPIRED)
        raise PayError(
            "Card payments are not available just now. Please try again in a few minutes, "
            "or pay by bank transfer."
        ) from error
    _started(checkout, started.session_id, invoices)
    return checkout, started.url


@transaction.atomic
def _started(checkout: CheckoutSession, session_id: str, invoices) -> None:
    checkout.session_id = session_id
    checkout.save(update_fields=["session_id"])
    money = format_money(checkout.amount, checkout.currency)
    audit_record(
        action="portal.payment.started",
        customer_id=checkout.customer_id,
        invoice_id=invoices[0].pk if len(invoices) == 1 else None,
        label=LABEL,
        summary=f"Started paying {money} online for {_numbers(invoices)}",
        data={
            **_origin(checkout),
            "checkout_id": checkout.pk,
            "provider": checkout.provider,
            "session_id": session_id,
            "amount": checkout.amount,
            "currency": checkout.currency,
            "invoice_ids": checkout.invoice_ids,
        },
    )


# --- a confirmed payment ------------------------------------------------------------------


def _event_once(*, provider: str, event_id: str, kind: str, now: dt.datetime) -> bool:
    """Store the provider's event; False when it was stored before (a redelivery). Inside
    the caller's transaction, so a failure later undoes it and the retry is handled anew."""
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(
                provider=provider, event_id=event_id, kind=kind, received_at=now
            )
    except IntegrityError:
        return False
    return True


@transaction.atomic
def provider_event_note(*, provider: str, event_id: str, kind: str, now: dt.datetime) -> bool:
    """Keep an event that records nothing (another kind), once; False if seen before."""
    return _event_once(provider=provider, event_id=event_id, kind=kind, now=now)


def _allocations(checkout: CheckoutSession, amount: Decimal) -> list[tuple[Invoice, Decimal]]:
    # Each invoice gets at most what is open on it now: if a bank transfer settled one while
    # the customer paid, the rest stays on the payment as credit instead of failing.
    plan, left = [], amount
    invoices = (
        Invoice.objects.select_for_update()
        .filter(pk__in=checkout.invoice_ids, customer_id=checkout.customer_id, status__in=PAYABLE)
        .order_by("due_date", "issue_date", "number")
    )
    for invoice in invoices:
        part = min(left, invoice.open_balance)
        if part > 0:
            plan.append((invoice, part))
            left -= part
    return plan


def _customer_today(checkout: CheckoutSession, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(checkout.customer.timezone)).date()


@transaction.atomic
def checkout_paid(
    *,
    provider: str,
    event_id: str,
    kind: str,
    session_id: str,
    amount: Decimal,
    currency: str,
    reference: str,
    now: dt.datetime,
) -> Payment | None:
    """Record the payment a provider's verified event confirms, once.

    1. Store the event (a redelivery stops here, recording nothing).
    2. Lock our checkout; an unknown session (another system on the same account) or one
       already paid (a second event for it) records nothing.
    3. Record the payment (card, the provider's reference, the customer's today) and apply
       it to the checkout's invoices, oldest first; mark the checkout paid; audit.
    4. Stop chasing at once: a customer with nothing left open has their chase closed (its
       pending messages cancelled); messages still planned for others are re-checked by
       delivery before they go. Re-plan the queue row; queue the receipt to the contact.
    Returns the payment, or None when nothing was recorded."""
    if not _event_once(provider=provider, event_id=event_id, kind=kind, now=now):
        return None
    checkout = (
        # Lock only our row: the link is an outer join, which PostgreSQL will not lock.
        CheckoutSession.objects.select_for_update(of=("self",))
        .select_related("customer", "contact", "link")
        .filter(provider=provider, session_id=session_id)
        .first()
    )
    if checkout is None:
        log.warning("%s event %s names unknown session %s", provider, event_id, session_id)
        return None
    if checkout.status == CheckoutStatus.PAID:
        return None
    matched = amount == checkout.amount and currency == checkout.currency
    # Paid other than asked (an amount changed at the provider, another currency): the
    # money is recorded as it arrived, unapplied, for a person to match in cash matching;
    # guessing which invoice it was meant for would be worse than asking.
    allocations = _allocations(checkout, amount) if matched else []
    received_on = _customer_today(checkout, now)
    payment = payment_record(
        actor=None,
        customer=checkout.customer,
        amount=amount,
        received_on=received_on,
        currency=currency,
        reference=reference[:100],
        method=PaymentMethod.CARD,
        allocations=allocations,
        external_key=f"checkout:{checkout.pk}",
        audit=False,
    )
    checkout.status = CheckoutStatus.PAID
    checkout.paid_at = now
    checkout.payment = payment
    checkout.save(update_fields=["status", "paid_at", "payment"])
    applied = [{"invoice": invoice.number, "amount": str(part)} for invoice, part in allocations]
    left = amount - sum((part for _, part in allocations), ZERO)
    money = format_money(amount, currency)
    mismatch = (
        ""
        if matched
        else f"{format_money(checkout.amount, checkout.currency)} was expected; "
        "left unapplied for cash matching"
    )
    audit_record(
        action="portal.payment.received",
        customer_id=checkout.customer_id,
        invoice_id=allocations[0][0].pk if len(allocations) == 1 else None,
        label=LABEL,
        summary=f"Payment of {money} received online {format_day(received_on)} (ref {reference})"
        + (f": {mismatch}" if mismatch else ""),
        data={
            **_origin(checkout),
            "payment_id": payment.pk,
            "amount": amount,
            "currency": currency,
            "received_on": received_on,
            "reference": reference,
            "method": PaymentMethod.CARD,
            "allocations": applied,
            "unallocated": left,
            "checkout_id": checkout.pk,
            "provider": provider,
            "session_id": session_id,
            "event_id": event_id,
            "mismatch": mismatch,
        },
    )
    if not payable_invoices(checkout.customer_id).exists():
        for chase_id in Chase.objects.filter(
            customer_id=checkout.customer_id, status=ChaseStatus.ACTIVE
        ).values_list("pk", flat=True):
            chase_close(chase_id=chase_id, at=now, reason="paid in full on the customer page")
    _receipt(checkout, payment, applied, left, mismatch, now=now)
    queue_refresh(customer_ids=[checkout.customer_id], as_of=now)
    return payment


def _receipt(checkout, payment, applied, left, mismatch, *, now) -> None:
    money = format_money(payment.amount, payment.currency)
    lines = [
        f"Dear {checkout.contact.name or 'customer'},",
        "",
        f"Thank you: we have received your payment of {money} made on "
        f"{format_day(payment.received_on)} from your account page "
        f"(reference {payment.reference}).",
    ]
    if applied:
        paid = ", ".join(
            f"{a['invoice']} ({format_money(Decimal(a['amount']), payment.currency)})"
            for a in applied
        )
        lines.append(f"It has been applied to: {paid}.")
    if mismatch:
        lines.append(
            "It differs from the amount we expected, so we will apply it to your account "
            "ourselves and let you know."
        )
    elif left > 0:
        lines.append(f"{format_money(left, payment.currency)} is kept as credit on your account.")
    lines += ["", Organisation.current().name]
    confirmation_queue(
        contact=checkout.contact,
        key=f"payment:{payment.pk}",
        subject=f"Payment received: {money}",
        text="\n".join(lines),
        now=now,
    )
