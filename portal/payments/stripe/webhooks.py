"""Stripe's webhook events: verified with Stripe's own scheme (the library checks the
HMAC-SHA256 of "<t>.<body>" under the endpoint's secret, and refuses a timestamp older than
five minutes, so a captured delivery cannot be replayed later), then handed to the
payments service. Stripe delivers at least once and retries until it gets a 2xx."""

import logging

import stripe
from django.conf import settings
from django.utils import timezone

from .. import services
from .client import PROVIDER, from_minor

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
# A card payment completes paid; a delayed method (a bank debit) completes unpaid and is
# confirmed later by async_payment_succeeded.
PAID_KINDS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


class Refused(Exception):
    """Not an event Stripe signed for this endpoint in the last five minutes."""


def event_verify(payload: bytes, signature: str | None) -> dict:
    """The event in the body, once its signature is proven; Refused otherwise."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise Refused("no webhook secret is set")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, secret, tolerance=TOLERANCE_SECONDS
        )
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise Refused(str(error)) from error
    values = event.to_dict()
    if not values.get("id") or not values.get("type") or "object" not in values.get("data", {}):
        raise Refused("not an event")
    return values


def event_handle(event: dict) -> str:
    """Record what the event confirms; returns what was done, for the log."""
    kind = event["type"]
    session = event["data"]["object"]
    now = timezone.now()
    if kind in PAID_KINDS and session.get("payment_status") == "paid":
        currency = str(session["currency"]).upper()
        payment = services.checkout_paid(
            provider=PROVIDER,
            event_id=event["id"],
            kind=kind,
            session_id=session["id"],
            amount=from_minor(session["amount_total"], currency),
            currency=currency,
            reference=session.get("payment_intent") or session["id"],
            now=now,
        )
        return f"payment {payment.pk} recorded" if payment else "nothing new"
    seen = services.provider_event_note(provider=PROVIDER, event_id=event["id"], kind=kind, now=now)
    return "noted" if seen else "seen before"
