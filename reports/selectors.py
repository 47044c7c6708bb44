"""Reads for the manager's reports."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum

from invoices.models import Invoice
from invoices.money import ZERO, quantize
from invoices.selectors import OUTSTANDING, OVERDUE_RANGES, due_between

# Aging buckets as (key, label, overdue range); "current" is everything not yet past due.
BUCKETS = (
    ("current", "Current", OVERDUE_RANGES["not_due"]),
    ("d1_30", "1–30", OVERDUE_RANGES["1_30"]),
    ("d31_60", "31–60", OVERDUE_RANGES["31_60"]),
    ("d61_90", "61–90", OVERDUE_RANGES["61_90"]),
    ("d90_plus", "90+", OVERDUE_RANGES["90_plus"]),
)


@dataclass
class AgingRow:
    currency: str
    amounts: list[Decimal]  # in the order of BUCKETS
    total: Decimal


def aging_by_currency(*, as_of: date) -> list[AgingRow]:
    """Open balance per currency in each aging bucket, in one aggregate query.

    Stored open balances are today's; this is right as of today only. Aging as of a past
    date has to replay allocations and comes with the reports issue."""
    sums = {
        key: Sum("open_balance", filter=due_between(as_of, *days)) for key, _label, days in BUCKETS
    }
    rows = (
        Invoice.objects.filter(Q(status__in=OUTSTANDING))
        .order_by("currency")
        .values("currency")
        .annotate(**sums, total=Sum("open_balance"))
    )
    return [
        AgingRow(
            currency=row["currency"],
            # SQLite sums lose the trailing zeros; quantize so both databases agree.
            amounts=[quantize(row[key] or ZERO) for key, _label, _days in BUCKETS],
            total=quantize(row["total"] or ZERO),
        )
        for row in rows
    ]
