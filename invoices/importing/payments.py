"""The payments import: invoice_number, date, amount, and optionally reference and
customer_external_id. A row with a blank invoice_number and a customer_external_id is
unapplied cash: a payment of that customer, in its currency, allocated to no invoice.

A payments file never pays twice: each row gets a deterministic key, the SHA-256 of its
normalised fields and of how many identical rows came before it in the file, and the key
is unique on Payment. Rows whose key is already recorded are unchanged."""

import hashlib

from invoices.models import ImportKind
from jobs.models import Phase
from jobs.progress import report_phase

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
        ("customer_external_id", "VARCHAR(64) NOT NULL"),
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


def unapplied_key_of(customer_external_id: str) -> str:
    """What stands for the invoice number in the key of unapplied cash: a control character
    no field may hold, so it never equals an invoice number."""
    return "\x1e" + customer_external_id


class PaymentImport:
    schema = SCHEMAS[ImportKind.PAYMENTS]
    stage = STAGE
    tables = (STAGE, TOUCHED, NEW_PAYMENTS)

    def parser(self, layout: Layout, parse_date: reader.DateParser):
        at = layout.index
        i_number, i_date, i_amount, i_reference, i_customer = (
            at("invoice_number"),
            at("date"),
            at("amount"),
            at("reference"),
            at("customer_external_id"),
        )
        get, text = reader.get, reader.text
        seen: dict[tuple, int] = {}

        def parse(values: list[str]) -> tuple:
            reasons: list[str] = []
            customer = text(
                get(values, i_customer), "customer_external_id", 64, reasons, required=False
            )
            number = get(values, i_number)
            if number or i_customer is None:
                text(number, "invoice_number", 64, reasons)
            elif not customer:
                reasons.append(
                    "invoice_number is missing (or give customer_external_id for a payment "
                    "not yet matched to an invoice)"
                )
            on = reader.day(get(values, i_date), "date", parse_date, reasons)
            amount = reader.cents(get(values, i_amount), "amount", reasons)
            reference = text(get(values, i_reference), "reference", 100, reasons, required=False)
            if reasons:
                raise reader.RowError(reasons)
            # The key of a row with an invoice number is what it always was, customer or not:
            # a file imported before this column existed stays imported.
            keyed = number or unapplied_key_of(customer)
            fields = (keyed, on, amount, reference)
            occurrence = seen.get(fields, 0)
            seen[fields] = occurrence + 1
            key = payment_key(keyed, on, amount, reference, occurrence)
            return (number, customer, on, amount, reference, key)

        return parse

    def preview(self, row: tuple) -> dict:
        number, customer, on, amount, reference, _ = row
        return {
            "invoice_number": number,
            "customer_external_id": customer,
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
            WHERE s.invoice_number <> '' AND i.id IS NULL
            """
        )
        found = [(line, f"unknown invoice '{number}'") for line, number in cursor.fetchall()]
        cursor.execute(
            """
            SELECT s.line, s.customer_external_id FROM import_stage s
            LEFT JOIN invoices_customer c ON c.external_id = s.customer_external_id
            WHERE s.invoice_number = '' AND c.id IS NULL
            """
        )
        found += [(line, f"unknown customer '{who}'") for line, who in cursor.fetchall()]
        cursor.execute(
            """
            SELECT s.line, s.invoice_number, c.external_id, s.customer_external_id
            FROM import_stage s
            JOIN invoices_invoice i ON i.number = s.invoice_number
            JOIN invoices_customer c ON c.id = i.customer_id
            WHERE s.customer_external_id <> '' AND c.external_id <> s.customer_external_id
            """
        )
        found += [
            (line, f"invoice {number} belongs to customer {owner}, not {named}")
            for line, number, owner, named in cursor.fetchall()
        ]
        return found

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
        """Pay each new row's invoice, up to its open balance; the rest stays as credit. A row
        without an invoice number is all credit: unapplied cash of its customer."""
        report_phase(Phase.WRITING)
        cursor.execute(
            """
            INSERT INTO import_payments
                (line, invoice_id, customer_id, received_on, cents, currency, reference,
                 external_key)
            SELECT s.line, i.id, COALESCE(i.customer_id, c.id), s.received_on, s.cents,
                   COALESCE(i.currency, c.currency), s.reference, s.external_key
            FROM import_stage s
            LEFT JOIN invoices_invoice i ON i.number = s.invoice_number
            LEFT JOIN invoices_customer c
                   ON s.invoice_number = '' AND c.external_id = s.customer_external_id
            WHERE NOT EXISTS (SELECT 1 FROM invoices_payment p
                              WHERE p.external_key = s.external_key)
            """
        )
        record_payments(cursor, batch_id=batch_id, now=now, audit=audit)
        refresh_balances(cursor)
