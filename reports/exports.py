"""Aging and metrics as CSV (amounts as plain decimals, for spreadsheets; names that would
run as formulas neutralised by invoices.safe_csv) and as PDF (the dashboard's own tables and
SVG charts, laid out for print by WeasyPrint)."""

import datetime as dt
import io

from django.http import HttpResponse
from django.template.loader import render_to_string

from invoices import safe_csv
from letters.pdf import render_pdf

from .selectors import aging_part, trends_part

REPORTS = ("aging", "metrics")


def _aging_rows(board) -> list[list]:
    labels = [bucket.key for bucket in board.buckets]
    head = ["as_of", "group", "currency"]
    head += [f"{label} amount" for label in labels] + [f"{label} count" for label in labels]
    rows = [head + ["total", "count"]]
    for row in board.detail or board.aging:
        rows.append(
            [board.as_of.isoformat(), row.label, row.currency]
            + list(row.amounts)
            + list(row.counts)
            + [row.total, row.count]
        )
    return rows


def _metrics_rows(board) -> list[list]:
    rows = [
        [
            "month_end",
            "currency",
            "credit_sales",
            "ar_open",
            "ar_close",
            "ar_current",
            "dso",
            "countback_dso",
            "best_possible_dso",
            "add",
            "cei",
        ]
    ]
    for trend in board.trends:
        for m in trend["months"]:
            rows.append(
                [m.month_end.isoformat(), m.currency, m.credit_sales, m.ar_open, m.ar_close]
                + [m.ar_current]
                + ["" if v is None else v for v in (m.dso, m.countback_dso, m.best_dso)]
                + ["" if v is None else v for v in (m.add, m.cei)]
            )
    return rows


def _csv(rows: list[list], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    safe_csv.writer(buffer).writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _pdf(report: str, board, filename: str) -> HttpResponse:
    html = render_to_string("reports/print.html", {"board": board, "report": report})
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def respond(report: str, fmt: str, filters: dict, *, today: dt.date) -> HttpResponse:
    board = aging_part(filters, today=today)
    if report == "metrics":
        trends_part(board)
    scope = "-".join(filter(None, [filters["currency"], board.as_of.isoformat()]))
    filename = f"{report}-{scope}.{fmt}"
    if fmt == "pdf":
        return _pdf(report, board, filename)
    rows = _aging_rows(board) if report == "aging" else _metrics_rows(board)
    return _csv(rows, filename)
