import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import AuditEvent
from invoices.models import DisputeReason
from invoices.services import dispute_open, payment_record
from invoices.tests.factories import InvoiceFactory
from webhooks.events import EventType
from webhooks.models import (
    DISABLE_AFTER_FAILURES,
    MAX_ATTEMPTS,
    Cursor,
    Delivery,
    DeliveryStatus,
    Endpoint,
)
from webhooks.services import deliveries_plan, delivery_replay, endpoint_create
from webhooks.tasks import deliveries_send

from . import receiver as receiver_module

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver, server = receiver_module.start()
    yield receiver
    server.stop_hanging.set()
    server.shutdown()
    server.server_close()


def _endpoint(url, *, events=(EventType.PAYMENT_RECEIVED,), actor=None):
    return endpoint_create(
        actor=actor,
        url=url,
        description="ERP",
        event_types=list(events),
        now=timezone.now(),
    )


def _pay(invoice, amount="40.00"):
    return payment_record(
        actor=None,
        customer=invoice.customer,
        amount=Decimal(amount),
        received_on=dt.date(2026, 3, 15),
        allocations=[(invoice, Decimal(amount))],
    )


def _run(now=None, timeout=2.0):
    now = now or timezone.now()
    deliveries_plan(now=now)
    return deliveries_send(now=now, timeout=timeout)


def test_a_recorded_payment_reaches_the_receiver_signed_and_verifiable(receiver):
    endpoint = _endpoint(receiver.url)
    invoice = InvoiceFactory(customer__external_id="ACME-1", number="INV-77")
    _pay(invoice)

    assert _run() == 1

    [got] = receiver.received
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "payment.received"
    assert payload["data"]["customer"]["external_id"] == "ACME-1"
    assert payload["data"]["invoice_numbers"] == ["INV-77"]
    assert payload["data"]["amount"] == {"value": "40.00", "currency": "GBP"}
    delivery = Delivery.objects.get()
    assert got.headers["webhook-id"] == delivery.event_id
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.last_status_code == 200
    assert delivery.last_response_body == "answered 200"


def test_payload_money_is_strings_never_numbers(receiver):
    _endpoint(receiver.url)
    _pay(InvoiceFactory(), amount="12.50")

    _run()

    raw = json.loads(receiver.received[0].body)
    assert isinstance(raw["data"]["amount"]["value"], str)
    assert '"12.50"' in receiver.received[0].body.decode()
    assert "12.5," not in receiver.received[0].body.decode()


def test_a_wrong_secret_does_not_verify(receiver):
    _endpoint(receiver.url)
    _pay(InvoiceFactory())
    _run()

    got = receiver.received[0]
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 32).verify(got.body, got.headers)


def test_an_event_not_chosen_is_not_sent(receiver):
    _endpoint(receiver.url, events=[EventType.DISPUTE_OPENED])
    invoice = InvoiceFactory()
    _pay(invoice)
    opened_on = dt.date(2026, 3, 16)
    dispute_open(actor=None, invoice=invoice, reason=DisputeReason.QUALITY, opened_on=opened_on)

    _run()

    assert [json.loads(r.body)["type"] for r in receiver.received] == ["dispute.opened"]


def test_a_receiver_answering_500_gets_the_retry_after_the_back_off(receiver):
    _endpoint(receiver.url)
    receiver.answers = [500]
    _pay(InvoiceFactory())
    now = timezone.now()

    _run(now)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at == now + dt.timedelta(minutes=1)

    assert deliveries_send(now=now + dt.timedelta(seconds=30)) == 0  # not yet due
    assert deliveries_send(now=now + dt.timedelta(minutes=1)) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 2
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_a_receiver_that_hangs_times_out_and_is_retried(receiver):
    _endpoint(receiver.url)
    receiver.answers = ["hang"]
    _pay(InvoiceFactory())
    now = timezone.now()

    _run(now, timeout=0.5)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_status_code is None
    assert "timed out" in delivery.last_error.lower()

    deliveries_send(now=now + dt.timedelta(minutes=1), timeout=2)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_repeated_failures_disable_the_endpoint_and_admins_are_told(
    receiver, admin_user, client, django_capture_on_commit_callbacks
):
    admin_user.email = "ada@example.com"
    admin_user.save()
    endpoint = _endpoint(receiver.url)
    receiver.answers = [503] * DISABLE_AFTER_FAILURES
    for _ in range(DISABLE_AFTER_FAILURES + 1):
        _pay(InvoiceFactory())

    with django_capture_on_commit_callbacks(execute=True):
        _run()

    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "20 deliveries in a row failed" in endpoint.disabled_reason
    assert len(receiver.received) == DISABLE_AFTER_FAILURES  # the 21st waits, unsent
    assert AuditEvent.objects.filter(action="webhooks.endpoint.disabled").count() == 1
    assert mail.outbox[0].to == ["ada@example.com"]
    assert receiver.url in mail.outbox[0].body
    client.force_login(admin_user)
    page = client.get("/settings/webhooks/").content.decode()
    assert "was disabled" in page and "20 deliveries in a row failed" in page

    # Disabled: nothing more is sent until an admin enables it again.
    _pay(InvoiceFactory())
    assert _run(timezone.now() + dt.timedelta(minutes=2)) == 0
    client.post(f"/settings/webhooks/{endpoint.pk}/enable/", {"missed": "skip"})
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0


