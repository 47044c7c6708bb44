"""Running an import: validate every row, then apply all of it or nothing."""

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.services import Event, audit_record_many
from invoices.models import ImportBatch, ImportKind

from .columns import ISO_DATE, HeaderError, check_date_format, resolve_header, schema_for
from .customers import CustomerImport
from .invoices import InvoiceImport
from .payments import PaymentImport
from .reader import CsvSource, DateParser, RowError

KINDS = {
    ImportKind.CUSTOMERS: CustomerImport(),
    ImportKind.INVOICES: InvoiceImport(),
    ImportKind.PAYMENTS: PaymentImport(),
}
PREVIEW_ROWS = 20
# A table the import wrote more rows into than this is analysed once the import commits.
ANALYZE_AFTER_ROWS = 10_000


class ImportRejected(Exception):
    """The file cannot be imported; errors are 'line N: reason', every bad row listed."""

    def __init__(self, errors: list[str], ignored: list[str] | None = None):
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = errors
        self.ignored = ignored or []


@dataclass
class ImportResult:
    kind: str
    filename: str
    sha256: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    # How the file was read, for the summary (e.g. a currency taken from each customer).
    notes: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    batch: ImportBatch | None = None
    dry_run: bool = False


def import_run(
    *,
    kind: str,
    file: BinaryIO,
    filename: str,
    actor=None,
    label: str | None = None,
    mapping: dict[str, str] | None = None,
    date_format: str = ISO_DATE,
    source: str = "",
    dry_run: bool = False,
) -> ImportResult:
    """Import one CSV file of customers, invoices or payments, all or nothing.

    1. Stream the file: decode each line, check each row on its own, stage the good rows.
    2. Check the staged rows against the ledger in SQL (unknown customers, conflicts,
       the same key twice with different data).
    3. Any bad row: roll back and raise ImportRejected listing every one by line number.
    4. Count what will be created, updated and left unchanged.
    5. Unless dry_run: record an ImportBatch, apply everything set-based, write one audit
       event per changed record and payment plus one for the batch, and commit.
    """
    schema = schema_for(kind)
    handler = KINDS[ImportKind(kind)]
    try:
        check_date_format(date_format)
    except HeaderError as exc:
        raise ImportRejected(exc.messages) from None
    filename = os.path.basename(filename)[:255]
    try:
        # The staging tables live in this transaction: a rollback (a bad file, a dry run)
        # takes them away with everything else.
        with transaction.atomic(), connection.cursor() as cursor:
            for table in handler.tables:
                table.create(cursor)
            result = _run(cursor, handler, schema, file, filename, mapping or {}, date_format)
            if dry_run:
                result.dry_run = True
                transaction.set_rollback(True)
                return result
            result.batch = _apply(cursor, handler, result, source=source, actor=actor, label=label)
            for table in handler.tables:
                table.drop(cursor)
            _analyze_after_commit(cursor)
            return result
    except IntegrityError as exc:
        # Only a concurrent change gets here: every row was checked against the ledger.
        raise ImportRejected(
            [
                f"the ledger changed while importing ({exc}); nothing was imported, "
                "run the import again"
            ]
        ) from exc


def _analyze_after_commit(cursor) -> None:
    """Refresh the planner's statistics of every table this transaction wrote many rows into.

    Autovacuum analyses a table only after a tenth of it changed, and then on its own
    schedule: until it does, the first screens after a big import are planned from the old
    row counts and value spreads. PostgreSQL only: its per-transaction counters name the
    tables written; SQLite holds small data sets."""
    if connection.vendor != "postgresql":
        return
    cursor.execute(
        "SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) "
        "FROM pg_stat_xact_user_tables s JOIN pg_class c ON c.oid = s.relid "
        "WHERE c.relpersistence = 'p' AND s.n_tup_ins + s.n_tup_upd + s.n_tup_del > %s "
        "ORDER BY 1",
        [ANALYZE_AFTER_ROWS],
    )
    tables = [table for (table,) in cursor.fetchall()]
    if not tables:
        return

    def analyze() -> None:
        # After the commit: ANALYZE sees the new rows, and the import's locks are gone.
        with connection.cursor() as after:
            after.execute(f"ANALYZE {', '.join(tables)}")

    transaction.on_commit(analyze)


def _run(cursor, handler, schema, file, filename, mapping, date_format) -> ImportResult:
    source = CsvSource(file)
    records = source.records()
    first = next(records, None)
    if first is None:
        raise ImportRejected(["line 1: the file is empty; it needs a header row"])
    line, header, problem = first
    if problem:
        raise ImportRejected([f"line {line}: the header row {problem}"])
    try:
        layout = resolve_header(header, schema, mapping)
    except HeaderError as exc:
        raise ImportRejected([f"line {line}: {message}" for message in exc.messages]) from None
    parse = handler.parser(layout, DateParser(date_format))
    errors: dict[int, list[str]] = defaultdict(list)
    preview = []
    rows = 0
    with handler.stage.loader(cursor) as stage:
        for line, values, problem in records:
            rows += 1
            if problem:
                errors[line].append(problem)
                continue
            if len(values) != layout.width:
                errors[line].append(f"has {len(values)} columns but the header has {layout.width}")
                continue
            try:
                row = parse(values)
            except RowError as exc:
                errors[line].extend(exc.reasons)
                continue
            stage((line, *row))
            if len(preview) < PREVIEW_ROWS:
                preview.append({"line": line, **handler.preview(row)})
    handler.match(cursor)
    handler.stage.analyze(cursor)
    for line, reason in handler.problems(cursor):
        errors[line].append(reason)
    if errors:
        raise ImportRejected(
            [f"line {line}: {'; '.join(errors[line])}" for line in sorted(errors)],
            ignored=layout.ignored,
        )
    handler.dedupe(cursor)
    created, updated, unchanged = handler.count(cursor)
    notes = handler.notes(cursor, layout) if hasattr(handler, "notes") else []
    return ImportResult(
        kind=schema.kind,
        filename=filename,
        sha256=source.sha256,
        rows=rows,
        created=created,
        updated=updated,
        unchanged=unchanged,
        ignored=layout.ignored,
        unmatched=layout.unmatched,
        notes=notes,
        columns=[column for column in schema.columns if column in layout.positions],
        preview=preview,
    )


def _apply(cursor, handler, result: ImportResult, *, source, actor, label) -> ImportBatch:
    batch = ImportBatch.objects.create(
        kind=result.kind,
        filename=result.filename,
        sha256=result.sha256,
        source=source,
        user=actor,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )

    def audit(events: list[Event]) -> None:
        if events:
            audit_record_many(events=events, actor=actor, label=label)

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    handler.apply(cursor, batch_id=batch.pk, now=now, audit=audit)
    audit(
        [
            Event(
                action=f"import.{result.kind}.applied",
                summary=f"Imported {result.kind} from {result.filename}: {result.created} "
                f"created, {result.updated} updated, {result.unchanged} unchanged",
                data={
                    "notes": result.notes,
                    "batch_id": batch.pk,
                    "filename": result.filename,
                    "sha256": result.sha256,
                    "source": source,
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
        ]
    )
    return batch
