"""What the manager's dashboard shows, gathered once for the page and its PDF: headline
figures, aging as of the chosen date, a year of monthly metrics per currency, activity over
a period and what needs attention. Each part is read by its own module; this one only puts
them together (the headline from figures the other parts already hold). Also who the
collector filter offers."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from invoices.money import ZERO

from . import attention, metrics, summary
from .aging import AgingRow, Bucket, aging, buckets_for
from .cache import cached_many
from .charts import bar_chart, line_chart, line_chart_svg

# Colours from current to oldest; every bucket past the fourth edge takes the last.
BUCKET_CLASSES = ("bar-current", "bar-1", "bar-2", "bar-3", "bar-4")
DETAIL_ROWS = 50  # customers or collectors listed under the aging by currency
TREND_CURRENCIES = 3  # a year of figures for at most this many currencies on one page


@dataclass(frozen=True)
class Headline:
    """One currency's figures at the top of the dashboard, on the board's date."""

    currency: str
    receivable: Decimal  # the open balance
    overdue: Decimal  # the part of it past due
    overdue_share: Decimal | None  # overdue as a percentage of the open balance
    dso: Decimal | None  # countback DSO; None where no trend was worked out
    collected: Decimal  # payments applied from the first of the month to the board's date


@dataclass
class Dashboard:
    as_of: dt.date
    today: dt.date
    filters: dict
    buckets: list[Bucket]
    aging: list[AgingRow]  # by currency
    charts: list[dict] = field(default_factory=list)  # one bar chart per currency
    detail: list[AgingRow] = field(default_factory=list)  # by customer or collector
    trends: list[dict] = field(default_factory=list)  # per currency: months, charts
    activity: dict = field(default_factory=dict)
    attention: dict = field(default_factory=dict)
    headline: list[Headline] = field(default_factory=list)
    computed_at: dict = field(default_factory=dict)  # part name: when a kept part was computed

    @property
    def period_start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=self.filters["period"] - 1)

    @property
    def month_start(self) -> dt.date:
        return metrics.month_start(self.as_of)

    @property
    def without_trend(self) -> list[str]:
        """Headline currencies whose trends (and so DSO now) were not worked out."""
        shown = {trend["currency"] for trend in self.trends}
        return [h.currency for h in self.headline if h.currency not in shown]


def _scope(filters: dict) -> dict:
    return {
        "currency": filters["currency"],
        "collector_id": filters["collector_id"],
        "unassigned": filters["unassigned"],
    }


def aging_part(filters: dict, *, today: dt.date) -> Dashboard:
    """Aging alone: what the aging exports need."""
    buckets = buckets_for(filters["edges"])
    rows = aging(as_of=filters["as_of"], today=today, buckets=buckets, **_scope(filters))
    board = Dashboard(
        as_of=filters["as_of"], today=today, filters=filters, buckets=buckets, aging=rows
    )
    labels = [bucket.label for bucket in buckets]
    last = len(BUCKET_CLASSES) - 1
    classes = [BUCKET_CLASSES[min(index, last)] for index in range(len(buckets))]
    for row in rows:
        chart = bar_chart(labels, row.amounts, css_classes=classes)
        cells = list(zip(row.amounts, row.counts, buckets, strict=True))
        board.charts.append({"row": row, "geometry": chart, "bars": chart.bars, "cells": cells})
    if filters["by"] != "currency":
        board.detail = aging(
            as_of=filters["as_of"],
            today=today,
            buckets=buckets,
            by=filters["by"],
            limit=DETAIL_ROWS,
            **_scope(filters),
        )
    return board


def trends_part(board: Dashboard) -> None:
    """A year of monthly figures per currency, with their charts."""
    currencies = [board.filters["currency"]] if board.filters["currency"] else []
    currencies = currencies or [row.currency for row in board.aging][:TREND_CURRENCIES]
    # The aging rows are for the same collector choice: each currency's AR and current AR
    # on as_of (no row: nothing open).
    by_currency = {row.currency: row for row in board.aging}
    ar = {
        currency: (row.total, row.amounts[0])
        if (row := by_currency.get(currency))
        else (ZERO, ZERO)
        for currency in currencies
    }
    scopes = [
        summary.Scope(
            currency,
            collector_id=board.filters["collector_id"],
            unassigned=board.filters["unassigned"],
        )
        for currency in currencies
    ]
    found = summary.trends(scopes, as_of=board.as_of, today=board.today, ar=ar) if scopes else {}
    for currency in currencies:
        months = found[currency]
        labels = [f"{m.month_end:%b}" for m in months]
        # Only the last month can be short of whole: the month to date.
        partial = len(months) - 1 if months and months[-1].partial else None
        days = line_chart(
            labels,
            {
                "DSO": ("line-1", [m.dso for m in months]),
                "Countback DSO": ("line-2", [m.countback_dso for m in months]),
                "Best possible DSO": ("line-3", [m.best_dso for m in months]),
                "ADD": ("line-4", [m.add for m in months]),
            },
            partial=partial,
        )
        cei = line_chart(labels, {"CEI": ("line-1", [m.cei for m in months])}, partial=partial)
        board.trends.append(
            {
                "currency": currency,
                "months": months,
                "partial": months[partial] if partial is not None else None,
                "days_svg": line_chart_svg(
                    days, "Line chart of DSO, countback DSO, best possible DSO and ADD by month"
                ),
                "cei_svg": line_chart_svg(cei, "Line chart of CEI by month"),
            }
        )


def headline_part(board: Dashboard, kept: dict) -> None:
    """Per currency: the open balance and the part overdue (from the aging), the countback
    DSO on as_of (from the trend's month to date: robust in a month a few days old, where
    the standard DSO has almost no sales to divide by) and what was collected in the month
    to date, for the chosen collector and currency. Reads nothing more."""
    filters = board.filters
    by_collector = kept["collected"]
    if filters["unassigned"]:
        chosen = [by_collector.get(None, {})]
    elif filters["collector_id"] is not None:
        chosen = [by_collector.get(filters["collector_id"], {})]
    else:
        chosen = list(by_collector.values())
    collected: dict[str, Decimal] = {}
    for amounts in chosen:
        for currency, amount in amounts.items():
            if not filters["currency"] or currency == filters["currency"]:
                collected[currency] = collected.get(currency, ZERO) + amount
    rows = {row.currency: row for row in board.aging}
    dso = {trend["currency"]: trend["months"][-1].countback_dso for trend in board.trends}
    for currency in sorted(set(rows) | set(collected)):
        row = rows.get(currency)
        receivable = row.total if row else ZERO
        overdue = receivable - row.amounts[0] if row else ZERO
        board.headline.append(
            Headline(
                currency=currency,
                receivable=receivable,
                overdue=overdue,
                overdue_share=metrics.share(overdue, receivable),
                dso=dso.get(currency),
                collected=collected.get(currency, ZERO),
            )
        )


def collector_rows(collectors: list[dict]) -> list[dict]:
    """The per-collector results with their amounts one currency a line: {**result,
    "lines": [(currency, overdue or None, collected or None)]}, at least one line each."""
    rows = []
    for result in collectors:
        currencies = sorted(set(result["overdue"]) | set(result["collected"]))
        lines = [
            (currency, result["overdue"].get(currency), result["collected"].get(currency))
            for currency in currencies
        ]
        rows.append({**result, "lines": lines or [("", None, None)]})
    return rows


def activity_part(board: Dashboard, kept: dict) -> None:
    start, end = board.period_start, board.as_of
    board.activity = {
        "promises": metrics.promise_kept_rate(
            start=start, end=end, collector_id=board.filters["collector_id"]
        ),
        **kept["activity"],
        "collectors": collector_rows(kept["activity"]["collectors"]),
    }


def attention_part(board: Dashboard, kept: dict) -> None:
    board.attention = {
        "referrals": attention.referrals_pending(),
        "write_offs": attention.write_offs_pending(),
        "broken_promises": attention.broken_promises(board.as_of),
        "limitation": kept["limitation"],
        "systemic": kept["systemic"],
    }


# Figures over a period and alerts that need no action today are kept a few minutes
# (reports.cache); what a manager acts on (referrals, write-offs, broken promises) is live.


def kept_parts(start: dt.date, as_of: dt.date) -> dict[str, Callable[[], object]]:
    """The kept parts of a dashboard: {cache key: how to compute it}. The period's and the
    month's collections are summed from one reading of the allocations of both, made the
    first time either part needs it."""
    month = metrics.month_start(as_of)

    @cache
    def by_day() -> list[dict]:
        return metrics.collected_by_day(start=min(start, month), end=as_of)

    def collected(since: dt.date) -> dict:
        return metrics.collected_in(by_day(), start=since, end=as_of)

    return {
        f"activity:{start}:{as_of}": lambda: {
            # The same whichever collector is chosen.
            "disputes": metrics.disputes_by_reason(start=start, end=as_of),
            "steps": metrics.step_effectiveness(start=start, end=as_of),
            "collectors": metrics.collector_results(
                start=start, end=as_of, collected=collected(start)
            ),
            "checks": metrics.satisfaction_checks(start=start, end=as_of),
        },
        f"limitation:{as_of}": lambda: attention.limitation_ahead(as_of),
        f"systemic:{as_of}": lambda: attention.systemic_alerts(as_of),
        # A month of allocations joined to their invoices: too slow to read on every page.
        f"collected:{month}:{as_of}": lambda: collected(month),
    }


def kept_part(board: Dashboard) -> dict:
    """{"activity" | "limitation" | "systemic" | "collected": value}, noting when each was
    computed."""
    found = cached_many(kept_parts(board.period_start, board.as_of))
    kept = {}
    for key, (value, computed_at) in found.items():
        name = key.split(":")[0]
        kept[name], board.computed_at[name] = value, computed_at
    return kept


def dashboard(filters: dict, *, today: dt.date) -> Dashboard:
    board = aging_part(filters, today=today)
    trends_part(board)
    kept = kept_part(board)
    headline_part(board, kept)
    activity_part(board, kept)
    attention_part(board, kept)
    return board


def bucket_totals(board: Dashboard, bucket: Bucket) -> list[tuple[str, Decimal, int]]:
    """(currency, balance, invoices) of one bucket, per currency, from the board's aging:
    the same figures as the dashboard cell the drill-down was opened from."""
    index = board.buckets.index(bucket)
    return [
        (row.currency, row.amounts[index], row.counts[index])
        for row in board.aging
        if row.counts[index]
    ]
