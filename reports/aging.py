"""Aging of the open balance as of today or any past date, read from the ledger's own dates.

An invoice is open on a date D when it was issued on or before D and not fully paid or
credited by the end of D; its balance on D is its amount less the allocations applied on or
before D. For today (or later) that is the stored open_balance, which invoice_refresh keeps
equal to the ledger, so one aggregate over the outstanding invoices answers; for a past date
the allocations are replayed. The totals and the drill-down read the same open_on, so they
cannot drift apart. On PostgreSQL the database keeps both answers without the invoices:
today's by collector (reports.rollup), a past day's for the whole ledger (reports.history),
each checked against open_on by the tests after every kind of write.
Amounts in different currencies are never added together: every row is one currency."""

import datetime as dt
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Count, F, Func, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce

from invoices.models import Allocation, Customer, Invoice
from invoices.money import ZERO, quantize
from invoices.selectors import MONEY_OUTPUT, OUTSTANDING, DaysLate, due_between

from . import history, rollup


@dataclass(frozen=True)
class Bucket:
    key: str  # "current", "1-30", …, "90+"
    label: str  # for display: "Current", "1–30", …, "90+"
    low: int | None  # fewest days past due, inclusive; None = no lower bound
    high: int | None  # most days past due, inclusive; None = open-ended

    def condition(self, as_of: dt.date) -> Q:
        """The invoices in this bucket on as_of, as a due-date range (index friendly)."""
        return due_between(as_of, self.low, self.high)


DEFAULT_EDGES = (30, 60, 90)
MAX_EDGES = 6
# Ten thousand days is over 27 years: far enough for any aging, near enough that subtracting
# it from a date can never leave the calendar.
MAX_EDGE_DAYS = 9_999
AGING_BY = ("currency", "customer", "collector")


def buckets_for(edges: Sequence[int] = DEFAULT_EDGES) -> list[Bucket]:
    """Current (not yet past due), then one bucket up to each edge, then the rest."""
    edges = tuple(edges)
    _check_edges(edges)
    buckets = [Bucket(key="current", label="Current", low=None, high=0)]
    low = 1
    for edge in edges:
        buckets.append(Bucket(key=f"{low}-{edge}", label=f"{low}–{edge}", low=low, high=edge))
        low = edge + 1
    buckets.append(Bucket(key=f"{edges[-1]}+", label=f"{edges[-1]}+", low=low, high=None))
    return buckets


EDGES_HELP = (
    f"Use 1 to {MAX_EDGES} whole numbers of days, each larger than the one before, "
    "separated by commas, e.g. 30,60,90."
)


def _check_edges(edges: tuple[int, ...]) -> None:
    if not 1 <= len(edges) <= MAX_EDGES:
        raise ValueError(f"Give between 1 and {MAX_EDGES} bucket edges. {EDGES_HELP}")
    if any(edge < 1 for edge in edges):
        raise ValueError(f"Bucket edges must be more than zero days. {EDGES_HELP}")
    if any(edge > MAX_EDGE_DAYS for edge in edges):
        raise ValueError(f"Bucket edges cannot be more than {MAX_EDGE_DAYS:,} days.")
    if any(later <= earlier for earlier, later in zip(edges, edges[1:], strict=False)):
        raise ValueError(f"Bucket edges must increase from left to right. {EDGES_HELP}")


def parse_edges(text: str) -> tuple[int, ...]:
    """'30,60,90' -> (30, 60, 90); a ValueError that can be shown to the user otherwise."""
    parts = [part.strip() for part in (text or "").split(",")]
    if parts and not parts[-1]:
        parts.pop()  # a trailing comma is harmless
    if not parts:
        raise ValueError(f"Give at least one bucket edge. {EDGES_HELP}")
    edges = []
    for part in parts:
        if not part.isascii() or not part.isdigit():
            raise ValueError(f"'{part}' is not a whole number of days. {EDGES_HELP}")
        edges.append(int(part))
    edges = tuple(edges)
    _check_edges(edges)
    return edges


@dataclass
class AgingRow:
    key: object  # currency code, customer id or collector id (None = unassigned)
    label: str
    currency: str
    counts: list[int]  # invoices per bucket, in bucket order
    amounts: list[Decimal]  # balance per bucket
    count: int
    total: Decimal


