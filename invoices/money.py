"""The one place where money is rounded, parsed, checked and formatted."""

import datetime as dt
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from babel.numbers import (
    format_currency,
    get_currency_name,
    get_currency_precision,
    get_territory_currencies,
    is_currency,
    list_currencies,
)
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import to_locale

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


@lru_cache(maxsize=4)
def currencies_in_use(on: dt.date) -> frozenset[str]:
    """The currencies some country pays in on this day (CLDR's legal tender): what new
    settings, customers and invoices may use. Withdrawn ones (the Andorran peseta, the
    Deutsche Mark) and funds, metals and test codes (CLF, XAU, XTS) are not."""
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, start_date=on, non_tender=False)
        if is_currency(code)
    )


def currencies_stored(codes: Iterable[str]) -> frozenset[str]:
    """Which of these codes a customer, an invoice or the organisation already uses."""
    from .models import Customer, Invoice, Organisation  # the models import this module

    codes = list(codes)
    found: set[str] = set()
    if codes:
        for model, name in (
            (Invoice, "currency"),
            (Customer, "currency"),
            (Organisation, "default_currency"),
        ):
            rows = model.objects.filter(**{f"{name}__in": codes}).values_list(name, flat=True)
            found.update(rows.order_by().distinct())
    return frozenset(found)


@lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_codes(on: dt.date | None = None) -> frozenset[str]:
    """The codes new data may carry: a currency in use, or a withdrawn one the ledger already
    holds, so that a ledger kept in one can still be corrected and imported again. Reads the
    database (a few indexed queries): call it once, before checking many values."""
    in_use = currencies_in_use(on or timezone.localdate())
    return in_use | currencies_stored(_iso_codes() - in_use)


def currency_problem(code: str, accepted: frozenset[str] | None = None) -> str | None:
    """Why a code cannot be used as a currency, in words; None when it can. Given `accepted`
    (currency_codes(), read once) it reads nothing, as an import needs while it streams
    rows into the database."""
    if accepted is None:
        accepted = currencies_in_use(timezone.localdate())
        if code not in accepted and code in _iso_codes():
            accepted = accepted | currencies_stored([code])
    if code in accepted:
        return None
    if code in _iso_codes():
        return f"'{code}' ({get_currency_name(code, locale='en')}) is no longer in use."
    return f"'{shown(code)}' is not an ISO 4217 currency code."


def currency_choices(*, keep: Iterable[str] = (), on: dt.date | None = None):
    """A currency dropdown's choices, "EUR – Euro", by code: the currencies in use, plus the
    ones in `keep` (the value already chosen, even if since withdrawn)."""
    codes = currencies_in_use(on or timezone.localdate()) | {c for c in keep if c in _iso_codes()}
    return [(code, f"{code} – {get_currency_name(code, locale='en')}") for code in sorted(codes)]


def validate_currency(code: str) -> None:
    problem = currency_problem(code)
    if problem:
        raise ValidationError(problem, code="currency")


def display_locale() -> str:
    """The one locale every page, letter, email and export formats money and dates in: the
    firm's (LANGUAGE_CODE), so a collector reads exactly what the customer was sent."""
    return _locale_of(settings.LANGUAGE_CODE)


@lru_cache(maxsize=8)
def _locale_of(language_code: str) -> str:
    return str(Locale.parse(to_locale(language_code)))


def format_money(amount, currency: str, locale: str | None = None) -> str:
    """An amount with its currency, e.g. "£1,234.56"; "" for none."""
    if amount is None:
        return ""
    if type(amount) is not Decimal:
        amount = Decimal(amount)
    if amount.is_zero():
        amount = amount.copy_abs()  # "-£0.00" says nothing a zero does not
    locale = locale or display_locale()
    shape = _shape(currency, locale)
    # Most amounts are stored ones, with exactly the currency's decimals: printed straight
    # away (a dunning run prints millions), without the cache's hashing.
    if shape and not amount.is_signed() and amount.same_quantum(shape[5]):
        return _print(amount, shape)
    return _formatted(amount, currency, locale)


# Babel takes a tenth of a millisecond per amount, and a report shows hundreds; the same
# amounts come back on every reload. Equal decimals (1.5, 1.50) print alike in a currency.
@lru_cache(maxsize=8192)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    shape = _shape(currency, locale)
    if shape and not amount.is_signed() and amount.as_tuple().exponent >= -shape[4]:
        return _print(amount, shape)
    return format_currency(amount, currency, locale=locale)


# Amounts whose printing by Python's own grouping is checked against Babel's, once per
# currency and locale. Python's is five times faster, which tells in a dunning run's
# thousands of task titles.
_CHECKED = ("0", "0.5", "7", "12.3", "999.99", "1000", "1234.5", "98765.43", "100000")


@lru_cache(maxsize=64)
def _shape(currency: str, locale: str) -> tuple | None:
    """(prefix, group separator, decimal separator, suffix, decimals, the smallest unit as
    a Decimal) with which Babel prints a positive amount in this currency and locale, when
    Python's own grouping gives the same text for every amount checked; None otherwise
    (Indian lakhs, a locale that leaves four digits ungrouped, digits of another script):
    Babel prints every amount."""
    decimals = get_currency_precision(currency)
    fraction = "891234"[:decimals]
    probe = format_currency(Decimal(f"1234567.{fraction or 0}"), currency, locale=locale)
    tail = rf"(\D+){fraction}" if decimals else ""
    found = re.search(rf"1(?P<group>\D*)234(?P=group)567{tail}", probe)
    if not found:
        return None
    group = found.group("group")
    shape = (
        probe[: found.start()],
        group,
        found.group(2) if decimals else "",
        probe[found.end() :],
        decimals,
        Decimal(1).scaleb(-decimals),
    )
    for text in _CHECKED:
        amount = Decimal(text)
        if _print(amount, shape) != format_currency(amount, currency, locale=locale):
            return None
    return shape


def _print(amount: Decimal, shape: tuple) -> str:
    prefix, group, decimal, suffix, decimals, _unit = shape
    text = f"{amount:,.{decimals}f}"
    if (group, decimal) != (",", "."):
        text = text.replace(",", "\0").replace(".", decimal).replace("\0", group)
    return f"{prefix}{text}{suffix}"


def currency_precision(currency: str) -> int:
    return get_currency_precision(currency)
