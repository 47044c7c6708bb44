"""Bulk writes: up to MAX_ROWS customers, invoices or payments in one call, all or nothing.

The rows go through the CSV import (invoices.importing.import_run), not a second upsert: the
same checks, the same set-based apply, the same line-numbered errors and one import batch
with its audit event naming the token. The posted list is written as an in-memory CSV; an
error's CSV line is mapped back to the row's place in the list (line 1 = the first row).
The same request twice changes nothing: rows are keyed by external id, number or payment.
With an Idempotency-Key a retry gets the first answer back and imports nothing (no second
batch); the answer stored is the summary, or the refusal listing the bad rows."""

import csv
import io
import re
from functools import partial

from django.db import transaction
from django_q.tasks import async_task
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from dunning.queue import queue_refresh
from invoices.importing import ImportRejected, import_run
from invoices.importing.columns import schema_for
from invoices.models import Customer, ImportKind, Invoice

from . import idempotency
from .models import ApiToken
from .serializers import ErrorSerializer
from .views import IDEMPOTENCY_KEY

MAX_ROWS = 10_000
# Which column of each kind names the customer, for the queue refresh afterwards.
CUSTOMER_COLUMN = {
    ImportKind.CUSTOMERS: "external_id",
    ImportKind.INVOICES: "customer_external_id",
    ImportKind.PAYMENTS: "customer_external_id",
}
# Up to this many customers touched, the queue is refreshed in the call itself.
REFRESH_NOW_MAX = 200
REFRESH_CHUNK = 1_000
REFRESH_FUNC = "api.bulk.queue_refresh_task"
ERROR_LINE = re.compile(r"^line (\d+): (.*)$", re.DOTALL)


class BulkRejected(Exception):
    def __init__(self, details: list[dict]):
        super().__init__(f"{len(details)} problem(s)")
        self.details = details


def _as_csv(kind: str, rows: list) -> tuple[io.BytesIO, dict[int, int]]:
    """The rows as a CSV file, and the CSV line each row starts on -> its 1-based place.

    Rows that are not objects of known text fields are refused here, each by its place."""
    schema = schema_for(kind)
    known = set(schema.columns)
    # Only the optional columns some row sends, as a file would have them: a file without a
    # currency column gives each invoice its customer's currency.
    sent = {name for row in rows if isinstance(row, dict) for name in row}
    columns = [column for column in schema.columns if column in schema.required or column in sent]
    problems = []
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(columns)
    line, lines = 2, {}
    for place, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not row:
            problems.append(
                {"line": place, "field": "non_field_errors", "message": "Send an object of fields."}
            )
            continue
        unknown = sorted(set(row) - known)
        if unknown:
            problems.append(
                {
                    "line": place,
                    "field": unknown[0],
                    "message": f"Unknown field(s) {', '.join(unknown)}; "
                    f"known: {', '.join(schema.columns)}.",
                }
            )
            continue
        values = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, (dict, list, float)):
                # Money travels as a string ("12.50"), never a float that may round.
                problems.append(
                    {
                        "line": place,
                        "field": column,
                        "message": "Send a string (or a whole number).",
                    }
                )
            values.append("" if value is None else str(value))
        out.writerow(values)
        lines[line] = place
        # The reader counts physical lines: a quoted newline inside a value adds one.
        line += 1 + sum(value.count("\n") for value in values)
    if problems:
        raise BulkRejected(problems)
    return io.BytesIO(text.getvalue().encode("utf-8")), lines


def _details(errors: list[str], lines: dict[int, int]) -> list[dict]:
    details = []
    for error in errors:
        match = ERROR_LINE.match(error)
        if match and int(match.group(1)) in lines:
            details.append(
                {
                    "line": lines[int(match.group(1))],
                    "field": "non_field_errors",
                    "message": match.group(2),
                }
            )
        else:
            details.append({"field": "non_field_errors", "message": error})
    return details


def queue_refresh_task(external_ids: list[str]) -> None:
    """The worker's half of a big call's queue refresh."""
    queue_refresh(customer_ids=_customer_ids(external_ids))


def _customer_ids(external_ids) -> list[int]:
    return list(Customer.objects.filter(external_id__in=external_ids).values_list("pk", flat=True))


