"""The fixed context every email and letter template sees, and its documentation.

Only plain values go in: strings, numbers, Decimals, dates, booleans, and Records (read-only
mappings with no methods a template could call) and tuples of them. Every documented field
is always present (blank when unknown), so a template can rely on it and a misspelt one is
reported rather than printed as nothing."""

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal


class Record:
    """A read-only bag of plain values: `{{ customer.name }}` works, nothing else does.
    Django's templates try item access first, then attributes: a Record has no public
    attributes, so lookups end at its fields."""

    __slots__ = ("_values",)

    def __init__(self, **values):
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key):
        return self._values[key]

    def __setattr__(self, name, value):
        raise AttributeError("Records are read-only")

    def __eq__(self, other):
        return isinstance(other, Record) and self._values == other._values

    __hash__ = None

    def __repr__(self):
        return f"Record({self._values!r})"


# name -> what it is, shown beside the template editor. The order is the editor's.
FIELDS: dict[str, str] = {
    "organisation.name": "your company's name",
    "organisation.address": "your postal address (several lines)",
    "organisation.signature": "who signs letters, e.g. name and title (several lines)",
    "organisation.payment_instructions": "how to pay: bank details and reference",
    "customer.name": "the customer's name",
    "customer.account": "the customer's account number (their id in your ledger)",
    "contact.name": "the person written to (blank when unknown)",
    "contact.email": "their email address",
    "contact.address": "their postal address (several lines)",
    "invoices": "the invoices covered, oldest first; each has number, issue_date, due_date, "
    "days_overdue, amount, balance and payment_link (blank when none is known)",
    "count": "how many invoices are covered",
    "total": "their total open balance",
    "currency": "its currency code; write amounts as {{ total|money:currency }}",
    "oldest_days": "days overdue of the oldest invoice",
    "today": "the date of the message, in the customer's time zone",
    "deadline": "the date payment is due by (final demand; blank for other steps)",
    "deadline_days": "the business days the deadline gives",
    "step": "the name of the ladder step",
    "collector.name": "the collector looking after the customer (blank when none)",
    "collector.email": "their email address",
    "consumer": "true when the customer is a consumer (an opt-out link is then required)",
    "opt_out_url": "the customer's opt-out link (consumers only)",
    "interest.enabled": "true when the step's policy claims statutory interest",
    "interest.regime": "the law it is claimed under",
    "interest.total": "statutory interest to date",
    "interest.compensation": "fixed compensation for the late invoices",
    "interest.lines": "per invoice: invoice_number, days, rate, interest, compensation",
    "grand_total": "total plus interest and compensation (equals total when none)",
}


def records(rows: Iterable[Mapping]) -> tuple[Record, ...]:
    return tuple(Record(**row) for row in rows)


def invoice_line(
    *,
    number: str,
    due_date: dt.date,
    balance: Decimal,
    today: dt.date,
    issue_date: dt.date | None = None,
    amount: Decimal | None = None,
    payment_link: str = "",
) -> dict:
    return {
        "number": number,
        "issue_date": issue_date or "",
        "due_date": due_date,
        "days_overdue": max(0, (today - due_date).days),
        "amount": balance if amount is None else amount,
        "balance": balance,
        "payment_link": payment_link,
    }


NO_INTEREST = Record(
    enabled=False,
    regime="",
    total=Decimal("0.00"),
    compensation=Decimal("0.00"),
    lines=(),
)
