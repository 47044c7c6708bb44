"""Monthly figures from stored closed months: a year of trends without reading the ledger
of a year.

A closed month's credit sales, AR and current AR change only when an invoice or an
allocation dated in or before it is written, and every such write forgets the stored months
from its own month on (reports.receivers). So the months before as_of's own are read from
MonthSummary, computed from the ledger (metrics.monthly_figures) the first time they are
asked for; only the month to date is read live, and its AR comes from the aging the
dashboard has already computed.

Races: filling takes a lock that every forgetting DELETE conflicts with, and reads the
ledger only once it holds it. A write that commits first is seen; one that commits later
deletes what the fill stored. When the lock is not granted quickly the figures are
computed without being stored."""

import datetime as dt
from decimal import Decimal

from django.db import OperationalError, connection, transaction
from django.db.models import Min, Sum

from invoices.models import Invoice
from invoices.money import ZERO

from .aging import aging, buckets_for
from .metrics import MonthFigures, figures_from, month_ends, month_start, monthly_figures
from .models import MonthSummary

LOCK_TIMEOUT = "3s"
NOTHING = (ZERO, ZERO, ZERO)  # a month before the currency's first invoice


def forget(currencies=None, since: dt.date | None = None) -> None:
    """Drop the stored months of these currencies (None: all) from since's month on (None:
    all months). Runs inside the writer's transaction, after its write."""
    rows = MonthSummary.objects.all()
    if currencies is not None:
        rows = rows.filter(currency__in=list(currencies))
    if since is not None:
        rows = rows.filter(month__gte=month_start(since))
    rows.delete()


def _months(first: dt.date, before: dt.date) -> list[dt.date]:
    """First days of the months from first's month up to, not including, before's month."""
    months, month, stop = [], month_start(first), month_start(before)
    while month < stop:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _month_end(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


# A stored month: (credit sales, AR at its end, current AR at its end).
Month = tuple[Decimal, Decimal, Decimal]


def _wanted(currency: str, before: dt.date) -> list[dt.date]:
    first = Invoice.objects.filter(currency=currency).aggregate(first=Min("issue_date"))["first"]
    return [] if first is None else _months(first, before)


def _stored(currency: str, before: dt.date) -> dict[dt.date, Month]:
    rows = MonthSummary.objects.filter(currency=currency, month__lt=month_start(before))
    fields = ("month", "sales", "ar_close", "ar_current")
    return {month: tuple(figures) for month, *figures in rows.values_list(*fields)}


def _compute(currency: str, months: list[dt.date]) -> dict[dt.date, Month]:
    """The ledger's figures for consecutive months, oldest first."""
    figures = monthly_figures(as_of=_month_end(months[-1]), currency=currency, months=len(months))
    return {
        month: (f.credit_sales, f.ar_close, f.ar_current)
        for month, f in zip(months, figures, strict=True)
    }


def _fill(currency: str, before: dt.date) -> dict[dt.date, Month]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                table = connection.ops.quote_name(MonthSummary._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        # SQLite: the transaction is IMMEDIATE (settings), a lock on the whole database.
        wanted = _wanted(currency, before)
        stored = _stored(currency, before)
        missing = [month for month in wanted if month not in stored]
        if missing:
            computed = _compute(currency, wanted[wanted.index(missing[0]) :])
            MonthSummary.objects.bulk_create(
                [
                    MonthSummary(
                        currency=currency, month=month, sales=s, ar_close=ar, ar_current=current
                    )
                    for month, (s, ar, current) in computed.items()
                    if month not in stored
                ],
                ignore_conflicts=True,
            )
            stored.update(computed)
        return stored


def closed_months(currency: str, before: dt.date) -> dict[dt.date, Month]:
    """Every month of the currency's ledger before `before`'s month, by first day: stored
    ones read, missing ones computed and stored.

    Months are only ever forgotten from one on (an invoice older than the first forgets
    them all), so stored months running without a gap up to before's month are complete."""
    stored = _stored(currency, before)
    if stored and len(stored) == len(_months(min(stored), before)):
        return stored
    wanted = _wanted(currency, before)
    if len(stored) == len(wanted):
        return stored
    try:
        return _fill(currency, before)
    except OperationalError:
        # Another transaction holds the table (a long import): answer without storing.
        missing = [month for month in wanted if month not in stored]
        stored.update(_compute(currency, wanted[wanted.index(missing[0]) :]))
        return stored


def month_to_date(
    *, as_of: dt.date, currency: str, today: dt.date, ar: tuple[Decimal, Decimal] | None = None
) -> tuple[Decimal, Decimal, Decimal]:
    """(credit sales, AR, current AR) of as_of's month up to as_of. `ar` is (AR, current
    AR) on as_of when the caller has the currency's aging already."""
    sales = Invoice.objects.filter(
        currency=currency, issue_date__gte=month_start(as_of), issue_date__lte=as_of
    ).aggregate(sales=Sum("amount"))["sales"]
    if ar is None:
        rows = aging(as_of=as_of, today=today, buckets=buckets_for(), currency=currency)
        ar = (rows[0].total, rows[0].amounts[0]) if rows else (ZERO, ZERO)
    return sales or ZERO, ar[0], ar[1]


def trend(
    *,
    as_of: dt.date,
    currency: str,
    today: dt.date,
    months: int = 12,
    ar: tuple[Decimal, Decimal] | None = None,
) -> list[MonthFigures]:
    """What metrics.monthly_figures answers for the whole currency, from stored months."""
    if as_of > today:
        # Months after today's are open still: the ledger answers for them.
        return monthly_figures(as_of=as_of, currency=currency, months=months)
    stored = closed_months(currency, as_of)
    sales_by_month = {month: row[0] for month, row in stored.items()}
    closes = [
        (end, *stored.get(month_start(end), NOTHING)) for end in month_ends(as_of, months)[:-1]
    ]
    mtd = month_to_date(as_of=as_of, currency=currency, today=today, ar=ar)
    sales_by_month[month_start(as_of)] = mtd[0]
    closes.append((as_of, *mtd))
    before = stored.get(month_start(month_ends(as_of, months + 1)[0]))
    return figures_from(
        closes,
        currency=currency,
        ar_open=before[1] if before else ZERO,
        sales_by_month={m: v for m, v in sales_by_month.items() if v},
    )