def test_a_delivery_failing_every_retry_is_given_up_and_the_endpoint_disabled(receiver):
    endpoint = _endpoint(receiver.url)
    receiver.answers = [500] * MAX_ATTEMPTS
    _pay(InvoiceFactory())
    now = timezone.now()
    _run(now)
    delivery = Delivery.objects.get()
    for _ in range(MAX_ATTEMPTS - 1):
        # Each retry comes after its back-off; sign with a fresh clock so it still verifies.
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now)
        deliveries_send(now=now)

    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.status == DeliveryStatus.GIVEN_UP
    assert delivery.attempts == MAX_ATTEMPTS
    assert len(receiver.received) == MAX_ATTEMPTS
    assert not endpoint.active
    assert "every retry" in endpoint.disabled_reason


def test_replay_sends_again_with_the_same_webhook_id(receiver, admin_user, client):
    endpoint = _endpoint(receiver.url)
    _pay(InvoiceFactory())
    _run()
    delivery = Delivery.objects.get()

    client.force_login(admin_user)
    response = client.post(f"/settings/webhooks/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 302
    assert deliveries_send(now=timezone.now()) == 1

    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.event_id
    Webhook(endpoint.secret).verify(again.body, again.headers)
    assert AuditEvent.objects.filter(action="webhooks.delivery.replayed").count() == 1


def test_the_cursor_never_doubles_or_skips_across_runs(receiver):
    _endpoint(receiver.url)
    first, second = InvoiceFactory(), InvoiceFactory()
    _pay(first)
    deliveries_plan(now=timezone.now())
    deliveries_plan(now=timezone.now())  # nothing new: nothing made twice
    _pay(second)
    deliveries_plan(now=timezone.now())

    ids = [p["data"]["audit_event_id"] for p in Delivery.objects.values_list("payload", flat=True)]
    recorded = AuditEvent.objects.filter(action="ledger.payment.recorded").order_by("id")
    assert sorted(ids) == [event.pk for event in recorded]
    assert Cursor.current().last_audit_id >= recorded.last().pk


def test_an_endpoint_does_not_get_what_happened_before_it_was_added(receiver):
    _pay(InvoiceFactory())
    _endpoint(receiver.url)
    _pay(InvoiceFactory())

    _run()

    assert len(receiver.received) == 1


def test_a_stale_sending_claim_is_sent_again(receiver):
    _endpoint(receiver.url)
    _pay(InvoiceFactory())
    now = timezone.now()
    deliveries_plan(now=now)
    Delivery.objects.update(status=DeliveryStatus.SENDING, claimed_at=now - dt.timedelta(hours=1))

    assert deliveries_send(now=now) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_a_sending_delivery_cannot_be_replayed(receiver, admin_user):
    _endpoint(receiver.url)
    _pay(InvoiceFactory())
    deliveries_plan(now=timezone.now())
    delivery = Delivery.objects.get()
    Delivery.objects.update(status=DeliveryStatus.SENDING, claimed_at=timezone.now())
    delivery.refresh_from_db()

    with pytest.raises(Exception, match="being sent"):
        delivery_replay(actor=admin_user, delivery=delivery, now=timezone.now())


def test_unused_endpoint_secret_is_standard_webhooks_shaped():
    endpoint = _endpoint("https://example.com/hooks")
    assert endpoint.secret.startswith("whsec_")
    Webhook(endpoint.secret)  # decodes
    assert Endpoint.objects.count() == 1


def test_the_worker_runs_webhooks_every_minute():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="webhooks")
    assert (schedule.func, schedule.minutes) == ("webhooks.tasks.webhooks_task", 1)
