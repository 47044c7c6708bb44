"""The payments import: invoice_number, date, amount and an optional reference.

A payments file never pays twice: each row gets a deterministic key, the SHA-256 of its
normalised fields and of how many identical rows came before it in the file, and the key
is unique on Payment. Rows whose key is already recorded are unchanged."""

import hashlib

from invoices.models import ImportKind

from . import reader
from .balances import refresh_balances
from .columns import SCHEMAS, Layout
from .payments_sql import NEW_PAYMENTS, record_payments
from .staging import TOUCHED, TempTable

STAGE = TempTable(
    "import_stage",
    [
        ("line", "BIGINT NOT NULL"),
        ("invoice_number", "VARCHAR(64) NOT NULL"),
        ("received_on", "DATE NOT NULL"),
        ("cents", "BIGINT NOT NULL"),
        ("reference", "VARCHAR(100) NOT NULL"),
        ("external_key", "VARCHAR(64) NOT NULL"),
    ],
)


def payment_key(
    invoice_number: str, received_on: str, cents: int, reference: str, occurrence: int
) -> str:
    """The same row of the same file always gets the same key; its twin in the file (a
    second identical payment) gets another, because its occurrence index differs."""
    text = "\x1f".join([invoice_number, received_on, str(cents), reference, str(occurrence)])
    return hashlib.sha256(text.encode()).hexdigest()


class PaymentImport:
    schema = SCHEMAS[ImportKind.PAYMENTS]
    stage = STAGE
    tables = (STAGE, TOUCHED, NEW_PAYMENTS)

    def parser(self, layout: Layout, parse_date: reader.DateParser):
        at = layout.index
        i_number, i_date, i_amount, i_reference = (
            at("invoice_number"),
            at("date"),
            at("amount"),
            at("reference"),
        )
        get, text = reader.get, reader.text
        seen: dict[tuple, int] = {}

        def parse(values: list[str]) -> tuple:
            reasons: list[str] = []
            number = text(get(values, i_number), "invoice_number", 64, reasons)
            on = reader.day(get(values, i_date), "date", parse_date, reasons)
            amount = reader.cents(get(values, i_amount), "amount", reasons)
            reference = text(get(values, i_reference), "reference", 100, reasons, required=False)
            if reasons:
                raise reader.RowError(reasons)
            fields = (number, on, amount, reference)
            occurrence = seen.get(fields, 0)
            seen[fields] = occurrence + 1
            return (*fields, payment_key(number, on, amount, reference, occurrence))

        return parse

    def preview(self, row: tuple) -> dict:
        number, on, amount, reference, _ = row
        return {
            "invoice_number": number,
            "date": on,
            "amount": reader.from_cents(amount),
            "reference": reference,
        }

    def match(self, cursor) -> None:
        """Payments are matched by their key when applied: nothing to note beforehand."""

    def problems(self, cursor) -> list[tuple[int, str]]:
        cursor.execute(
            """
            SELECT s.line, s.invoice_number FROM import_stage s
            LEFT JOIN invoices_invoice i ON i.number = s.invoice_number
            WHERE i.id IS NULL
            """
        )
        return [(line, f"unknown invoice '{number}'") for line, number in cursor.fetchall()]

    def dedupe(self, cursor) -> None:
        """Identical rows are distinct payments (their keys differ): nothing to remove."""

    def count(self, cursor) -> tuple[int, int, int]:
        cursor.execute(
            """
            SELECT COALESCE(SUM(CASE WHEN p.id IS NULL THEN 1 ELSE 0 END), 0), COUNT(*)
            FROM import_stage s
            LEFT JOIN invoices_payment p ON p.external_key = s.external_key
            """
        )
        created, total = cursor.fetchone()
        return int(created), 0, int(total - created)

    def apply(self, cursor, *, batch_id: int, now, audit) -> None:
        """Pay each new row's invoice, up to its open balance; the rest stays as credit."""
        cursor.execute(
            """
            INSERT INTO import_payments
                (line, invoice_id, customer_id, received_on, cents, currency, reference,
                 external_key)
            SELECT s.line, i.id, i.customer_id, s.received_on, s.cents, i.currency,
                   s.reference, s.external_key
            FROM import_stage s
            JOIN invoices_invoice i ON i.number = s.invoice_number
            WHERE NOT EXISTS (SELECT 1 FROM invoices_payment p
                              WHERE p.external_key = s.external_key)
            """
        )
        record_payments(cursor, batch_id=batch_id, now=now, audit=audit)
        refresh_balances(cursor)
