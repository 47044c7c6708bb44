"""Two workers at once, on PostgreSQL where they truly run side by side."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from invoices.services import payment_record
from invoices.tests.factories import InvoiceFactory
from webhooks.events import EventType
from webhooks.models import Delivery
from webhooks.services import deliveries_plan, endpoint_create
from webhooks.tasks import deliveries_send

from . import receiver as receiver_module

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite runs one writer at a time"
    ),
]


def _both(work):
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            work()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_two_runs_at_once_neither_double_nor_skip_an_event_and_send_each_once():
    receiver, server = receiver_module.start()
    try:
        endpoint_create(
            actor=None,
            url=receiver.url,
            description="",
            event_types=[EventType.PAYMENT_RECEIVED],
            now=timezone.now(),
        )
        for _ in range(10):
            invoice = InvoiceFactory()
            payment_record(
                actor=None,
                customer=invoice.customer,
                amount=Decimal("10.00"),
                received_on=dt.date(2026, 3, 15),
                allocations=[(invoice, Decimal("10.00"))],
            )

        _both(lambda: deliveries_plan(now=timezone.now(), batch=3))
        _both(lambda: deliveries_plan(now=timezone.now(), batch=100))
        _both(lambda: deliveries_send(now=timezone.now(), timeout=5))

        assert Delivery.objects.count() == 10
        ids = sorted(r.headers["webhook-id"] for r in receiver.received)
        assert ids == sorted(Delivery.objects.values_list("event_id", flat=True))
    finally:
        server.shutdown()
        server.server_close()