def open_on(
    *,
    as_of: dt.date,
    today: dt.date,
    currency: str = "",
    collector_id: int | None = None,
    unassigned: bool = False,
) -> QuerySet[Invoice]:
    """The invoices open at the end of as_of, each annotated with balance_on.

    Today's balances are stored; a past date replays the allocations. closed_on (the day
    the last allocation closed an invoice) lets the database drop the invoices closed on or
    before as_of without looking at their allocations. Every invoice kept has something
    left on as_of: closed_on is set exactly when the allocations, all positive, reach the
    amount, so one not closed by the end of as_of was not paid off by then. That is why no
    "balance > 0" filter follows, which would make the database look up each invoice's
    allocations a second time."""
    invoices = Invoice.objects.filter(issue_date__lte=as_of)
    if as_of >= today:
        invoices = invoices.filter(status__in=OUTSTANDING).annotate(balance_on=F("open_balance"))
    else:
        invoices = invoices.filter(Q(closed_on__isnull=True) | Q(closed_on__gt=as_of)).annotate(
            # A stored balance equal to the amount means no allocation at all, so the
            # balance was the whole amount on every date: no need to look them up.
            balance_on=Case(
                When(open_balance=F("amount"), then=F("amount")),
                default=F("amount") - _applied_by(as_of),
                output_field=MONEY_OUTPUT,
            )
        )
    if currency:
        invoices = invoices.filter(currency=currency)
    return invoices.filter(collector_scope(collector_id, unassigned)).order_by()


def collector_scope(collector_id: int | None, unassigned: bool, prefix: str = "") -> Q:
    """The invoices (or, with prefix "invoice__", allocations) of one collector's
    customers, of the customers without one, or all (Q())."""
    if unassigned:
        return Q(**{f"{prefix}customer__collector__isnull": True})
    if collector_id is not None:
        return Q(**{f"{prefix}customer__collector_id": collector_id})
    return Q()


def _money(value) -> Decimal:
    if isinstance(value, Decimal):  # PostgreSQL: exact already
        return value
    # SQLite sums come back as floats or without trailing zeros; str() keeps the cents exact.
    return ZERO if value is None else quantize(Decimal(str(value)))


KEYS = {"currency": "currency", "customer": "customer_id", "collector": "customer__collector_id"}


def aging(
    *,
    as_of: dt.date,
    today: dt.date,
    buckets: Sequence[Bucket],
    by: str = "currency",
    currency: str = "",
    collector_id: int | None = None,
    unassigned: bool = False,
    limit: int | None = None,
) -> list[AgingRow]:
    """Open balance on as_of per bucket, one row per currency (by="currency") or per
    customer or collector and currency. Rows come by currency, then the largest total
    first; limit caps the whole list.

    The database sums per key, currency and due date (a few thousand rows for a million
    invoices) and the buckets are filled here: far cheaper than one conditional sum per
    bucket over every invoice. By customer with a limit, a first query ranks the customers
    by total and the second sums only the chosen ones."""
    if by not in KEYS:
        raise ValueError(f"Aging is by one of {', '.join(AGING_BY)}, not {by!r}.")
    buckets = list(buckets)
    key = KEYS[by]
    if as_of >= today and by != "customer" and rollup.available():
        found = _kept_rows(
            by, as_of=as_of, currency=currency, collector_id=collector_id, unassigned=unassigned
        )
        return _fill(found, buckets, by=by, as_of=as_of, limit=limit)
    if by == "currency" and collector_id is None and not unassigned and history.available():
        # A past day of the whole ledger: the kept days (reports.history), not the invoices.
        found = [
            (cur, cur, due, n, amount)
            for cur, due, n, amount in history.open_by_due(as_of, currency)
        ]
        return _fill(found, buckets, by=by, as_of=as_of, limit=limit)
    invoices = open_on(
        as_of=as_of,
        today=today,
        currency=currency,
        collector_id=collector_id,
        unassigned=unassigned,
    )
    chosen = None
    if by == "customer" and limit is not None:
        ranked = (
            invoices.values(key, "currency")
            .annotate(total=Sum("balance_on"))
            .order_by("currency", "-total", key)[:limit]
        )
        chosen = {(row[key], row["currency"]) for row in ranked}
        if not chosen:
            return []
        invoices = invoices.filter(customer_id__in=sorted({k for k, _currency in chosen}))
    # COUNT(*), not COUNT(id): the id is not in the outstanding index, so counting it
    # would send the database to the table for every invoice.
    found = invoices.values_list(key, "currency", "due_date").annotate(
        count=Count("*"), amount=Sum("balance_on")
    )
    return _fill(_raw_rows(found), buckets, by=by, as_of=as_of, limit=limit, chosen=chosen)


def _fill(
    found: list[tuple],
    buckets: list[Bucket],
    *,
    by: str,
    as_of: dt.date,
    limit: int | None,
    chosen: set | None = None,
) -> list[AgingRow]:
    """AgingRows from (key, currency, due date, invoices, balance) rows, a key's rows summed
    into its buckets."""
    rows: dict[tuple, AgingRow] = {}
    bucket_of = _bucket_finder(tuple(buckets))
    for key_value, row_currency, due_date, count, amount in found:
        if chosen is not None and (key_value, row_currency) not in chosen:
            continue
        row = rows.get((key_value, row_currency))
        if row is None:
            row = rows[key_value, row_currency] = AgingRow(
                key=key_value,
                label="",
                currency=row_currency,
                counts=[0] * len(buckets),
                amounts=[ZERO] * len(buckets),
                count=0,
                total=ZERO,
            )
        index = bucket_of((as_of - due_date).days)
        amount = _money(amount)
        row.counts[index] += count
        row.amounts[index] += amount
        row.count += count
        row.total += amount
    ordered = sorted(
        rows.values(),
        key=lambda row: (
            (row.currency, -row.total, row.key is None, row.key or 0)
            if by != "currency"
            else (row.currency,)
        ),
    )
    if limit is not None:
        ordered = ordered[:limit]
    labels = _labels(by, [row.key for row in ordered])
    for row in ordered:
        row.label = labels.get(row.key, str(row.key))
    return ordered


