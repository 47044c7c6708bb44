"""Reads for invoice copies. The newest copy of an invoice (the highest id: ids grow with
time) is the one shown and sent; older ones stay on file."""

import hashlib
import re
from collections.abc import Iterable

from django.db.models import Max
from django.urls import reverse

from letters.models import Document, DocumentKind


def _copies():
    return Document.objects.filter(kind=DocumentKind.INVOICE_COPY)


def newest_copy_ids(invoice_ids: Iterable[int]) -> dict[int, int]:
    """invoice id -> its newest copy's id, for those with one: one query."""
    ids = list(invoice_ids)
    if not ids:
        return {}
    rows = _copies().filter(invoice_id__in=ids).values("invoice_id").annotate(newest=Max("id"))
    return {row["invoice_id"]: row["newest"] for row in rows.order_by()}


def invoice_copy_newest(invoice_id: int) -> Document | None:
    return _copies().filter(invoice_id=invoice_id).order_by("-id").first()


def invoice_copies(invoice_id: int) -> list[Document]:
    """Every copy of the invoice, newest first, without their bytes."""
    return list(
        _copies()
        .filter(invoice_id=invoice_id)
        .select_related("created_by")
        .defer("content")
        .order_by("-id")
    )


def copies_to_send(invoice_ids: Iterable[int]) -> list[tuple[str, bytes]]:
    """(filename, PDF bytes) of the newest copy of each of these invoices that has one, in
    the order given, named by invoice number: two queries, whatever the number."""
    ids = list(invoice_ids)
    newest = newest_copy_ids(ids)
    if not newest:
        return []
    documents = {
        doc.invoice_id: doc
        for doc in _copies().filter(pk__in=newest.values()).select_related("invoice")
    }
    sent = []
    for invoice_id in ids:
        doc = documents.get(invoice_id)
        if doc is not None:
            number = re.sub(r"[^A-Za-z0-9._-]+", "-", doc.invoice.number)
            sent.append((f"invoice-{number}.pdf", bytes(doc.content)))
    return sent


def _url_by_id(name: str):
    # Reversing once for the whole table: a page lists up to hundreds of invoices.
    marker = 987654321
    head, tail = reverse(name, args=[marker]).rsplit(str(marker), 1)
    return lambda pk: f"{head}{pk}{tail}"


def with_copy_links(invoices: list) -> None:
    """Give each invoice of a table its newest copy's id (None without one), the URL of
    that copy and of its page of copies (to attach one): one query for the whole table."""
    newest = newest_copy_ids(invoice.pk for invoice in invoices)
    download, attach = _url_by_id("invoice_copies:download"), _url_by_id("invoice_copies:attach")
    for invoice in invoices:
        invoice.copy_id = newest.get(invoice.pk)
        invoice.copy_url = download(invoice.pk) if invoice.copy_id else ""
        invoice.attach_copy_url = attach(invoice.pk)


def copy_on_file(*, customer_id: int, content: bytes) -> Document | None:
    """The stored copy with exactly these bytes, so that a sent copy is not stored twice."""
    sha256 = hashlib.sha256(content).hexdigest()
    return (
        _copies()
        .filter(customer_id=customer_id, sha256=sha256)
        .defer("content")
        .order_by("-id")
        .first()
    )
