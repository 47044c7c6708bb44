"""Stripe's API as the customer's page uses it: one Checkout Session per "Pay now", and
amounts in Stripe's minor units. STRIPE_API_BASE points the official library elsewhere (the
tests' stand-in on the loopback); blank is Stripe itself."""

from dataclasses import dataclass
from decimal import Decimal

import stripe
from django.conf import settings

from invoices.money import currency_precision

PROVIDER = "stripe"
# Seconds to wait for Stripe while the customer waits for the page; the library retries a
# dropped connection twice with the same idempotency key, so no second session is made.
TIMEOUT = 20
RETRIES = 2

# Stripe's own exponents where they differ from ISO 4217 (docs.stripe.com/currencies):
# these are zero-decimal at Stripe although ISO gives them decimals, and ISK, zero-decimal
# in ISO, is sent to Stripe as a two-decimal amount for backward compatibility.
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
TWO_DECIMAL = frozenset({"ISK"})


class StripeUnavailable(Exception):
    """Stripe could not be reached or refused the request: nothing was started."""


def exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in TWO_DECIMAL:
        return 2
    return currency_precision(code)


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal -> Stripe's integer amount; refuses an amount the currency cannot carry
    (12.50 JPY) rather than rounding money away."""
    scaled = Decimal(amount).scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than {currency} allows.")
    return int(scaled)


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(int(value)).scaleb(-exponent(currency)).quantize(Decimal("0.01"))


def enabled() -> bool:
    # Without the webhook secret no payment could ever be confirmed: offer none.
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


def _client() -> stripe.StripeClient:
    base = {"api": settings.STRIPE_API_BASE.rstrip("/")} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,
        max_network_retries=RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT),
    )


@dataclass(frozen=True)
class Started:
    session_id: str
    url: str


def checkout_create(
    *,
    amount: Decimal,
    currency: str,
    description: str,
    reference: str,
    metadata: dict[str, str],
    email: str,
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
) -> Started:
    """A hosted Checkout page for one payment of `amount`; returns its id and address."""
    params: dict = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": to_minor(amount, currency),
                    "product_data": {"name": description[:250]},
                },
            }
        ],
        "client_reference_id": reference,
        "metadata": metadata,
        "payment_intent_data": {"description": description[:250], "metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if email:
        params["customer_email"] = email
    if settings.STRIPE_PAYMENT_METHODS:
        params["payment_method_types"] = list(settings.STRIPE_PAYMENT_METHODS)
    try:
        session = _client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error
    values = session.to_dict()
    if not values.get("id") or not values.get("url"):
        raise StripeUnavailable("Stripe answered without a checkout page.")
    return Started(session_id=values["id"], url=values["url"])