def _kept_rows(
    by: str, *, as_of: dt.date, currency: str, collector_id: int | None, unassigned: bool
) -> list[tuple]:
    """Today's (key, currency, due date, invoices, balance) from the kept rollup (reports.
    rollup) rather than the invoices. The rollup holds every outstanding invoice; those
    issued after as_of (dated ahead) are not open yet and come off, found through the
    currency and issue date index."""
    kept = rollup.open_by_due(
        currency=currency,
        collector_id=collector_id,
        unassigned=unassigned,
        per_collector=by == "collector",
    )
    ahead = (
        Invoice.objects.filter(
            status__in=OUTSTANDING,
            currency__in=sorted({row[0] for row in kept}),
            issue_date__gt=as_of,
        )
        .filter(collector_scope(collector_id, unassigned))
        .values_list("currency", "customer__collector_id", "due_date")
        .annotate(count=Count("*"), amount=Sum("open_balance"))
        .order_by()
    )
    totals: dict[tuple, list] = {}
    ahead = [(cur, who, due, -count, -amount) for cur, who, due, count, amount in ahead]
    for row_currency, who, due, count, amount in [*kept, *ahead]:
        key = (row_currency if by == "currency" else who, row_currency, due)
        total = totals.setdefault(key, [0, ZERO])
        total[0] += count
        total[1] += amount
    return [(*key, count, amount) for key, (count, amount) in totals.items() if count]


def _raw_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a values_list queryset straight from the cursor: a few thousand due
    dates, for which Django's per-value converters cost more than the rest of aging. The
    caller takes amounts as they come (_money) and dates as text (SQLite)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if rows and isinstance(rows[0][2], str):
        return [(*row[:2], dt.date.fromisoformat(row[2]), *row[3:]) for row in rows]
    return rows


@lru_cache(maxsize=32)
def _bucket_finder(buckets: tuple[Bucket, ...]):
    """days late -> bucket index by bisection: aging calls it for every due date."""
    if (
        buckets[0].low is not None
        or buckets[-1].high is not None
        or any(b.low != a.high + 1 for a, b in zip(buckets, buckets[1:], strict=False))
    ):
        raise ValueError("Buckets must run from no lower bound to no upper bound, without gaps.")
    highs = [bucket.high for bucket in buckets[:-1]]
    return lambda days_late: bisect_left(highs, days_late)


def _labels(by: str, keys: list) -> dict:
    if by == "customer":
        return {
            pk: customer.name
            for pk, customer in Customer.objects.only("name").in_bulk(keys).items()
        }
    if by == "collector":
        users = get_user_model().objects.in_bulk([key for key in keys if key is not None])
        labels = {pk: user.get_full_name() or user.get_username() for pk, user in users.items()}
        labels[None] = "Unassigned"
        return labels
    return {key: key for key in keys}


def _applied_by(as_of: dt.date):
    """Allocations applied to the outer invoice on or before as_of, summed; zero if none.

    SUM goes in as a plain function so that Django adds no GROUP BY to the subquery."""
    applied = (
        Allocation.objects.filter(invoice=OuterRef("pk"), applied_on__lte=as_of)
        .order_by()
        .annotate(total=Func(F("amount"), function="SUM"))
        .values("total")[:1]
    )
    return Coalesce(Subquery(applied, output_field=MONEY_OUTPUT), ZERO, output_field=MONEY_OUTPUT)


def aging_invoices(
    *,
    as_of: dt.date,
    today: dt.date,
    bucket: Bucket,
    currency: str = "",
    collector_id: int | None = None,
    unassigned: bool = False,
    customer_id: int | None = None,
) -> QuerySet[Invoice]:
    """The invoices open on as_of in one bucket, oldest due first, each annotated with
    balance_on and days_late; customer and collector come in the same query. Slice it or
    hand it to a Paginator. (On SQLite a computed balance_on may lack trailing zeros:
    100 rather than 100.00; it is the same Decimal and formats the same.)"""
    invoices = open_on(
        as_of=as_of,
        today=today,
        currency=currency,
        collector_id=collector_id,
        unassigned=unassigned,
    ).select_related("customer", "customer__collector")
    # Every invoice kept has something left on as_of (see open_on).
    invoices = invoices.filter(bucket.condition(as_of))
    if customer_id is not None:
        invoices = invoices.filter(customer_id=customer_id)
    return invoices.annotate(days_late=DaysLate(F("due_date"), as_of)).order_by(
        "due_date", "number"
    )
