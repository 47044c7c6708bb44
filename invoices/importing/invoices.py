"""The invoices import: number, customer_external_id, issue_date, due_date, amount, and
optionally currency and settled_date (the invoice was marked paid in the system it comes from).

A file without a currency column (a single-currency export) gives each invoice its customer's
currency; a file with one must match the customer's, as a customer is billed in one currency."""

import hashlib

from audit.services import Event
from invoices.models import ImportKind, InvoiceStatus
from invoices.money import currency_codes, currency_problem
from invoices.signals import ledger_changed_by
from jobs.models import Phase
from jobs.progress import report_phase

from . import reader
from .balances import refresh_balances
from .columns import SCHEMAS, Layout
from .payments_sql import NEW_PAYMENTS, record_payments
from .staging import (
    CHANGED,
    TOUCHED,
    TempTable,
    changed_any,
    dedupe_stage,
    differs,
    id_chunks,
    index_stage,
    placeholders,
    remember_ids,
)
from .staging import from_cents as cents_to_money
from .staging import to_cents as money_to_cents

STAGE = TempTable(
    "import_stage",
    [
        ("line", "BIGINT NOT NULL"),
        ("number", "VARCHAR(64) NOT NULL"),
        ("customer_external_id", "VARCHAR(64) NOT NULL"),
        ("issue_date", "DATE NOT NULL"),
        ("due_date", "DATE NOT NULL"),
        ("currency", "VARCHAR(3) NOT NULL"),
        ("cents", "BIGINT NOT NULL"),
        ("settled_date", "DATE"),
        ("settle_key", "VARCHAR(64)"),
    ],
    derived=[("invoice_id", "BIGINT")],
)

SETTLED_REFERENCE = "settled per import"


def settle_key(number: str) -> str:
    """The key of the payment that settles an invoice marked paid: one per invoice, ever."""
    key = f"settled:{number}"
    if len(key) > 64:
        key = "settled:" + hashlib.sha256(number.encode()).hexdigest()[:56]
    return key


# An existing invoice whose amount or dates differ from the file's row.
CHANGED_SQL = f"""(
    {money_to_cents("i.amount")} <> s.cents
    OR i.issue_date <> s.issue_date
    OR i.due_date <> s.due_date
)"""
# What is already paid or credited on an existing invoice, in cents.
APPLIED_SQL = f"({money_to_cents('i.amount')} - {money_to_cents('i.open_balance')})"
# A settled_date whose payment was never recorded, on an invoice that still has money open.
SETTLE_PENDING_SQL = f"""(
    s.settled_date IS NOT NULL AND p.id IS NULL AND s.cents - {APPLIED_SQL} > 0
)"""


