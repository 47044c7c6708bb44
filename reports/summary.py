"""Monthly figures from stored closed months: a year of trends without reading the ledger
of a year.

A closed month's credit sales, AR and current AR change only when an invoice or an
allocation dated in or before it is written, and every such write forgets the stored months
from its own month on (reports.receivers); a customer moved to another collector forgets
both collectors' months. So the months before as_of's own are read from MonthSummary,
computed from the ledger (metrics.monthly_figures) the first time they are asked for; only
the month to date is read live, and its AR comes from the aging the dashboard has already
computed for the same currency and collector.

Races: filling takes a lock that every forgetting DELETE conflicts with, and reads the
ledger only once it holds it. A write that commits first is seen; one that commits later
deletes what the fill stored. When the lock is not granted quickly the figures are
computed without being stored."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import OperationalError, connection, transaction
from django.db.models import Min, QuerySet, Sum

from invoices.models import Invoice
from invoices.money import ZERO

from .aging import aging, buckets_for, collector_scope
from .metrics import (
    MonthFigures,
    figures_from,
    ledger_scope,
    month_end,
    month_ends,
    month_start,
    monthly_figures,
)
from .models import MonthSummary

LOCK_TIMEOUT = "3s"
NOTHING = (ZERO, ZERO, ZERO)  # a month before the scope's first invoice
UNASSIGNED = "unassigned"

# A stored month: (credit sales, AR at its end, current AR at its end).
Month = tuple[Decimal, Decimal, Decimal]


@dataclass(frozen=True)
class Scope:
    """One currency's ledger, whole or for one collector's customers or those without."""

    currency: str
    collector_id: int | None = None
    unassigned: bool = False

    @property
    def key(self) -> str:
        return scope_key(self.collector_id, self.unassigned)

    @property
    def filters(self) -> dict:
        return {"collector_id": self.collector_id, "unassigned": self.unassigned}

    def invoices(self) -> QuerySet[Invoice]:
        return Invoice.objects.filter(ledger_scope(self.currency, **self.filters))


def customers_of(collector_id: int | None) -> dict:
    """The Scope filters of a collector's customers; None: those without one."""
    return {"collector_id": collector_id, "unassigned": collector_id is None}


def scope_key(collector_id: int | None, unassigned: bool = False) -> str:
    """ "" for every customer, "collector:<id>", or "unassigned"."""
    if unassigned:
        return UNASSIGNED
    return "" if collector_id is None else f"collector:{collector_id}"


def forget(currencies=None, since: dt.date | None = None) -> int:
    """Drop the stored months of these currencies (None: all), in every scope, from since's
    month on (None: all months); returns how many. Runs inside the writer's transaction,
    after its write."""
    rows = MonthSummary.objects.all()
    if currencies is not None:
        rows = rows.filter(currency__in=list(currencies))
    if since is not None:
        rows = rows.filter(month__gte=month_start(since))
    return rows.delete()[0]


def forget_scopes(keys) -> int:
    """Drop every stored month of these scopes (customers moved between collectors)."""
    return MonthSummary.objects.filter(scope__in=list(keys)).delete()[0]


def _months(first: dt.date, before: dt.date) -> list[dt.date]:
    """First days of the months from first's month up to, not including, before's month."""
    months, month, stop = [], month_start(first), month_start(before)
    while month < stop:
        months.append(month)
        month = month_end(month) + dt.timedelta(days=1)
    return months


def _wanted(scope: Scope, before: dt.date) -> list[dt.date]:
    first = scope.invoices().aggregate(first=Min("issue_date"))["first"]
    return [] if first is None else _months(first, before)


def _stored(scope: Scope, before: dt.date) -> dict[dt.date, Month]:
    return _stored_many([scope], before).get(scope.currency, {})


def _stored_many(scopes: list[Scope], before: dt.date) -> dict[str, dict[dt.date, Month]]:
    """{currency: stored months before before's month} of scopes alike but for currency."""
    rows = MonthSummary.objects.filter(
        scope=scopes[0].key,
        currency__in=[scope.currency for scope in scopes],
        month__lt=month_start(before),
    )
    found: dict[str, dict[dt.date, Month]] = {}
    fields = ("currency", "month", "sales", "ar_close", "ar_current")
    for currency, month, *figures in rows.values_list(*fields):
        found.setdefault(currency, {})[month] = tuple(figures)
    return found


def _complete(stored: dict[dt.date, Month], before: dt.date) -> bool:
    # Months are only ever forgotten from one on (an invoice older than the first forgets
    # them all), so stored months running without a gap up to before's month are all.
    return bool(stored) and len(stored) == len(_months(min(stored), before))


