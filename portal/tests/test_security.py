"""Every public URL of the customer's page, read from portal/urls.py (each route that starts
with the token), so a new journey is covered the day it is added: a stale, forged or
revoked link and another customer's ids all get the one plain 404; the rate limit answers
429 to GETs and POSTs; a POST without its CSRF token is refused; every answer is private."""

import datetime as dt
import secrets
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from audit.models import AuditEvent
from collections_app import ratelimit as counts
from invoice_copies.tests.pdfs import pdf_bytes
from invoices.models import Customer, DebtorType
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from letters.models import Document, DocumentKind
from portal import ratelimit
from portal import urls as portal_urls
from portal.models import CheckoutSession, CustomerRequest, RequestKind, RequestStatus
from portal.services import portal_link_make, portal_link_revoke
from portal.views import PRIVATE_HEADERS, not_found

pytestmark = pytest.mark.django_db


def _public_patterns() -> dict[str, URLPattern]:
    patterns = {}
    for pattern in portal_urls.urlpatterns:
        if str(pattern.pattern).startswith("<str:token>"):
            patterns[pattern.name] = pattern
    return patterns


PUBLIC = _public_patterns()
WITH_IDS = sorted(name for name, p in PUBLIC.items() if set(p.pattern.converters) - {"token"})
WITHOUT_IDS = sorted(set(PUBLIC) - set(WITH_IDS))


def test_the_list_of_public_urls_is_read_from_the_url_configuration():
    assert {"page", "statement", "invoice_copy", "letter", "contact", "opt_out"} <= set(PUBLIC)
    assert {"invoice_copy", "letter"} <= set(WITH_IDS)


@pytest.fixture(autouse=True)
def _fresh_limits():
    # The limits count per IP in the cache: leave none counted for the tests that follow.
    cache.clear()
    yield
    cache.clear()


def _url(name: str, token: str, pk: int = 1) -> str:
    ids = {arg: pk for arg in PUBLIC[name].pattern.converters if arg != "token"}
    return reverse(f"portal:{name}", kwargs={"token": token, **ids})


def _open(client, url: str, **data):
    """The URL as its page is used: a GET, or a POST where the page takes only POSTs."""
    response = client.get(url)
    return client.post(url, data) if response.status_code == 405 else response


def _link(customer: Customer | None = None, *, now=None):
    customer = customer or CustomerFactory(debtor_type=DebtorType.CONSUMER, country="US")
    contact = customer.contacts.first() or ContactFactory(customer=customer)
    link, url = portal_link_make(
        customer=customer, contact=contact, now=now or timezone.now(), actor=None
    )
    return link, url.rstrip("/").rsplit("/", 1)[1]


def _is_the_plain_404(response) -> bool:
    return (response.status_code, response.content) == (404, not_found().content)


def _private(response) -> bool:
    return all(response.get(name) == value for name, value in PRIVATE_HEADERS.items())


# --- stale, forged and revoked links ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_an_expired_link_gets_the_plain_404(client, name):
    _link_, token = _link(now=timezone.now() - dt.timedelta(days=settings.PORTAL_LINK_DAYS + 1))

    response = _open(client, _url(name, token))

    assert _is_the_plain_404(response) and _private(response)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_a_forged_link_gets_the_plain_404(client, name):
    _link()  # a real link exists, just not this one
    forged = secrets.token_urlsafe(32)

    response = _open(client, _url(name, forged))

    assert _is_the_plain_404(response) and _private(response)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_a_revoked_link_gets_the_plain_404(client, name, collector):
    link, token = _link()
    portal_link_revoke(actor=collector, link=link, now=timezone.now())

    response = _open(client, _url(name, token))

    assert _is_the_plain_404(response) and _private(response)


def test_a_link_used_before_it_was_revoked_then_gets_the_plain_404_everywhere(client, collector):
    link, token = _link()
    assert client.get(_url("page", token)).status_code == 200

    portal_link_revoke(actor=collector, link=link, now=timezone.now())

    for name in sorted(PUBLIC):
        assert _is_the_plain_404(_open(client, _url(name, token))), name


# --- another customer's ids --------------------------------------------------------------------


def _document(customer, kind, invoice=None) -> Document:
    content = pdf_bytes("theirs")
    return Document.objects.create(
        customer=customer,
        invoice=invoice,
        kind=kind,
        filename=f"{kind}.pdf",
        content=content,
        size=len(content),
        sha256="0" * 64,
    )


