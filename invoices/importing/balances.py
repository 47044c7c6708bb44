"""invoices.services.invoice_refresh as one UPDATE, for the invoices an import touched.

It derives exactly what invoice_refresh derives (tests hold the two side by side): the open
balance is the amount less everything allocated; at zero the invoice is paid, or written
off when a write-off credit note was applied, and closed on the last allocation's date;
otherwise it is in dispute while a dispute is open, else open."""

from invoices.models import DisputeStatus, InvoiceStatus

from .staging import TOUCHED, TempTable

REFRESH_SQL = """
UPDATE invoices_invoice
SET open_balance = t.balance, status = t.status, closed_on = t.closed_on
FROM (
    SELECT b.id, b.balance,
           CASE WHEN b.balance = 0 THEN
                    CASE WHEN b.written_off = 1 THEN %(written_off)s ELSE %(paid)s END
                WHEN b.disputed = 1 THEN %(in_dispute)s
                ELSE %(open)s END AS status,
           CASE WHEN b.balance = 0 THEN b.last_applied ELSE NULL END AS closed_on
    FROM (
        SELECT i.id,
               ROUND(i.amount - COALESCE(a.applied, 0), 2) AS balance,
               a.last_applied,
               COALESCE(a.written_off, 0) AS written_off,
               CASE WHEN EXISTS (
                   SELECT 1 FROM invoices_dispute d
                   WHERE d.invoice_id = i.id AND d.status = %(dispute_open)s
               ) THEN 1 ELSE 0 END AS disputed
        FROM invoices_invoice i
        JOIN {ids} ids ON ids.id = i.id
        LEFT JOIN (
            SELECT al.invoice_id,
                   SUM(al.amount) AS applied,
                   MAX(al.applied_on) AS last_applied,
                   MAX(CASE WHEN cn.is_write_off THEN 1 ELSE 0 END) AS written_off
            FROM invoices_allocation al
            JOIN {ids} ids ON ids.id = al.invoice_id
            LEFT JOIN invoices_creditnote cn ON cn.id = al.credit_note_id
            GROUP BY al.invoice_id
        ) a ON a.invoice_id = i.id
    ) b
) t
WHERE invoices_invoice.id = t.id
"""


def refresh_balances(cursor, ids: TempTable = TOUCHED) -> None:
    """Derive open balance, status and closing date for every invoice id in the id table."""
    cursor.execute(
        REFRESH_SQL.format(ids=ids.name),
        {
            "written_off": InvoiceStatus.WRITTEN_OFF.value,
            "paid": InvoiceStatus.PAID.value,
            "in_dispute": InvoiceStatus.IN_DISPUTE.value,
            "open": InvoiceStatus.OPEN.value,
            "dispute_open": DisputeStatus.OPEN.value,
        },
    )
