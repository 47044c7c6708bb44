"""Aging and metrics as CSV (amounts as plain decimals, for spreadsheets; names that would
run as formulas neutralised by invoices.safe_csv) and as PDF (the dashboard's own tables and
SVG charts, laid out for print by WeasyPrint)."""

import datetime as dt
import io
from collections.abc import Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string

from invoices import safe_csv
from letters.pdf import render_pdf

from .selectors import aging_part, trends_part

REPORTS = ("aging", "metrics")
AGING_INVOICES = "aging-invoices"  # one bucket's invoices, as the drill-down lists them


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
            "month_to_date",
        ]
    ]
    for trend in board.trends:
        for m in trend["months"]:
            rows.append(
                [m.month_end.isoformat(), m.currency, m.credit_sales, m.ar_open, m.ar_close]
                + [m.ar_current]
                + ["" if v is None else v for v in (m.dso, m.countback_dso, m.best_dso)]
                + ["" if v is None else v for v in (m.add, m.cei)]
                + ["yes" if m.partial else "no"]
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


CHUNK_ROWS = 2000
AGING_INVOICE_HEAD = [
    "as_of",
    "bucket",
    "invoice",
    "customer",
    "customer_external_id",
    "collector",
    "issue_date",
    "due_date",
    "days_late",
    "currency",
    "balance_then",
    "amount",
]


class _Echo:
    """A file that hands back what is written to it, so each CSV line can be streamed."""

    def write(self, value: str) -> str:
        return value


# Plain rows, not models: building an invoice, its customer and their collector for each
# of a few hundred thousand lines takes several times longer than the query.
AGING_INVOICE_FIELDS = (
    "number",
    "customer__name",
    "customer__external_id",
    "customer__collector__first_name",
    "customer__collector__last_name",
    "customer__collector__username",
    "issue_date",
    "due_date",
    "days_late",
    "currency",
    "balance_on",
    "amount",
)


def aging_invoice_lines(as_of: dt.date, bucket, invoices) -> Iterator[str]:
    """The CSV in chunks of CHUNK_ROWS lines: one write to the client per chunk, not per
    line."""
    writer = safe_csv.writer(_Echo())
    lines = [writer.writerow(AGING_INVOICE_HEAD)]
    day = as_of.isoformat()
    rows = invoices.values_list(*AGING_INVOICE_FIELDS).iterator(chunk_size=CHUNK_ROWS)
    for number, name, external_id, first, last, username, issued, due, *rest in rows:
        # The collector's name as owner_name gives it: full name, else username.
        collector = " ".join(filter(None, (first, last))) or username or ""
        lines.append(
            writer.writerow(
                [day, bucket.key, number, name, external_id, collector]
                + [issued.isoformat(), due.isoformat(), *rest]
            )
        )
        if len(lines) >= CHUNK_ROWS:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def aging_invoices_filename(filters: dict, bucket) -> str:
    scope = "-".join(filter(None, [bucket.key, filters["currency"], filters["as_of"].isoformat()]))
    return f"aging-invoices-{scope}.csv"


def aging_invoices_csv(filters: dict, bucket, invoices) -> StreamingHttpResponse:
    """Every invoice of one aging bucket (reports.aging.aging_invoices), one a line,
    streamed (in the request up to export_tasks.WORKER_ROWS lines; the worker writes more)."""
    response = StreamingHttpResponse(
        aging_invoice_lines(filters["as_of"], bucket, invoices),
        content_type="text/csv; charset=utf-8",
    )
    filename = aging_invoices_filename(filters, bucket)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