def _everything_of(customer: Customer) -> set[int]:
    """One of each thing a public URL names by id, all another customer's: their ids."""
    contact = ContactFactory(customer=customer)
    invoice = InvoiceFactory(customer=customer)
    copy = _document(customer, DocumentKind.INVOICE_COPY, invoice)
    letter = _document(customer, DocumentKind.LETTER)
    offer = CustomerRequest.objects.create(
        customer=customer,
        contact=contact,
        kind=RequestKind.PLAN,
        status=RequestStatus.COUNTERED,
        proposal={"instalments": []},
        counter={"instalments": []},
        made_at=timezone.now(),
    )
    checkout = CheckoutSession.objects.create(
        session_id="cs_theirs",
        customer=customer,
        contact=contact,
        amount=Decimal("10.00"),
        currency=customer.currency,
        invoice_ids=[invoice.pk],
        created_at=timezone.now(),
    )
    return {invoice.pk, copy.pk, letter.pk, offer.pk, checkout.pk}


@pytest.mark.parametrize("name", WITH_IDS)
def test_another_customers_ids_get_the_plain_404_with_a_good_link(client, name):
    _link_, token = _link()  # customer A, who has nothing of their own
    theirs = CustomerFactory(name="Customer B")
    ids = _everything_of(theirs)
    trail = AuditEvent.objects.count()

    for pk in sorted(ids):
        response = _open(client, _url(name, token, pk), action="confirm")
        assert _is_the_plain_404(response), (name, pk)
    assert AuditEvent.objects.count() == trail


def test_the_same_ids_open_with_their_own_customers_link(client):
    # The control for the test above: its 404s come from whose link it is, not bad ids.
    theirs = CustomerFactory(name="Customer B")
    _everything_of(theirs)
    _link_, token = _link(theirs)
    copy = Document.objects.get(kind=DocumentKind.INVOICE_COPY)
    letter = Document.objects.get(kind=DocumentKind.LETTER)
    offer = CustomerRequest.objects.get()

    assert client.get(_url("invoice_copy", token, copy.invoice_id)).status_code == 200
    assert client.get(_url("letter", token, letter.pk)).status_code == 200
    assert client.get(_url("request_accept", token, offer.pk)).status_code == 200


# --- rate limits, CSRF, private headers ---------------------------------------------------------


@pytest.fixture
def limit_of_3(monkeypatch):
    """A limit of 3 a minute, inside one minute: the window does not turn mid-test."""
    monkeypatch.setattr(ratelimit, "LIMIT", 3)
    monkeypatch.setattr(counts, "time", SimpleNamespace(time=lambda: 1_800_000_010.0))


def test_gets_over_the_limit_get_429(client, limit_of_3):
    _link_, token = _link()

    codes = [client.get(_url("contact", token)).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


def test_posts_over_the_limit_get_429_and_change_nothing(client, limit_of_3):
    _link_, token = _link()

    codes = [
        client.post(_url("contact", token), {"action": "confirm"}).status_code for _ in range(4)
    ]

    assert codes == [302, 302, 302, 429]
    assert AuditEvent.objects.filter(action="portal.contact.confirmed").count() == 3


def test_forged_tokens_count_against_the_limit_too(client, limit_of_3):

    codes = [client.get(_url("page", secrets.token_urlsafe(32))).status_code for _ in range(4)]

    assert codes == [404, 404, 404, 429]


def test_the_429_is_private_and_says_when_to_retry(client, monkeypatch):
    monkeypatch.setattr(ratelimit, "LIMIT", 0)
    _link_, token = _link()

    response = client.get(_url("page", token))

    assert response.status_code == 429 and response["Retry-After"] and _private(response)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_a_post_without_its_csrf_token_is_refused(name):
    _link_, token = _link()
    trail = AuditEvent.objects.count()

    response = Client(enforce_csrf_checks=True).post(_url(name, token), {"action": "confirm"})

    assert response.status_code == 403
    assert AuditEvent.objects.count() == trail


@pytest.mark.parametrize("name", WITHOUT_IDS)
def test_answers_with_a_good_link_are_private(client, name):
    _link_, token = _link()

    response = _open(client, _url(name, token))

    assert response.status_code < 500
    assert _private(response)