def _refresh(external_ids: list[str]) -> None:
    """Refresh the queue rows of these customers: at once for a few, as the single writes do;
    for many, in the worker once the call commits, so the call is not held up by re-planning
    (about 2 ms a customer: 20 s for 10,000 on the scale set). The import itself leaves the
    queue to the next dunning run; this is sooner."""
    if len(external_ids) <= REFRESH_NOW_MAX:
        if ids := _customer_ids(external_ids):
            queue_refresh(customer_ids=ids)
        return
    for first in range(0, len(external_ids), REFRESH_CHUNK):
        chunk = external_ids[first : first + REFRESH_CHUNK]
        transaction.on_commit(
            partial(async_task, REFRESH_FUNC, chunk, task_name="API bulk queue refresh"),
            robust=True,  # a broker that is down must not fail a call that has committed
        )


def _values(rows: list, column: str) -> set[str]:
    return {str(row[column]) for row in rows if row.get(column) not in (None, "")}


def _customers_named(kind: str, rows: list) -> set[str]:
    """The external ids of the customers these rows touch; a payment names its invoice."""
    named = _values(rows, CUSTOMER_COLUMN[ImportKind(kind)])
    if kind == ImportKind.PAYMENTS:
        numbers = _values(rows, "invoice_number")
        named |= set(
            Invoice.objects.filter(number__in=numbers).values_list(
                "customer__external_id", flat=True
            )
        )
    return named


@transaction.atomic
def api_bulk_upsert(*, token: ApiToken, kind: str, rows: list) -> dict:
    """Import these rows as the CSV import would, all or nothing; then refresh the queue of
    the customers they name if anything changed. Raises BulkRejected listing every bad row."""
    file, lines = _as_csv(kind, rows)
    try:
        result = import_run(
            kind=kind,
            file=file,
            filename=f"api-bulk-{kind}.json",
            label=token.label,
            source="api",
        )
    except ImportRejected as exc:
        raise BulkRejected(_details(exc.errors, lines)) from exc
    if result.created or result.updated:
        _refresh(sorted(_customers_named(kind, rows)))
    return {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "batch_id": result.batch.pk if result.batch else None,
    }


BulkResultSerializer = inline_serializer(
    "BulkResult",
    {
        "rows": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "batch_id": serializers.IntegerField(allow_null=True),
    },
)
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 422, 429)}


def _row_serializer(kind: str):
    schema = schema_for(kind)
    fields = {column: serializers.CharField() for column in schema.required}
    fields |= {column: serializers.CharField(required=False) for column in schema.optional}
    return inline_serializer(f"Bulk{kind.title()}Row", fields, many=True)


class BulkView(APIView):
    """POST a JSON list of rows (the import's columns as fields, values as strings)."""

    kind: str = ""

    def post(self, request):
        return idempotency.once(request, lambda: self._import(request))

    def _import(self, request):
        rows = request.data
        if not isinstance(rows, list) or not rows:
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON list of rows."]})
        if len(rows) > MAX_ROWS:
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        f"Send at most {MAX_ROWS:,} rows per call, not {len(rows):,}."
                    ]
                }
            )
        try:
            summary = api_bulk_upsert(token=request.auth, kind=self.kind, rows=rows)
        except BulkRejected as exc:
            body = {
                "error": {
                    "code": "invalid",
                    "message": f"{len(exc.details)} problem(s); nothing was written.",
                    "details": exc.details,
                }
            }
            # An unknown field is named as sent: a lone surrogate in it cannot be encoded.
            return Response(idempotency.storable(body), status=400)
        return Response(summary)


def _bulk_view(kind: str, noun: str):
    @extend_schema(
        request=_row_serializer(kind),
        parameters=[IDEMPOTENCY_KEY],
        responses={200: BulkResultSerializer, **ERRORS},
        summary=f"Create or change up to {MAX_ROWS:,} {noun} at once, all or nothing",
    )
    def post(self, request):
        return BulkView.post(self, request)

    return type(f"Bulk{kind.title()}View", (BulkView,), {"kind": kind, "post": post})


BulkCustomersView = _bulk_view(ImportKind.CUSTOMERS, "customers")
BulkInvoicesView = _bulk_view(ImportKind.INVOICES, "invoices")
BulkPaymentsView = _bulk_view(ImportKind.PAYMENTS, "payments")
