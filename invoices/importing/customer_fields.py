"""Checking the customers file's optional account columns: postal address, collector, credit
limit, accepted terms and late-payment charges. Each returns the value to stage, or None for
a blank cell (an existing customer keeps what it has) and adds a reason when it is bad."""

import re

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from accounts.roles import ROLES
from invoices.money import parse_amount

from .reader import CONTROL, DateParser, day

ADDRESS_MAX = 1000
# A percent a year with two decimals, staged as hundredths (7.50 -> 750).
RATE_MAX = 100_00
MONEY_MAX_CENTS = 10**14 - 1


def address(value: str, reasons: list[str]) -> str:
    """Lines separated by a literal \\n or by a line break inside the quoted cell."""
    text = value.replace("\\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if line)
    if len(text) > ADDRESS_MAX:
        reasons.append(f"address is longer than {ADDRESS_MAX} characters")
    elif CONTROL.search(text.replace("\n", "")):
        reasons.append("address contains a control character")
    return text


class Collectors:
    """Who may be named as a customer's collector: an active user with a role (a manager or
    an admin collects too). Loaded once per file."""

    def __init__(self):
        users = get_user_model().objects
        self.active = dict(users.values_list("username", "is_active"))
        self.eligible = set(
            users.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(groups__name__in=ROLES))
            .values_list("username", flat=True)
        )

    def check(self, username: str, reasons: list[str]) -> str:
        if not username or username in self.eligible:
            return username
        if username not in self.active:
            reasons.append(f"collector '{username}' is not a user")
        elif not self.active[username]:
            reasons.append(f"collector '{username}' is not an active user")
        else:
            reasons.append(f"collector '{username}' does not have the collector role")
        return username


def amount(value: str, column: str, reasons: list[str]) -> int | None:
    """An amount of zero or more, as integer cents."""
    if not value:
        return None
    try:
        parsed = parse_amount(value)
    except ValueError as exc:
        reasons.append(f"{column} {exc}")
        return None
    if parsed < 0:
        reasons.append(f"{column} {value} must not be negative")
        return None
    cents = int(parsed * 100)
    if cents > MONEY_MAX_CENTS:
        reasons.append(f"{column} {value} is too large")
        return None
    return cents


def rate(value: str, reasons: list[str]) -> int | None:
    """late_interest_rate: percent a year from 0 to 100, as hundredths of a percent."""
    if not value:
        return None
    try:
        parsed = parse_amount(value.removesuffix("%").strip())
    except ValueError:
        reasons.append(f"late_interest_rate '{value}' is not a percent a year (e.g. 8 or 7.25)")
        return None
    hundredths = int(parsed * 100)
    if not 0 <= hundredths <= RATE_MAX:
        reasons.append(f"late_interest_rate {value} must be from 0 to 100 (percent a year)")
        return None
    return hundredths


def accepted_on(value: str, parse: DateParser, reasons: list[str]) -> str | None:
    """terms_accepted_on: a date, not after today."""
    checked = len(reasons)
    on = day(value, "terms_accepted_on", parse, reasons, required=False)
    if on and len(reasons) == checked and on > timezone.localdate().isoformat():
        reasons.append(f"terms_accepted_on {on} is in the future")
        return None
    return on


LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})?$")
TERMS_DAYS_MAX = 365


def language(value: str, reasons: list[str]) -> str:
    """language: a code such as en, en-GB or de, written the usual way (en-GB)."""
    if not value:
        return ""
    if not LANGUAGE.match(value):
        reasons.append(f"language '{value}' is not a language code (e.g. en, en-GB, de)")
        return ""
    head, _, tail = value.replace("_", "-").partition("-")
    return head.lower() + (f"-{tail.upper() if len(tail) == 2 else tail}" if tail else "")


def terms_days(value: str, reasons: list[str]) -> int | None:
    """payment_terms_days: whole days to pay, 0 to 365; "Net 30" and "30 days" read as 30."""
    if not value:
        return None
    digits = re.sub(r"(?i)^net\s*|\s*days?$", "", value.strip())
    if not digits.isdigit() or int(digits) > TERMS_DAYS_MAX:
        reasons.append(f"payment_terms_days '{value}' is not a number of days from 0 to 365")
        return None
    return int(digits)
