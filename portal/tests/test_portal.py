import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from collections_app import ratelimit as counts
from invoice_copies.tests.pdfs import pdf_bytes
from invoices.models import Payment
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from letters.models import Document, DocumentKind
from letters.render import SAMPLE_PORTAL_URL
from portal import ratelimit
from portal.models import PortalLink
from portal.services import (
    portal_link_make,
    portal_link_resolve,
    portal_link_revoke,
    portal_url_for_message,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


def _link(customer=None, **kwargs):
    contact = ContactFactory(customer=customer or CustomerFactory())
    now = kwargs.pop("now", timezone.now())
    return portal_link_make(customer=contact.customer, contact=contact, now=now, **kwargs)


def _path(url):
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _document(customer, kind, invoice=None):
    content = pdf_bytes("x")
    return Document.objects.create(
        customer=customer,
        invoice=invoice,
        kind=kind,
        filename=f"{kind}.pdf",
        content=content,
        size=len(content),
        sha256="0" * 64,
    )


def test_a_link_resolves_and_counts_its_use():
    link, url = _link()
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert portal_link_resolve(token, now=timezone.now()) == link
    link.refresh_from_db()
    assert link.uses == 1 and link.last_used_at is not None
    assert token not in link.token_hash
    assert AuditEvent.objects.filter(action="portal.link.made").count() == 1


def test_an_expired_link_does_not_resolve():
    link, url = _link(now=timezone.now() - dt.timedelta(days=61))
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert portal_link_resolve(token, now=timezone.now()) is None


def test_a_revoked_link_does_not_resolve(admin_user):
    link, url = _link()
    portal_link_revoke(actor=admin_user, link=link, now=timezone.now())
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert portal_link_resolve(token, now=timezone.now()) is None
    assert AuditEvent.objects.filter(action="portal.link.revoked").count() == 1


def test_forged_expired_revoked_and_foreign_ids_get_the_same_404(client, admin_user):
    link, url = _link()
    other, _ = _link()
    invoice = InvoiceFactory(customer=other.customer)
    _document(other.customer, DocumentKind.INVOICE_COPY, invoice)
    letter = _document(other.customer, DocumentKind.LETTER)
    good = _path(url)
    token = good.strip("/").rsplit("/", 1)[1]
    forged = client.get(reverse("portal:page", args=["x" * 43]))
    foreign_copy = client.get(reverse("portal:invoice_copy", args=[token, invoice.pk]))
    foreign_letter = client.get(reverse("portal:letter", args=[token, letter.pk]))
    portal_link_revoke(actor=admin_user, link=link, now=timezone.now())
    reused = client.get(good)
    answers = [forged, foreign_copy, foreign_letter, reused]
    assert {r.status_code for r in answers} == {404}
    assert len({r.content for r in answers}) == 1
    assert reused["Cache-Control"] == "private, no-store"


def test_the_page_lists_only_the_customers_open_invoices_and_payments(client):
    customer = CustomerFactory()
    InvoiceFactory(customer=customer, number="MINE-1")
    InvoiceFactory(number="THEIRS-1")
    Payment.objects.create(
        customer=customer,
        amount=Decimal("12.34"),
        unapplied=Decimal("12.34"),
        received_on=timezone.localdate(),
        currency=customer.currency,
        reference="REF-OK",
    )
    Payment.objects.create(
        customer=customer,
        amount=Decimal("9.99"),
        unapplied=Decimal("9.99"),
        received_on=timezone.localdate(),
        currency=customer.currency,
        reference="REF-BOUNCED",
        reversed_on=timezone.localdate(),
    )
    _link_, url = _link(customer)
    response = client.get(_path(url))
    body = response.content.decode()
    assert response.status_code == 200
    assert "MINE-1" in body and "THEIRS-1" not in body
    assert "REF-OK" in body and "REF-BOUNCED" not in body
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_statement_downloads_as_a_pdf(client):
    customer = CustomerFactory()
    InvoiceFactory(customer=customer)
    _link_, url = _link(customer)
    response = client.get(_path(url) + "statement/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_an_own_invoice_copy_downloads(client):
    customer = CustomerFactory()
    invoice = InvoiceFactory(customer=customer)
    _document(customer, DocumentKind.INVOICE_COPY, invoice)
    _link_, url = _link(customer)
    response = client.get(_path(url) + f"invoices/{invoice.pk}/copy/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_too_many_requests_get_429(client, monkeypatch):
    monkeypatch.setattr(ratelimit, "LIMIT", 3)
    # One minute's window throughout: a minute turning mid-test would reset the count.
    monkeypatch.setattr(counts, "time", SimpleNamespace(time=lambda: 1_800_000_010.0))
    _link_, url = _link()
    codes = [client.get(_path(url)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize("size", [5, 50])
def test_the_page_costs_the_same_queries_whatever_the_invoices(client, size):
    customer = CustomerFactory()
    for _ in range(size):
        InvoiceFactory(customer=customer)
    _link_, url = _link(customer)
    client.get(_path(url))
    with CaptureQueriesContext(connection) as queries:
        client.get(_path(url))
    # Resolve (1) + use (1) + page reads; fixed whatever the size.
    assert len(queries) == PAGE_QUERIES


# + the customer's requests (portal.selectors.customer_requests)
# + the invoices the satisfaction check asked about (portal.checks.pending_checks)
PAGE_QUERIES = 10


def test_messages_reuse_a_working_link_and_previews_make_none(client):
    contact = ContactFactory()
    now = timezone.now()
    first = portal_url_for_message(contact=contact, now=now)
    again = portal_url_for_message(contact=contact, now=now + dt.timedelta(days=1))
    assert first == again
    assert client.get(_path(first)).status_code == 200
    later = portal_url_for_message(contact=contact, now=now + dt.timedelta(days=31))
    assert later != first
    assert PortalLink.objects.count() == 2


def test_previews_show_a_placeholder_and_make_no_link():
    from letters.render import sample_context

    context = sample_context()
    assert context["portal_url"] == SAMPLE_PORTAL_URL
    assert not PortalLink.objects.exists()
