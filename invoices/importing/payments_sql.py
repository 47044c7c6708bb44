"""Recording the payments an import brings, set-based: the rows of a payments file, and the
payments that settle invoices a foreign export marked as paid."""

from decimal import Decimal

from audit.services import Event
from invoices.signals import ledger_changed_by

from .reader import from_cents
from .staging import TOUCHED, TempTable, is_postgres, remember_ids
from .staging import from_cents as cents_to_money

NEW_PAYMENTS = TempTable(
    "import_payments",
    [
        ("line", "BIGINT PRIMARY KEY"),
        # NULL for unapplied cash: a payment with no invoice to allocate it to yet.
        ("invoice_id", "BIGINT"),
        ("customer_id", "BIGINT NOT NULL"),
        ("received_on", "DATE NOT NULL"),
        ("cents", "BIGINT NOT NULL"),
        ("currency", "VARCHAR(3) NOT NULL"),
        ("reference", "VARCHAR(100) NOT NULL"),
        ("external_key", "VARCHAR(64) NOT NULL"),
    ],
)

INSERT_PAYMENTS = f"""
INSERT INTO invoices_payment
    (customer_id, received_on, amount, currency, reference, external_key, import_batch_id,
     created_at)
SELECT customer_id, received_on, {cents_to_money("cents")}, currency, reference, external_key,
       %s, %s
FROM import_payments ORDER BY line
"""

# Payments for one invoice settle it in file order: each takes what the earlier ones left
# open, and whatever is beyond the open balance stays on the payment as unallocated credit.
INSERT_ALLOCATIONS = f"""
INSERT INTO invoices_allocation (invoice_id, payment_id, credit_note_id, amount, applied_on,
                                 created_at)
SELECT x.invoice_id, p.id, NULL, {cents_to_money("x.part")}, x.received_on, %s
FROM (
    SELECT r.invoice_id, r.external_key, r.received_on,
           CASE WHEN r.balance - (r.running - r.cents) >= r.cents THEN r.cents
                ELSE r.balance - (r.running - r.cents) END AS part
    FROM (
        SELECT n.invoice_id, n.external_key, n.received_on, n.cents,
               SUM(n.cents) OVER (PARTITION BY n.invoice_id ORDER BY n.line) AS running,
               CAST(ROUND(i.open_balance * 100) AS BIGINT) AS balance
        FROM import_payments n
        JOIN invoices_invoice i ON i.id = n.invoice_id
    ) r
) x
JOIN invoices_payment p ON p.external_key = x.external_key
WHERE x.part > 0
"""

# What the new payments left unapplied (invoices.services.payment_refresh, set-based).
UNAPPLIED = """
UPDATE invoices_payment SET unapplied = amount - COALESCE(
    (SELECT SUM(a.amount) FROM invoices_allocation a WHERE a.payment_id = invoices_payment.id), 0)
WHERE external_key IN (SELECT external_key FROM import_payments)
"""

LOCK_INVOICES = """
SELECT i.id FROM invoices_invoice i
WHERE i.id IN (SELECT invoice_id FROM import_payments)
ORDER BY i.id
FOR UPDATE
"""

RECORDED = """
SELECT n.line, p.id, n.customer_id, n.invoice_id, i.number, n.cents, n.currency,
       n.received_on, n.reference, CAST(ROUND(a.amount * 100) AS BIGINT)
FROM import_payments n
JOIN invoices_payment p ON p.external_key = n.external_key
LEFT JOIN invoices_invoice i ON i.id = n.invoice_id
LEFT JOIN invoices_allocation a ON a.payment_id = p.id
WHERE n.line > %s
ORDER BY n.line
LIMIT 2000
"""


def record_payments(cursor, *, batch_id: int, now, audit) -> None:
    """Create the payments staged in import_payments, allocate them, mark their invoices
    for a balance refresh, and audit each one as ledger.payment.recorded."""
    if is_postgres():
        # As payment_record does: a payment recorded meanwhile must not read the same balance.
        cursor.execute(LOCK_INVOICES)
    cursor.execute(INSERT_PAYMENTS, [batch_id, now])
    cursor.execute(INSERT_ALLOCATIONS, [now])
    cursor.execute(UNAPPLIED)
    ledger_changed_by(
        cursor,
        "SELECT currency, MIN(received_on) FROM import_payments GROUP BY currency",
        sender=record_payments,
    )
    remember_ids(cursor, TOUCHED, "SELECT invoice_id AS id FROM import_payments")
    last = 0
    while True:
        cursor.execute(RECORDED, [last])
        rows = cursor.fetchall()
        if not rows:
            return
        audit([_event(row, batch_id) for row in rows])
        last = rows[-1][0]


def _event(row, batch_id: int) -> Event:
    _, payment_id, customer_id, invoice_id, number, cents, currency, on, reference, part = row
    amount = from_cents(cents)
    applied = from_cents(part) if part else Decimal("0.00")
    return Event(
        action="ledger.payment.recorded",
        customer_id=customer_id,
        invoice_id=invoice_id,
        summary=f"Payment of {amount} {currency} received {on}"
        + (f" (ref {reference})" if reference else "")
        + ("" if invoice_id else ", unapplied: no invoice number"),
        data={
            "payment_id": payment_id,
            "amount": str(amount),
            "currency": currency,
            "received_on": str(on),
            "reference": reference,
            "allocations": [{"invoice": number, "amount": str(applied)}] if part else [],
            "unallocated": str(amount - applied),
            "import_batch": batch_id,
        },
    )
