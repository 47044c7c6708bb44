"""What a reply seems to say, for a collector to confirm in one click: simple rules over the
subject and the trimmed text, in order of how much they change what happens next."""

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from dateutil import parser as dateparser

from .models import Suggestion

_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|away from the office"
    r"|i am (currently )?out of)",
    re.IGNORECASE,
)
_STOP_LINE = re.compile(
    r"^\W*(please\s+)?(stop|unsubscribe|remove me|"
    r"stop (contacting|emailing|e-mailing|writing to|calling) (me|us))\W*$",
    re.IGNORECASE,
)
_PAID = re.compile(
    r"\b(already paid|(was|were|been|we|i) paid|paid (it |this |the invoice |in full )?on\b"
    r"|paid in full|remittance|payment (was|has been) (made|sent))",
    re.IGNORECASE,
)
_DISPUTE = re.compile(
    r"\b(dispute|disputing|not received|never received|did not receive|didn't receive"
    r"|wrong amount|incorrect amount|amount is wrong|damaged|not ordered|did not order)",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\b((will|shall|can|going to|intend to|plan to) (make )?(the )?pay(ment)?"
    r"|pay(ment)? (it |this |you )?(by|on|before)\b|promise)",
    re.IGNORECASE,
)
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATES = re.compile(
    r"\b(\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}(st|nd|rd|th)?\s+(of\s+)?{_MONTH}(,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?(,?\s+\d{{4}})?"
    r"|\d{1,2}/\d{1,2}/\d{2,4})\b",
    re.IGNORECASE,
)


def is_auto_reply(headers: Mapping[str, str], subject: str) -> bool:
    auto = (headers.get("auto-submitted") or "").strip().lower()
    if auto and auto != "no":
        return True
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return True
    if (headers.get("precedence") or "").strip().lower() == "auto_reply":
        return True
    return bool(_AUTO_SUBJECT.match(subject or ""))


def is_stop(text: str, subject: str) -> bool:
    return any(_STOP_LINE.match(line) for line in [subject or "", *text.splitlines()])


def promised_date(text: str, *, today: dt.date) -> dt.date | None:
    """The first date in the text, read day-first; a day without a year is the next one."""
    for match in _DATES.finditer(text):
        written = match.group(0)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", written):
            try:
                return dt.date.fromisoformat(written)
            except ValueError:
                continue
        try:
            day = dateparser.parse(
                written.replace(" of ", " "),
                default=dt.datetime(today.year, today.month, today.day),
                dayfirst=True,
            ).date()
        except (ValueError, OverflowError):
            continue
        has_year = bool(re.search(r"\d{4}|/\d{2,4}$", written))
        if not has_year and day < today:
            day = day.replace(year=day.year + 1)
        return day
    return None


# A sum written with its currency, "£1,250.00", "$300", "1250 EUR": a bare number is as
# likely an invoice number or a day as an amount.
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?"
_AMOUNT = re.compile(
    rf"(?:[£$€]\s?|\b(?:GBP|USD|EUR|CAD|AUD)\s?){_NUMBER}\b"
    rf"|\b{_NUMBER}\s?(?:GBP|USD|EUR|CAD|AUD|pounds|dollars|euros)\b",
    re.IGNORECASE,
)


def promised_amount(text: str) -> Decimal | None:
    """The first sum written with a currency in the text, or None."""
    match = _AMOUNT.search(text)
    if not match:
        return None
    whole, cents = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    try:
        return Decimal(whole.replace(",", "") + (cents or ""))
    except InvalidOperation:
        return None


def classify(
    *, text: str, subject: str, headers: Mapping[str, str], today: dt.date
) -> tuple[str, dt.date | None]:
    """(suggestion, promised date or None). Headers' names in lower case."""
    if is_auto_reply(headers, subject):
        return Suggestion.OUT_OF_OFFICE, None
    if is_stop(text, subject):
        return Suggestion.STOP, None
    words = f"{subject}\n{text}"
    if _PAID.search(words):
        return Suggestion.ALREADY_PAID, None
    if _DISPUTE.search(words):
        return Suggestion.DISPUTE, None
    if _PROMISE.search(words):
        day = promised_date(text, today=today) or promised_date(subject, today=today)
        if day is not None:
            return Suggestion.PROMISE, day
    return Suggestion.OTHER, None
