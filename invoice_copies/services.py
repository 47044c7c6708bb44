"""Writes for invoice copies: attaching a PDF to an invoice, one by one or a ZIP at a time.

A copy is a letters.Document (kind invoice_copy) tied to its invoice: stored once and never
changed or deleted. An invoice may gather several; the newest is the one shown and sent."""

import hashlib
import io
import logging
import re
from dataclasses import dataclass

from django.db import transaction
from pypdf import PdfReader

from accounts.roles import may_change, refusal
from audit.services import audit_record
from invoices.models import Invoice
from letters.models import Document, DocumentKind

from .archive import MAX_MEMBER_BYTES, MB, archive_read
from .exceptions import CopyError
from .report import CopiesReport

log = logging.getLogger(__name__)

MAX_PDF_BYTES = MAX_MEMBER_BYTES


@dataclass(frozen=True)
class Attached:
    document: Document
    created: bool  # False: the same PDF was already on file for this invoice


def pdf_problem(content: bytes) -> str:
    """Why these bytes are not a PDF we can keep and send (blank when they are one). Read
    with pypdf, so that a copy appended to a posted letter later cannot fail it."""
    if not content:
        return "The file is empty."
    if len(content) > MAX_PDF_BYTES:
        return f"The file is over {MAX_PDF_BYTES // MB} MB."
    if not content.startswith(b"%PDF-"):
        return "The file is not a PDF."
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            return "The PDF is password-protected: save it without a password first."
        if not len(reader.pages):
            return "The PDF has no pages."
    except Exception:  # pypdf raises many kinds on a damaged file
        log.info("an uploaded PDF could not be read", exc_info=True)
        return "The PDF is damaged: it cannot be read."
    return ""


def copy_filename(name: str, invoice: Invoice) -> str:
    """The name a copy is stored and sent under: the upload's own, without its folders or
    characters a download header would trip over; the invoice number if nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9 ._()-]+", "-", base).strip(" .-")
    if not base.lower().endswith(".pdf"):
        base = f"{base}.pdf" if base else ""
    if len(base) <= 4:
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", invoice.number) + ".pdf"
    return base[-200:]


@transaction.atomic
def copy_attach(
    *, actor, invoice: Invoice, filename: str, content: bytes, archive: str = ""
) -> Attached:
    """Attach a PDF to the invoice as its copy and audit it. The same bytes already on file
    for it store nothing new (created False). Raises CopyError when the bytes are not a
    readable PDF or the actor may not change the invoice's customer."""
    customer = invoice.customer
    if actor is not None and not may_change(actor, customer):
        raise CopyError(refusal(actor, customer))
    problem = pdf_problem(content)
    if problem:
        raise CopyError(problem)
    sha256 = hashlib.sha256(content).hexdigest()
    existing = (
        Document.objects.filter(invoice=invoice, kind=DocumentKind.INVOICE_COPY, sha256=sha256)
        .order_by("-id")
        .first()
    )
    if existing is not None:
        return Attached(existing, created=False)
    document = Document.objects.create(
        kind=DocumentKind.INVOICE_COPY,
        customer=customer,
        invoice=invoice,
        filename=copy_filename(filename, invoice),
        content=content,
        created_by=actor,
    )
    data = {
        "document_id": document.pk,
        "invoice": invoice.number,
        "filename": document.filename,
        "size": document.size,
        "sha256": document.sha256,
    }
    if archive:
        data["archive"] = archive
    audit_record(
        action="ledger.invoice.copy_attached",
        actor=actor,
        customer_id=customer.pk,
        invoice_id=invoice.pk,
        summary=f"Copy of invoice {invoice.number} attached ({document.filename})",
        data=data,
    )
    return Attached(document, created=True)


def _invoices_named(stems: set[str]) -> dict[str, Invoice]:
    """Invoices by the upper-cased number, for names as given or in another case."""
    variants = stems | {s.upper() for s in stems} | {s.lower() for s in stems}
    found = {}
    for invoice in Invoice.objects.filter(number__in=variants).select_related("customer"):
        found.setdefault(invoice.number.upper(), invoice)
        found[invoice.number] = invoice  # an exact match wins over another case
    return found


@transaction.atomic
def copies_import_zip(*, actor, upload) -> CopiesReport:
    """Attach each PDF of a ZIP to the invoice its file is named by (INV-1001.pdf, in any
    folder), and report every file's fate. Raises ArchiveRefused, attaching nothing, when
    the ZIP is damaged or too big (archive.archive_read); one bad file only fails itself.

    1. Read the archive, capped (archive.archive_read).
    2. Find the invoices named, in one query.
    3. Attach each file whose invoice the actor may change; report the rest."""
    archive_name = (getattr(upload, "name", "") or "upload.zip")[-200:]
    members = archive_read(upload)
    report = CopiesReport(archive=archive_name)
    invoices = _invoices_named({m.stem for m in members if m.content is not None})
    for member in members:
        if member.content is None:
            report.add(member.name, member.skipped, detail=member.detail)
            continue
        invoice = invoices.get(member.stem) or invoices.get(member.stem.upper())
        if invoice is None:
            report.add(member.name, "unknown", invoice=member.stem)
            continue
        whose = {
            "invoice": invoice.number,
            "customer": invoice.customer.name,
            "customer_id": invoice.customer_id,
        }
        if not may_change(actor, invoice.customer):
            report.add(member.name, "not_yours", **whose)
            continue
        try:
            attached = copy_attach(
                actor=actor,
                invoice=invoice,
                filename=member.name,
                content=member.content,
                archive=archive_name,
            )
        except CopyError as error:
            report.add(member.name, "not_pdf", detail=str(error), **whose)
        else:
            report.add(member.name, "attached" if attached.created else "duplicate", **whose)
    return report
