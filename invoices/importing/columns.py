"""The columns of each import kind, and how a file's own headers map onto them."""

from dataclasses import dataclass, field
from datetime import date, datetime

from invoices.models import ImportKind

ISO_DATE = "%Y-%m-%d"


class HeaderError(ValueError):
    """The header row or the column mapping cannot be used; messages are fit to show."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Schema:
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Pairs of our columns the mapping screen offers to feed from one file column.
    combined: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


SCHEMAS = {
    ImportKind.CUSTOMERS: Schema(
        ImportKind.CUSTOMERS,
        required=("external_id", "name"),
        optional=(
            "email",
            "phone",
            "timezone",
            "currency",
            "debtor_type",
            "country",
            "region",
            "address",
            "collector",
            "credit_limit",
            "terms_version",
            "terms_accepted_on",
            "late_interest_rate",
            "late_fee",
            "language",
            "payment_terms_days",
        ),
        combined=("external_id+name",),
    ),
    ImportKind.INVOICES: Schema(
        ImportKind.INVOICES,
        required=("number", "customer_external_id", "issue_date", "due_date", "amount"),
        # Without a currency column each invoice takes its customer's currency.
        optional=("currency", "settled_date"),
    ),
    ImportKind.PAYMENTS: Schema(
        ImportKind.PAYMENTS,
        required=("invoice_number", "date", "amount"),
        # A row with a blank invoice_number and a customer is cash not yet matched to invoices.
        optional=("reference", "customer_external_id"),
    ),
}


def schema_for(kind: str) -> Schema:
    try:
        return SCHEMAS[ImportKind(kind)]
    except ValueError:
        raise HeaderError([f"'{kind}' is not an import kind ({', '.join(SCHEMAS)})"]) from None


def _key(header: str) -> str:
    return header.strip().casefold()


def targets(dst: str) -> list[str]:
    """Our columns one file column feeds: 'external_id+name' feeds two (a ledger that keys
    its customers by name has one column for both)."""
    return [part.strip() for part in (dst or "").split("+") if part.strip()]


def parse_mapping(text: str) -> dict[str, str]:
    """'Their Header=our_column,Other=our_column2' -> {'Their Header': 'our_column', ...}."""
    mapping = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        source, sep, target = part.rpartition("=")
        if not sep or not source.strip():
            raise HeaderError([f"'{part.strip()}' is not of the form 'Their header=our_column'"])
        mapping[source.strip()] = target.strip()
    return mapping


def check_date_format(fmt: str) -> None:
    """Refuse a strptime format that cannot tell day, month and year apart."""
    probe = date(2031, 12, 25)
    try:
        ok = datetime.strptime(probe.strftime(fmt), fmt).date() == probe
    except ValueError:
        ok = False
    if not ok:
        raise HeaderError([f"'{fmt}' is not a usable date format (e.g. %Y-%m-%d or %m/%d/%Y)"])


@dataclass
class Layout:
    """Where each of our columns sits in the file's rows."""

    positions: dict[str, int]
    width: int
    ignored: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    def index(self, column: str) -> int | None:
        return self.positions.get(column)


def resolve_header(header: list[str], schema: Schema, mapping: dict[str, str]) -> Layout:
    """Match the header row against our columns: an explicit mapping first, then the same
    name (ignoring case and spaces). Unknown columns are ignored; a missing required one,
    or two columns claiming the same name, is an error. Mapping entries that name no column
    of the file are reported as unmatched."""
    ours = set(schema.columns)
    wanted = {_key(src): dst for src, dst in mapping.items()}
    problems = [
        f"the mapping names '{part}', which is not one of the {schema.kind} columns "
        f"({', '.join(schema.columns)})"
        for dst in wanted.values()
        for part in targets(dst)
        if part not in ours
    ]
    positions: dict[str, int] = {}
    ignored = []
    for index, raw in enumerate(header):
        name = raw.strip()
        key = _key(name)
        fed = [t for t in targets(wanted.get(key, key if key in ours else "")) if t in ours]
        if not fed:
            ignored.append(name)
        for target in fed:
            if target in positions:
                problems.append(
                    f"columns '{header[positions[target]].strip()}' and '{name}' both map to "
                    f"'{target}'"
                )
            else:
                positions[target] = index
    missing = [column for column in schema.required if column not in positions]
    if missing:
        problems.append(f"missing required column(s): {', '.join(missing)}")
    if problems:
        raise HeaderError(problems)
    present = {_key(name) for name in header}
    unmatched = [src for src in mapping if _key(src) not in present]
    return Layout(positions=positions, width=len(header), ignored=ignored, unmatched=unmatched)


def suggested_mapping(header: list[str], schema: Schema, saved: dict[str, str]) -> dict[str, str]:
    """For the mapping screen: a remembered choice, else a column of the same name, else none."""
    ours = set(schema.columns)
    remembered = {_key(src): dst for src, dst in saved.items()}
    suggestion = {}
    for raw in header:
        key = _key(raw)
        if key in remembered and set(targets(remembered[key])) <= ours:
            suggestion[raw.strip()] = remembered[key]
        else:
            suggestion[raw.strip()] = key if key in ours else ""
    return suggestion
