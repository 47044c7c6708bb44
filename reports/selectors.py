"""What the manager's dashboard shows, gathered once for the page and its PDF: aging as of
the chosen date, a year of monthly metrics per currency, activity over a period and what
needs attention. Each part is read by its own module; this one only puts them together."""

import datetime as dt
from dataclasses import dataclass, field

from . import attention, metrics
from .aging import AgingRow, Bucket, aging, buckets_for
from .charts import bar_chart, line_chart

BUCKET_CLASSES = ("bar-current", "bar-1", "bar-2", "bar-3", "bar-4", "bar-5", "bar-6")
DETAIL_ROWS = 50  # customers or collectors listed under the aging by currency
TREND_CURRENCIES = 3  # a year of figures for at most this many currencies on one page


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

    @property
    def period_start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=self.filters["period"] - 1)


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
    for row in rows:
        chart = bar_chart(labels, row.amounts, css_classes=BUCKET_CLASSES[: len(buckets)])
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
    for currency in currencies:
        months = metrics.monthly_figures(
            as_of=board.as_of, currency=currency, collector_id=board.filters["collector_id"]
        )
        labels = [f"{m.month_end:%b}" for m in months]
        days = line_chart(
            labels,
            {
                "DSO": ("line-1", [m.dso for m in months]),
                "Countback DSO": ("line-2", [m.countback_dso for m in months]),
                "Best possible DSO": ("line-3", [m.best_dso for m in months]),
                "ADD": ("line-4", [m.add for m in months]),
            },
        )
        cei = line_chart(labels, {"CEI": ("line-1", [m.cei for m in months])})
        board.trends.append({"currency": currency, "months": months, "days": days, "cei": cei})


def activity_part(board: Dashboard) -> None:
    start, end = board.period_start, board.as_of
    collector_id = board.filters["collector_id"]
    board.activity = {
        "promises": metrics.promise_kept_rate(start=start, end=end, collector_id=collector_id),
        "disputes": metrics.disputes_by_reason(start=start, end=end),
        "steps": metrics.step_effectiveness(start=start, end=end),
        "collectors": metrics.collector_results(start=start, end=end),
    }


def attention_part(board: Dashboard) -> None:
    board.attention = {
        "referrals": attention.referrals_pending(),
        "write_offs": attention.write_offs_pending(),
        "broken_promises": attention.broken_promises(board.as_of),
        "limitation": attention.limitation_ahead(board.as_of),
        "systemic": attention.systemic_alerts(board.as_of),
    }


def dashboard(filters: dict, *, today: dt.date) -> Dashboard:
    board = aging_part(filters, today=today)
    trends_part(board)
    activity_part(board)
    attention_part(board)
    return board
