"""Questions and disputes the customer raises on their page: one dispute per invoice they
tick, each pausing that invoice only, with the files they attach kept as evidence the
collector can download (portal.dispute_views.evidence)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from dunning.queue import queue_refresh
from invoices.dates import format_day
from invoices.exceptions import DisputeError
from invoices.models import (
    Customer,
    Dispute,
    DisputeReason,
    DisputeStatus,
    Invoice,
    InvoiceStatus,
    RaisedVia,
)
from invoices.money import format_money
from invoices.services import dispute_open
from letters.models import Document, DocumentKind
from letters.services import document_store

from .confirmations import confirmation_queue
from .exceptions import PortalError
from .models import DisputeEvidence, PortalLink
from .requests import came_from

MAX_FILES = 3
MAX_FILE_BYTES = 10 * 1024 * 1024
ALLOWED_KINDS = "PDF, PNG, JPEG or plain text"


def customer_today(customer: Customer, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(customer.timezone)).date()


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    content_type: str


def sniff(content: bytes) -> str | None:
    """The type of an upload from its first bytes, never from its name or the browser's
    word: only types a collector can open safely. None for anything else."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if b"\x00" in content:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Markup is not plain text: it could run as a page if ever shown inline.
    if text.lstrip()[:1] == "<":
        return None
    return "text/plain"


def upload_check(name: str, content: bytes) -> Upload:
    """One attached file, or PortalError saying why it cannot be taken."""
    if not content:
        raise PortalError(f"{name} is empty.")
    if len(content) > MAX_FILE_BYTES:
        raise PortalError(f"{name} is larger than 10 MB: please send a smaller file.")
    content_type = sniff(content)
    if content_type is None:
        raise PortalError(f"{name} is not a {ALLOWED_KINDS} file.")
    return Upload(filename=name[:200], content=content, content_type=content_type)


def disputable(customer: Customer) -> list[Invoice]:
    """The customer's open invoices, oldest due first; each says whether it is already under
    review (an open dispute), when it cannot be disputed again."""
    invoices = list(
        Invoice.objects.filter(
            customer=customer,
            status__in=(InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE),
            open_balance__gt=0,
        ).order_by("due_date", "number")
    )
    reviewed = set(
        Dispute.objects.filter(invoice__in=invoices, status=DisputeStatus.OPEN).values_list(
            "invoice_id", flat=True
        )
    )
    for invoice in invoices:
        invoice.under_review = invoice.pk in reviewed
    return invoices


def under_review(customer: Customer) -> list[Dispute]:
    """The customer's open disputes, for the page that thanks them."""
    return list(
        Dispute.objects.filter(invoice__customer=customer, status=DisputeStatus.OPEN)
        .select_related("invoice")
        .order_by("invoice__due_date", "invoice__number")
    )


@transaction.atomic
def dispute_raise(
    *,
    link: PortalLink,
    invoices: list[Invoice],
    reason: str,
    message: str,
    uploads: list[Upload],
    now: dt.datetime,
    amount: Decimal | None = None,
) -> list[Dispute]:
    """Open a dispute on each invoice the customer ticked (the whole open balance, or
    `amount` when only one is ticked), owned by the customer's collector and audited with
    the contact and link it came from; keep the attached files as evidence of each; confirm
    it to the contact by email."""
    customer = link.customer
    if not invoices:
        raise PortalError("Tick the invoice or invoices your question is about.")
    if any(invoice.customer_id != customer.pk for invoice in invoices):
        raise PortalError("Tick only invoices of this account.")
    if amount is not None and len(invoices) > 1:
        raise PortalError(
            "With several invoices ticked each is reviewed in full: leave the amount empty."
        )
    if reason not in DisputeReason.values:
        raise PortalError("Choose what the question is about.")
    if len(uploads) > MAX_FILES:
        raise PortalError(f"Attach at most {MAX_FILES} files.")
    today = customer_today(customer, now)
    documents = [
        document_store(
            kind=DocumentKind.CUSTOMER_UPLOAD,
            customer_id=customer.pk,
            filename=upload.filename,
            content=upload.content,
            content_type=upload.content_type,
        )
        for upload in uploads
    ]
    audit_data = {
        **came_from(link),
        "documents": [{"id": d.pk, "filename": d.filename} for d in documents],
    }
    disputes = []
    for invoice in sorted(invoices, key=lambda i: (i.due_date, i.number)):
        try:
            dispute = dispute_open(
                actor=None,
                invoice=invoice,
                reason=reason,
                opened_on=today,
                detail=message,
                amount=amount,
                owner=customer.collector,
                raised_via=RaisedVia.CUSTOMER_PAGE,
                label="customer page",
                audit_data=audit_data,
            )
        except DisputeError as error:
            if "already has an open dispute" in str(error):
                raise PortalError(
                    f"Invoice {invoice.number} is already under review: untick it."
                ) from error
            raise PortalError(str(error)) from error
        DisputeEvidence.objects.bulk_create(
            DisputeEvidence(dispute=dispute, document=document, link=link) for document in documents
        )
        disputes.append(dispute)
    queue_refresh(customer_ids=[customer.pk])
    _confirm(link, disputes, documents, now=now)
    return disputes


def _confirm(link: PortalLink, disputes: list[Dispute], documents: list[Document], *, now):
    contact, customer = link.contact, link.customer
    lines = [
        f"- {d.invoice.number}: {format_money(d.amount, d.invoice.currency)} under review"
        for d in disputes
    ]
    files = f"\nWith {len(documents)} file{'s' if len(documents) != 1 else ''} attached.\n"
    confirmation_queue(
        contact=contact,
        key=f"dispute:{disputes[0].pk}",
        subject=f"We have your question about {_numbers(disputes)}",
        text=f"Dear {contact.name or customer.name},\n\n"
        f"Thank you: on {format_day(disputes[0].opened_on)} you raised a question "
        f"({disputes[0].get_reason_display().lower()}) about:\n\n"
        + "\n".join(lines)
        + "\n"
        + (files if documents else "")
        + "\nWe will not chase these invoices while we look into it, and we will write to "
        "you with our answer. Your other invoices are not affected.\n",
        now=now,
    )


def _numbers(disputes: list[Dispute]) -> str:
    numbers = [d.invoice.number for d in disputes]
    return numbers[0] if len(numbers) == 1 else f"{len(numbers)} invoices"
