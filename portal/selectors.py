"""What the customer's page shows: a fixed number of queries, whatever the number of rows."""

import datetime as dt

from invoice_copies.selectors import newest_copy_ids
from invoices.models import Customer, Invoice, InvoiceStatus, Organisation, Payment
from letters.models import Document, DocumentKind, LetterSettings

OPEN = (InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)


def customer_page(customer: Customer, *, today: dt.date) -> dict:
    invoices = list(
        Invoice.objects.filter(customer=customer, status__in=OPEN).order_by("due_date", "number")
    )
    copies = newest_copy_ids(invoice.pk for invoice in invoices)
    for invoice in invoices:
        invoice.copy_id = copies.get(invoice.pk)
        invoice.overdue_days = invoice.days_overdue(today)
    letters = list(
        Document.objects.filter(customer=customer, kind=DocumentKind.LETTER)
        .defer("content")
        .order_by("-created_at", "-id")
    )
    payments = list(
        Payment.objects.filter(customer=customer, reversed_on__isnull=True).order_by(
            "-received_on", "-id"
        )
    )
    return {
        "organisation": Organisation.current(),
        "firm": LetterSettings.current(),
        "invoices": invoices,
        "letters": letters,
        "payments": payments,
        "open_total": sum((i.open_balance for i in invoices), 0),
    }


def invoice_copy(customer: Customer, invoice_id: int) -> Document | None:
    """The newest copy of one of this customer's invoices; None for anyone else's."""
    return (
        Document.objects.filter(
            kind=DocumentKind.INVOICE_COPY, invoice_id=invoice_id, invoice__customer=customer
        )
        .order_by("-id")
        .first()
    )


def letter(customer: Customer, document_id: int) -> Document | None:
    return Document.objects.filter(
        pk=document_id, customer=customer, kind=DocumentKind.LETTER
    ).first()