class InvoiceImport:
    schema = SCHEMAS[ImportKind.INVOICES]
    stage = STAGE
    tables = (STAGE, CHANGED, TOUCHED, NEW_PAYMENTS)

    def parser(self, layout: Layout, parse_date: reader.DateParser):
        at = layout.index
        i_number, i_customer = at("number"), at("customer_external_id")
        i_issue, i_due, i_currency = at("issue_date"), at("due_date"), at("currency")
        i_amount, i_settled = at("amount"), at("settled_date")
        get, text, day = reader.get, reader.text, reader.day
        currencies = currency_codes()

        def parse(values: list[str]) -> tuple:
            reasons: list[str] = []
            number = text(get(values, i_number), "number", 64, reasons)
            customer = text(get(values, i_customer), "customer_external_id", 64, reasons)
            issue = day(get(values, i_issue), "issue_date", parse_date, reasons)
            due = day(get(values, i_due), "due_date", parse_date, reasons)
            currency = get(values, i_currency).upper()
            if i_currency is None:
                pass  # taken from the customer once the rows are staged
            elif not currency:
                reasons.append("currency is missing")
            elif currency not in currencies:
                reasons.append("currency " + currency_problem(currency, currencies).rstrip("."))
            amount = reader.cents(get(values, i_amount), "amount", reasons)
            settled = day(
                get(values, i_settled), "settled_date", parse_date, reasons, required=False
            )
            if issue and due and due < issue:
                reasons.append(f"due_date {due} is before issue_date {issue}")
            if issue and settled and settled < issue:
                reasons.append(f"settled_date {settled} is before issue_date {issue}")
            if reasons:
                raise reader.RowError(reasons)
            key = settle_key(number) if settled else None
            return (number, customer, issue, due, currency, amount, settled, key)

        return parse

    def preview(self, row: tuple) -> dict:
        number, customer, issue, due, currency, amount, settled, _ = row
        return {
            "number": number,
            "customer_external_id": customer,
            "issue_date": issue,
            "due_date": due,
            "currency": currency,
            "amount": reader.from_cents(amount),
            "settled_date": settled or "",
        }

    def match(self, cursor) -> None:
        """Note which rows are invoices we already have, before anything is inserted, and
        give rows from a file without a currency column their customer's currency."""
        cursor.execute(
            "UPDATE import_stage SET invoice_id = i.id FROM invoices_invoice i "
            "WHERE i.number = import_stage.number"
        )
        cursor.execute(
            "UPDATE import_stage SET currency = c.currency FROM invoices_customer c "
            "WHERE import_stage.currency = '' "
            "AND c.external_id = import_stage.customer_external_id"
        )

    def notes(self, cursor, layout: Layout) -> list[str]:
        """What the summary should say about how the file was read."""
        if layout.index("currency") is not None:
            return []
        cursor.execute(
            "SELECT currency, COUNT(*) FROM import_stage GROUP BY currency "
            "ORDER BY COUNT(*) DESC, currency"
        )
        taken = ", ".join(f"{currency} for {count}" for currency, count in cursor.fetchall())
        return [f"No currency column: each invoice took its customer's currency ({taken})"]

    def problems(self, cursor) -> list[tuple[int, str]]:
        found = []
        cursor.execute(
            f"""
            SELECT s.line, s.number, f.line
            FROM import_stage s
            JOIN (SELECT number, MIN(line) AS line FROM import_stage
                  GROUP BY number HAVING COUNT(*) > 1) first ON first.number = s.number
            JOIN import_stage f ON f.line = first.line
            WHERE s.line <> f.line AND (
                s.customer_external_id <> f.customer_external_id
                OR s.issue_date <> f.issue_date OR s.due_date <> f.due_date
                OR s.currency <> f.currency OR s.cents <> f.cents
                OR {differs("s.settled_date", "f.settled_date")})
            """
        )
        found += [
            (line, f"invoice {number} is also on line {other} with different data")
            for line, number, other in cursor.fetchall()
        ]
        cursor.execute(
            """
            SELECT s.line, s.customer_external_id, s.number, s.currency, c.currency
            FROM import_stage s
            LEFT JOIN invoices_customer c ON c.external_id = s.customer_external_id
            WHERE c.id IS NULL OR c.currency <> s.currency
            """
        )
        for line, external_id, number, currency, billed_in in cursor.fetchall():
            if billed_in is None:
                found.append((line, f"unknown customer '{external_id}'"))
            else:
                found.append(
                    (
                        line,
                        f"invoice {number} is in {currency} but customer {external_id} "
                        f"is billed in {billed_in}",
                    )
                )
        cursor.execute(
            f"""
            SELECT s.line, s.number, s.cents, ic.external_id, c.id <> i.customer_id,
                   i.currency, s.currency, {APPLIED_SQL}
            FROM import_stage s
            JOIN invoices_invoice i ON i.id = s.invoice_id
            JOIN invoices_customer ic ON ic.id = i.customer_id
            JOIN invoices_customer c ON c.external_id = s.customer_external_id
            WHERE c.id <> i.customer_id OR i.currency <> s.currency OR s.cents < {APPLIED_SQL}
            """
        )
        for line, number, amount, owner, other, currency, wanted, applied in cursor.fetchall():
            if other:
                found.append((line, f"invoice {number} already exists for customer {owner}"))
            elif currency != wanted:
                found.append((line, f"invoice {number} already exists in {currency}"))
            else:
                found.append(
                    (
                        line,
                        f"invoice {number}: {reader.from_cents(applied)} is already paid or "
                        f"credited, more than the new amount {reader.from_cents(amount)}",
                    )
                )
        return found

    def dedupe(self, cursor) -> None:
        dedupe_stage(cursor, "number")

    def count(self, cursor) -> tuple[int, int, int]:
        cursor.execute(
            f"""
            SELECT
                COALESCE(SUM(CASE WHEN i.id IS NULL THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN i.id IS NOT NULL AND ({CHANGED_SQL} OR {SETTLE_PENDING_SQL})
                             THEN 1 ELSE 0 END), 0),
                COUNT(*)
            FROM import_stage s
            LEFT JOIN invoices_invoice i ON i.id = s.invoice_id
            LEFT JOIN invoices_payment p ON p.external_key = s.settle_key
            """
        )
        created, updated, total = cursor.fetchone()
        return int(created), int(updated), int(total - created - updated)

    def apply(self, cursor, *, batch_id: int, now, audit) -> None:
        """1. change existing invoices (auditing each), 2. insert the new ones, 3. pay those
        marked settled, 4. derive the balances of every invoice touched."""
        report_phase(Phase.WRITING)
        remember_ids(
            cursor,
            CHANGED,
            f"SELECT i.id AS id FROM import_stage s JOIN invoices_invoice i "
            f"ON i.id = s.invoice_id WHERE {CHANGED_SQL}",
        )
        if changed_any(cursor):
            index_stage(cursor, "invoice_id")
        # Before the update: a changed invoice counts from its old issue date too.
        ledger_changed_by(
            cursor,
            f"""
            SELECT s.currency, MIN(CASE WHEN i.issue_date < s.issue_date
                                        THEN i.issue_date ELSE s.issue_date END)
            FROM import_stage s LEFT JOIN invoices_invoice i ON i.id = s.invoice_id
            WHERE s.invoice_id IS NULL OR s.invoice_id IN (SELECT id FROM {CHANGED.name})
            GROUP BY s.currency
            """,
            sender=InvoiceImport,
        )
        for ids in id_chunks(cursor, CHANGED):
            self._update(cursor, ids, batch_id=batch_id, now=now, audit=audit)
        remember_ids(cursor, TOUCHED, f"SELECT id FROM {CHANGED.name}")
        cursor.execute(
            f"""
            INSERT INTO invoices_invoice
                (number, customer_id, issue_date, due_date, currency, amount, open_balance,
                 status, closed_on, import_batch_id, created_at, updated_at)
            SELECT s.number, c.id, s.issue_date, s.due_date, s.currency,
                   {cents_to_money("s.cents")}, {cents_to_money("s.cents")},
                   %s, NULL, %s, %s, %s
            FROM import_stage s
            JOIN invoices_customer c ON c.external_id = s.customer_external_id
            WHERE s.invoice_id IS NULL
            """,
            [InvoiceStatus.OPEN.value, batch_id, now, now],
        )
        cursor.execute(
            f"""
            INSERT INTO import_payments
                (line, invoice_id, customer_id, received_on, cents, currency, reference,
                 external_key)
            SELECT s.line, i.id, i.customer_id, s.settled_date,
                   {money_to_cents("i.open_balance")}, i.currency, %s, s.settle_key
            FROM import_stage s
            JOIN invoices_invoice i ON i.number = s.number
            WHERE s.settled_date IS NOT NULL AND i.open_balance > 0
              AND NOT EXISTS (SELECT 1 FROM invoices_payment p
                              WHERE p.external_key = s.settle_key)
            """,
            [SETTLED_REFERENCE],
        )
        record_payments(cursor, batch_id=batch_id, now=now, audit=audit)
        refresh_balances(cursor)

    def _update(self, cursor, ids: list[int], *, batch_id: int, now, audit) -> None:
        marks = placeholders(ids)
        cursor.execute(
            f"""
            SELECT i.id, i.customer_id, i.number,
                   {money_to_cents("i.amount")}, i.issue_date, i.due_date,
                   s.cents, s.issue_date, s.due_date
            FROM import_stage s JOIN invoices_invoice i ON i.id = s.invoice_id
            WHERE i.id IN ({marks})
            """,
            ids,
        )
        events = []
        for invoice_id, customer_id, number, *values in cursor.fetchall():
            old_amount, old_issue, old_due, new_amount, new_issue, new_due = values
            changes = {}
            if old_amount != new_amount:
                changes["amount"] = [
                    str(reader.from_cents(old_amount)),
                    str(reader.from_cents(new_amount)),
                ]
            if str(old_issue) != str(new_issue):
                changes["issue_date"] = [str(old_issue), str(new_issue)]
            if str(old_due) != str(new_due):
                changes["due_date"] = [str(old_due), str(new_due)]
            events.append(
                Event(
                    action="ledger.invoice.updated",
                    customer_id=customer_id,
                    invoice_id=invoice_id,
                    summary=f"Invoice {number} changed: {', '.join(changes)}",
                    data={"changes": changes, "import_batch": batch_id},
                )
            )
        audit(events)
        # open_balance moves with the amount in the same statement: the table's check that
        # the balance never exceeds the amount holds row by row.
        cursor.execute(
            f"""
            UPDATE invoices_invoice AS i
            SET amount = {cents_to_money("s.cents")},
                open_balance = ROUND({cents_to_money("s.cents")} - (i.amount - i.open_balance), 2),
                issue_date = s.issue_date,
                due_date = s.due_date,
                updated_at = %s
            FROM import_stage s
            WHERE s.invoice_id = i.id AND i.id IN ({marks})
            """,
            [now, *ids],
        )
