"""The fixed context every email and letter template sees, and its documentation.

Only plain values go in: strings, numbers, Decimals, dates, booleans, and Records (read-only
mappings with no methods a template could call) and tuples of them. Every documented field
is always present (blank when unknown), so a template can rely on it and a misspelt one is
reported rather than printed as nothing."""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Field:
    """A field of the context as the template editor offers it: clicking it inserts `text`
    in the subject or the plain-text email and `html` in the HTML email or the letter."""

    name: str
    meaning: str
    text: str = ""  # {{ name }} when blank
    html: str = ""  # the text snippet when blank

    def __post_init__(self):
        if not self.text:
            object.__setattr__(self, "text", f"{{{{ {self.name} }}}}")
        if not self.html:
            object.__setattr__(self, "html", self.text)

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower())


def _money(name: str) -> str:
    return f"{{{{ {name}|money:currency }}}}"


def _lines(name: str) -> dict[str, str]:
    # Several lines in a value keep their breaks in HTML only with linebreaksbr.
    return {"html": f"{{{{ {name}|linebreaksbr }}}}"}


def _loop(name: str, line: str) -> dict[str, str]:
    return {
        "text": f"{{% for line in {name} %}}{line}\n{{% endfor %}}",
        "html": f"<ul>{{% for line in {name} %}}<li>{line}</li>{{% endfor %}}</ul>",
    }


_INVOICE_LINE = "{{ line.number }}, due {{ line.due_date|day }}: " + _money("line.balance")
_INTEREST_LINE = (
    "{{ line.invoice_number }}: {{ line.days }} days at {{ line.rate }}%, "
    + _money("line.interest")
    + " interest and "
    + _money("line.compensation")
    + " compensation"
)

# The groups the template editor shows, in its order. "…" marks what the admin writes
# in place: the editor selects it after inserting.
FIELD_GROUPS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        "Who it is for",
        (
            Field(
                "greeting",
                'the person written to, else the customer\'s name: for "Dear …"',
                "{% firstof contact.name customer.name %}",
            ),
            Field("customer.name", "the customer's name"),
            Field("customer.account", "the customer's account number (their id in your ledger)"),
            Field("contact.name", "the person written to (blank when unknown)"),
            Field("contact.email", "their email address"),
            Field(
                "contact.address",
                "their postal address (several lines)",
                **_lines("contact.address"),
            ),
        ),
    ),
    (
        "What is owed",
        (
            Field("total", "their total open balance, with its currency", _money("total")),
            Field(
                "grand_total",
                "total plus statutory interest and compensation (equals total when none)",
                _money("grand_total"),
            ),
            Field("count", "how many invoices are covered"),
            Field("oldest_days", "days overdue of the oldest invoice"),
            Field(
                "invoices",
                "one line per invoice covered, oldest first (each has number, issue_date, "
                "due_date, days_overdue, amount, balance and payment_link)",
                **_loop("invoices", _INVOICE_LINE),
            ),
            Field("currency", "the currency code, e.g. GBP"),
        ),
    ),
    (
        "Dates",
        (
            Field(
                "today",
                "the date of the message, in the customer's time zone",
                "{{ today|day }}",
            ),
            Field(
                "deadline",
                "the date payment is due by (final demand; blank for other steps)",
                "{{ deadline|day }}",
            ),
            Field("deadline_days", "the business days the deadline gives"),
        ),
    ),
    (
        "Your company",
        (
            Field("organisation.name", "your company's name"),
            Field(
                "organisation.address",
                "your postal address (several lines)",
                **_lines("organisation.address"),
            ),
            Field(
                "organisation.signature",
                "who signs letters, e.g. name and title (several lines)",
                **_lines("organisation.signature"),
            ),
            Field(
                "organisation.payment_instructions",
                "how to pay: bank details and reference",
                **_lines("organisation.payment_instructions"),
            ),
            Field("collector.name", "the collector looking after the customer (blank when none)"),
            Field("collector.email", "their email address"),
            Field("step", "the name of the ladder step"),
        ),
    ),
    (
        "Consumers",
        (
            Field(
                "consumer",
                "true when the customer is a consumer (an opt-out link is then required)",
                "{% if consumer %}…{% endif %}",
            ),
            Field("opt_out_url", "the customer's opt-out link (consumers only)"),
        ),
    ),
    (
        "Statutory interest",
        (
            Field(
                "interest.enabled",
                "true when the step's policy claims statutory interest",
                "{% if interest.enabled %}…{% endif %}",
            ),
            Field("interest.regime", "the law it is claimed under"),
            Field("interest.total", "statutory interest to date", _money("interest.total")),
            Field(
                "interest.compensation",
                "fixed compensation for the late invoices",
                _money("interest.compensation"),
            ),
            Field(
                "interest.lines",
                "one line per invoice: invoice_number, days, rate, interest, compensation",
                **_loop("interest.lines", _INTEREST_LINE),
            ),
        ),
    ),
    (
        "Ready-made blocks",
        (
            Field(
                "invoice table",
                "the invoices covered with due dates, days overdue and balances, and the total",
                '{% include "statement.txt" %}',
                '{% include "statement.html" %}',
            ),
            Field(
                "closing",
                "how to pay, who to contact, kind regards and, for consumers, the opt-out",
                '{% include "footer.txt" %}',
                '{% include "footer.html" %}',
            ),
        ),
    ),
)

# name -> what it is: every field a template can rely on (the blocks and the greeting are
# shortcuts, not fields).
_SHORTCUTS = {"greeting", "invoice table", "closing"}
FIELDS: dict[str, str] = {
    field.name: field.meaning
    for _title, fields in FIELD_GROUPS
    for field in fields
    if field.name not in _SHORTCUTS
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
