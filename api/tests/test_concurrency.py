"""Two requests creating the same row at once, on PostgreSQL where they truly run side by side:
neither fails; the second is the upsert it asked for, applied as an update."""

import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.services import _CHAIN_LOCK_KEY
from invoices.models import Contact, Customer, Invoice
from invoices.tests.factories import CustomerFactory
from tests.locks import sessions_waiting_on_locks

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite runs one writer at a time"
    ),
]


def _at_once(raw: str, calls: list[tuple[str, str, dict]]) -> list:
    """Send the calls from threads at the same moment; returns their responses in order.

    The audit trail's lock is held meanwhile, so each has read that nothing is on file and
    is waiting to write before any commits: the race happens every run, not by luck."""
    barrier = threading.Barrier(len(calls))
    responses, errors = [None] * len(calls), []

    def send(place, method, url, body):
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            barrier.wait()
            responses[place] = getattr(client, method)(url, body, format="json")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n, *call)) for n, call in enumerate(calls)]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while sessions_waiting_on_locks() < len(calls) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sessions_waiting_on_locks() == len(calls), "the requests did not meet"
    for thread in threads:
        thread.join()
    assert errors == []
    return responses


@pytest.fixture
def raw(make_token):
    _token, raw = make_token()
    return raw


def _the_update(responses, sent):
    """The body sent by the request that answered 200 (the one that lost the race)."""
    assert sorted(r.status_code for r in responses) == [200, 201], [r.json() for r in responses]
    return next(body for r, body in zip(responses, sent, strict=True) if r.status_code == 200)


def test_two_puts_creating_one_customer_give_one_customer_with_the_later_change(raw):
    sent = [{"name": "Acme"}, {"name": "Acme Ltd"}]

    responses = _at_once(raw, [("put", "/api/v1/customers/C9/", body) for body in sent])

    loser = _the_update(responses, sent)
    assert Customer.objects.get(external_id="C9").name == loser["name"]
    assert AuditEvent.objects.filter(action="ledger.customer.created").count() == 1
    assert AuditEvent.objects.filter(action="ledger.customer.updated").count() == 1


def test_two_puts_creating_one_invoice_give_one_invoice_with_the_later_amount(raw):
    CustomerFactory(external_id="C1")
    sent = [
        {"customer": "C1", "issue_date": "2026-01-01", "due_date": "2026-01-31", "amount": a}
        for a in ("100.00", "120.00")
    ]

    responses = _at_once(raw, [("put", "/api/v1/invoices/INV-9/", body) for body in sent])

    loser = _the_update(responses, sent)
    assert str(Invoice.objects.get(number="INV-9").amount) == loser["amount"]
    assert AuditEvent.objects.filter(action="ledger.invoice.created").count() == 1


def test_two_posts_creating_one_contact_give_one_contact(raw):
    CustomerFactory(external_id="C1")
    sent = [{"customer": "C1", "email": "ap@acme.test", "name": name} for name in ("Ann", "Bo")]

    responses = _at_once(raw, [("post", "/api/v1/contacts/", body) for body in sent])

    loser = _the_update(responses, sent)
    assert Contact.objects.get(customer__external_id="C1").name == loser["name"]
