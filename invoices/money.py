"""The one place where money is rounded, parsed, checked and formatted."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.core.exceptions import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(amount) -> Decimal:
    """Round to cents, half up, as invoices and statements are printed."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str) -> Decimal:
    """Parse '1234.50' strictly: a dot as the decimal separator, at most two decimals."""
    cleaned = (text or "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(
            f"'{text}' is not an amount (use digits and a dot, e.g. 1234.50)"
        ) from None
    if not value.is_finite():
        raise ValueError(f"'{text}' is not an amount")
    if value.as_tuple().exponent < -2:
        raise ValueError(f"'{text}' has more than two decimal places")
    return quantize(value)


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
