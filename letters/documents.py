"""Documents built from fixed templates (not user-edited): the statement of account and
the promissory note of a payment plan. Rendered with the same fenced PDF renderer."""

import datetime as dt
from decimal import Decimal

from django.template.loader import render_to_string

from invoices.models import Customer, Invoice, InvoiceStatus, Organisation, Payment

from .models import LetterSettings
from .pdf import render_pdf

PAYMENTS_LISTED = 200


def document_pdf(template: str, context: dict) -> bytes:
    settings = LetterSettings.current()
    html = render_to_string(
        template,
        {
            "organisation": Organisation.current().name,
            "letter_settings": settings,
            "has_logo": bool(settings.logo),
            **context,
        },
    )
    return render_pdf(html, logo=bytes(settings.logo or b""), logo_type=settings.logo_type)


def statement_pdf(customer: Customer, *, today: dt.date) -> bytes:
    """Every open invoice and the latest payments, as at today."""
    invoices = list(
        Invoice.objects.filter(
            customer=customer, status__in=(InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
        ).order_by("due_date", "number")
    )
    payments = list(
        # A payment that bounced was never money received.
        Payment.objects.filter(customer=customer, reversed_on__isnull=True).order_by(
            "-received_on", "-id"
        )[:PAYMENTS_LISTED]
    )
    return document_pdf(
        "letters/statement.html",
        {
            "customer": customer,
            "today": today,
            "invoices": invoices,
            "payments": payments,
            "open_total": sum((i.open_balance for i in invoices), Decimal("0.00")),
        },
    )


def promissory_note_pdf(
    *,
    customer: Customer,
    instalments: list[tuple[dt.date, Decimal]],
    agreed_on: dt.date,
    grace_days: int,
) -> bytes:
    return document_pdf(
        "letters/promissory_note.html",
        {
            "customer": customer,
            "today": agreed_on,
            "instalments": instalments,
            "total": sum((amount for _, amount in instalments), Decimal("0.00")),
            "grace_days": grace_days,
        },
    )
