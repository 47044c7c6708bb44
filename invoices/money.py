"""The one place where money is rounded, parsed, checked and formatted."""

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.core.exceptions import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(amount) -> Decimal:
    """Round to cents, half up, as invoices and statements are printed."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


AMOUNT_HINT = "use digits with a dot for decimals, e.g. 1234.56"
# ASCII digits only: Decimal() also reads other scripts' digits, exponents (1E3), underscores
# (1_234.56), a leading plus, NaN and Infinity, none of which a person writing an amount means.
AMOUNT_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def parse_amount(text: str) -> Decimal:
    """Parse an amount strictly: an optional minus, digits, and optionally a dot and one or
    two decimals ('1234.50', '-12.5', '7'). Whether a negative (or zero) is allowed is the
    caller's rule, so that it can say so rather than call '-10' unreadable."""
    cleaned = (text or "").strip()
    if not AMOUNT_TEXT.fullmatch(cleaned):
        raise ValueError(f"'{shown(cleaned)}' is not an amount: {AMOUNT_HINT}")
    places = len(cleaned) - cleaned.find(".") - 1 if "." in cleaned else 0
    if places > 2:
        raise ValueError(f"'{shown(cleaned)}' has more than two decimal places")
    # Padded as text rather than quantized: quantize() fails past 28 digits, and a file may
    # hold a 40-digit "amount" that the caller must be able to call too large.
    if places == 2:
        return Decimal(cleaned)
    return Decimal(cleaned + (".00" if places == 0 else "0"))


def shown(text: str, limit: int = 40) -> str:
    """A value as quoted back in a message: a stray 100 kB field must not make a 100 kB one."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def validate_currency(code: str) -> None:
    if code not in currency_codes():
        raise ValidationError(f"'{code}' is not an ISO 4217 currency code.", code="currency")


def format_money(amount, currency: str, locale: str = "en_GB") -> str:
    if amount is None:
        return ""
    return _formatted(Decimal(amount), currency, locale)


# Babel takes a tenth of a millisecond per amount, and a report shows hundreds; the same
# amounts come back on every reload. Equal decimals (1.5, 1.50) print alike in a currency.
@lru_cache(maxsize=8192)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)


def currency_precision(currency: str) -> int:
    return get_currency_precision(currency)
