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


def record_cleared(record: Record, **changes) -> Record:
    """A copy with every amount zero and every list empty, then `changes` (those it has):
    the same fields, so a template reading any of them still renders."""
    values = {
        key: Decimal("0.00")
        if isinstance(value, Decimal)
        else ()
        if isinstance(value, tuple)
        else value
        for key, value in record._values.items()
    }
    values.update({key: value for key, value in changes.items() if key in values})
    return Record(**values)


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
                "one line per invoice covered, oldest first (each has id, number, issue_date, "
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
                "how to pay, in your words",
                **_lines("organisation.payment_instructions"),
            ),
            Field(
                "organisation.bank_details",
                "your bank account (several lines; blank when not set)",
                **_lines("organisation.bank_details"),
            ),
            Field("organisation.payment_reference", "what the customer quotes when paying"),
            Field("organisation.company_number", "your company registration number"),
            Field("organisation.vat_id", "your VAT number"),
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
            Field("portal_url", "the link to the customer's own page (made for the contact)"),
        ),
    ),
    (
        "Interest and compensation",
        (
            Field(
                "interest.enabled",
                "true when late-payment charges are claimed (under the policy's law or the "
                "customer's accepted terms) and the consequence check allows them",
                "{% if interest.enabled %}…{% endif %}",
            ),
            Field(
                "interest.statutory",
                "true when they are claimed under a law, false under the customer's terms",
                "{% if interest.statutory %}…{% endif %}",
            ),
            Field("interest.regime", "the law or the terms they are claimed under"),
            Field("interest.reason", "why nothing is claimed (blank when something is)"),
            Field(
                "interest.total", "interest to date on the open invoices", _money("interest.total")
            ),
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
            Field(
                "interest.paid_late",
                "the same lines for invoices already paid, but late (interest to the day paid)",
                **_loop("interest.paid_late", _INTEREST_LINE),
            ),
            Field(
                "interest.paid_late_total",
                "interest and compensation owed on invoices paid late",
                _money("interest.paid_late_total"),
            ),
        ),
    ),
    (
        "Consequences",
        (
            Field(
                "consequence",
                "words stating a consequence: interest, compensation, fees, credit_hold, "
                "referral, legal_action or reporting. Shown only when it is true to say for "
                "this customer (not time-barred, allowed by the terms and the law)",
                '{% consequence "interest" %}…{% endconsequence %}',
            ),
            Field(
                "required consequence",
                "words the message cannot go without: when the check refuses them, the "
                "message is not sent and the customer's collector is told why",
                '{% consequence "referral" required %}…{% endconsequence %}',
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

# name -> what it is: every field a template can rely on (the blocks, the greeting and the
# consequence tags are shortcuts, not fields). The context also carries `consequences`, the
# verdict of letters.consequences, which the {% consequence %} tag reads.
_SHORTCUTS = {"greeting", "invoice table", "closing", "consequence", "required consequence"}
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
    id: int | None = None,  # the invoice's id, for links to the customer's page
) -> dict:
    return {
        "id": id or "",
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
    statutory=False,
    regime="",
    reason="",
    total=Decimal("0.00"),
    compensation=Decimal("0.00"),
    lines=(),
    paid_late=(),
    paid_late_interest=Decimal("0.00"),
    paid_late_compensation=Decimal("0.00"),
    paid_late_total=Decimal("0.00"),
)
