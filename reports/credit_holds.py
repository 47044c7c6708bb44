"""The accounts on credit hold, for the sales side: who they are, since when and why, whether
the credit-hold rule set the hold (it lifts it once the account is back in terms) or a person
did, and what they owe. One query, streamed as CSV through invoices.safe_csv."""

import datetime as dt
from collections.abc import Iterator

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse

from invoices import safe_csv
from invoices.models import MONEY, Customer, Invoice
from invoices.money import quantize
from invoices.selectors import OUTSTANDING

CHUNK_ROWS = 2000
HEAD = [
    "external_id",
    "name",
    "collector",
    "on_hold_since",
    "reason",
    "set_by",
    "open_balance",
    "overdue_balance",
    "credit_limit",
    "currency",
]
FIELDS = (
    "external_id",
    "name",
    "collector__first_name",
    "collector__last_name",
    "collector__username",
    "credit_hold_since",
    "credit_hold_reason",
    "credit_hold_by_rule",
    "open_total",
    "overdue_total",
    "credit_limit",
    "currency",
)
MONEY_FIELD = DecimalField(**MONEY)


def _owed(condition: Q | None = None) -> Coalesce:
    """The customer's outstanding invoices (disputed ones too) in its currency, summed."""
    total = (
        Invoice.objects.filter(
            condition or Q(),
            customer=OuterRef("pk"),
            currency=OuterRef("currency"),
            status__in=OUTSTANDING,
        )
        .order_by()
        .values("customer")
        .annotate(total=Sum("open_balance"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), Value(0), output_field=MONEY_FIELD)


def credit_holds(*, today: dt.date) -> QuerySet:
    """Every customer on credit hold, longest held first, as rows of FIELDS."""
    return (
        Customer.objects.filter(credit_hold=True)
        .annotate(open_total=_owed(), overdue_total=_owed(Q(due_date__lt=today)))
        .order_by("credit_hold_since", "name", "pk")
        .values_list(*FIELDS)
    )


class _Echo:
    """A file that hands back what is written to it, so each CSV line can be streamed."""

    def write(self, value: str) -> str:
        return value


def _money(amount):
    return None if amount is None else quantize(amount)


def _lines(rows: QuerySet) -> Iterator[str]:
    writer = safe_csv.writer(_Echo())
    lines = [writer.writerow(HEAD)]
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        external_id, name, first, last, username, since, reason, by_rule, *money = row
        open_total, overdue_total, limit, currency = money
        # The collector's name as the screens give it: full name, else username.
        collector = " ".join(filter(None, (first, last))) or username or ""
        lines.append(
            writer.writerow(
                [external_id, name, collector, since.isoformat() if since else "", reason]
                + ["rule" if by_rule else "hand"]
                + [_money(open_total), _money(overdue_total), _money(limit), currency]
            )
        )
        if len(lines) >= CHUNK_ROWS:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def credit_holds_csv(*, today: dt.date) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _lines(credit_holds(today=today)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="credit-holds-{today.isoformat()}.csv"'
    return response