def _compute(scope: Scope, months: list[dt.date]) -> dict[dt.date, Month]:
    """The ledger's figures for consecutive months, oldest first."""
    figures = monthly_figures(
        as_of=month_end(months[-1]), currency=scope.currency, months=len(months), **scope.filters
    )
    return {
        month: (f.credit_sales, f.ar_close, f.ar_current)
        for month, f in zip(months, figures, strict=True)
    }


def _fill(scope: Scope, before: dt.date) -> dict[dt.date, Month]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                table = connection.ops.quote_name(MonthSummary._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        # SQLite: the transaction is IMMEDIATE (settings), a lock on the whole database.
        wanted = _wanted(scope, before)
        stored = _stored(scope, before)
        missing = [month for month in wanted if month not in stored]
        if missing:
            computed = _compute(scope, wanted[wanted.index(missing[0]) :])
            MonthSummary.objects.bulk_create(
                [
                    MonthSummary(
                        scope=scope.key,
                        currency=scope.currency,
                        month=month,
                        sales=sales,
                        ar_close=ar,
                        ar_current=current,
                    )
                    for month, (sales, ar, current) in computed.items()
                    if month not in stored
                ],
                ignore_conflicts=True,
            )
            stored.update(computed)
        return stored


def closed_months(
    scope: Scope, before: dt.date, stored: dict[dt.date, Month] | None = None
) -> dict[dt.date, Month]:
    """Every month of the scope's ledger before `before`'s month, by first day: stored
    ones read (or given), missing ones computed and stored."""
    stored = _stored(scope, before) if stored is None else stored
    if _complete(stored, before):
        return stored
    wanted = _wanted(scope, before)
    if len(stored) == len(wanted):
        return stored
    try:
        return _fill(scope, before)
    except OperationalError:
        # Another transaction holds the table (a long import): answer without storing.
        missing = [month for month in wanted if month not in stored]
        stored.update(_compute(scope, wanted[wanted.index(missing[0]) :]))
        return stored


def _sales_to_date(scopes: list[Scope], as_of: dt.date) -> dict[str, Decimal]:
    """{currency: credit sales from as_of's month start to as_of} of scopes alike but for
    currency, in one query."""
    invoices = Invoice.objects.filter(
        collector_scope(**scopes[0].filters),
        currency__in=[scope.currency for scope in scopes],
        issue_date__gte=month_start(as_of),
        issue_date__lte=as_of,
    )
    rows = invoices.order_by().values_list("currency").annotate(sales=Sum("amount"))
    return dict(rows)


def trends(
    scopes: list[Scope],
    *,
    as_of: dt.date,
    today: dt.date,
    months: int = 12,
    ar: dict[str, tuple[Decimal, Decimal]] | None = None,
) -> dict[str, list[MonthFigures]]:
    """{currency: what metrics.monthly_figures answers for its scope}, from stored months.
    The scopes differ only by currency; `ar` gives each currency's (AR, current AR) on
    as_of when the caller has the aging of the same scope."""
    if as_of > today:
        # Months after today's are open still: the ledger answers for them.
        return {
            scope.currency: monthly_figures(
                as_of=as_of, currency=scope.currency, months=months, **scope.filters
            )
            for scope in scopes
        }
    stored_all = _stored_many(scopes, as_of)
    sales_to_date = _sales_to_date(scopes, as_of)
    ends = month_ends(as_of, months + 1)  # with the month before the first shown
    found = {}
    for scope in scopes:
        stored = closed_months(scope, as_of, stored_all.get(scope.currency, {}))
        sales_by_month = {month: row[0] for month, row in stored.items()}
        sales_by_month[month_start(as_of)] = sales_to_date.get(scope.currency) or ZERO
        given = (ar or {}).get(scope.currency)
        if given is None:
            rows = aging(
                as_of=as_of,
                today=today,
                buckets=buckets_for(),
                currency=scope.currency,
                **scope.filters,
            )
            given = (rows[0].total, rows[0].amounts[0]) if rows else (ZERO, ZERO)
        closes = [(end, *stored.get(month_start(end), NOTHING)) for end in ends[1:-1]]
        closes.append((as_of, sales_by_month[month_start(as_of)], *given))
        before = stored.get(month_start(ends[0]))
        found[scope.currency] = figures_from(
            closes,
            currency=scope.currency,
            ar_open=before[1] if before else ZERO,
            sales_by_month={m: v for m, v in sales_by_month.items() if v},
        )
    return found


def trend(scope: Scope, *, as_of: dt.date, today: dt.date, months: int = 12, ar=None):
    """One scope's trends(); ar is its (AR, current AR) on as_of, if known."""
    given = {scope.currency: ar} if ar is not None else None
    return trends([scope], as_of=as_of, today=today, months=months, ar=given)[scope.currency]
