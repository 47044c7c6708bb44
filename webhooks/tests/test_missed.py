"""Re-enabling a disabled endpoint: the admin chooses to also send what it missed while
disabled, or to start from now."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import AuditEvent
from invoices.models import DisputeReason
from invoices.services import dispute_open, payment_record
from invoices.tests.factories import InvoiceFactory
from webhooks import selectors, services
from webhooks.events import EventType
from webhooks.models import Delivery, Endpoint
from webhooks.services import deliveries_plan, endpoint_create, endpoint_disable
from webhooks.tasks import deliveries_send

from . import receiver as receiver_module

pytestmark = pytest.mark.django_db


@pytest.fixture
def receivers():
    started = [receiver_module.start() for _ in range(2)]
    yield [receiver for receiver, _ in started]
    for _, server in started:
        server.shutdown()
        server.server_close()


def _endpoint(url):
    return endpoint_create(
        actor=None,
        url=url,
        description="",
        event_types=[EventType.PAYMENT_RECEIVED],
        now=timezone.now(),
    )


def _pay():
    invoice = InvoiceFactory()
    return payment_record(
        actor=None,
        customer=invoice.customer,
        amount=Decimal("25.00"),
        received_on=dt.date(2026, 3, 15),
        allocations=[(invoice, Decimal("25.00"))],
    )


def _run():
    deliveries_plan(now=timezone.now())
    deliveries_send(now=timezone.now(), timeout=2)


def _ids(receiver):
    return [got.headers["webhook-id"] for got in receiver.received]


def _paid_while_disabled(receivers):
    """Endpoint `hooked` disabled after one delivery; three payments (and a dispute it does
    not hear) happen meanwhile, which `other` gets. Returns (hooked, webhook ids missed)."""
    receiver, other = receivers
    hooked = _endpoint(receiver.url)
    _endpoint(other.url)
    _pay()
    _run()
    endpoint_disable(endpoint=hooked, reason="the receiver was down", now=timezone.now())
    for _ in range(3):
        _pay()
    dispute_open(
        actor=None,
        invoice=InvoiceFactory(),
        reason=DisputeReason.QUALITY,
        opened_on=dt.date(2026, 3, 16),
    )
    _run()
    assert len(receiver.received) == 1 and len(other.received) == 4
    return hooked, _ids(other)[1:]


def test_the_page_offers_to_send_the_missed_events_or_to_start_from_now(receivers, admin_client_):
    hooked, _ = _paid_while_disabled(receivers)

    page = admin_client_.get(f"/settings/webhooks/{hooked.pk}/").content.decode()

    assert "Also send the 3 events it missed while disabled (since" in page
    assert "Start from now" in page
    assert "Enable this endpoint" in page


def test_sending_the_missed_events_delivers_exactly_those_once_each_signed(
    receivers, admin_client_
):
    receiver, other = receivers
    hooked, missed = _paid_while_disabled(receivers)

    response = admin_client_.post(
        f"/settings/webhooks/{hooked.pk}/enable/", {"missed": "send"}, follow=True
    )
    _run()
    _run()  # a second run, and a second click, double nothing
    admin_client_.post(f"/settings/webhooks/{hooked.pk}/enable/", {"missed": "send"})
    _run()

    assert "the 3 events it missed will be sent" in response.content.decode()
    assert _ids(receiver)[1:] == missed
    secret = Endpoint.objects.get(pk=hooked.pk).secret
    for got, theirs in zip(receiver.received[1:], other.received[1:], strict=True):
        assert Webhook(secret).verify(got.body, got.headers) == json.loads(theirs.body)
    enabled = AuditEvent.objects.get(action="webhooks.endpoint.enabled")
    assert enabled.actor.username == "ada"
    assert (enabled.data["missed"], enabled.data["missed_count"]) == ("sent", 3)


def test_starting_from_now_sends_none_of_them_but_what_comes_next(receivers, admin_client_):
    receiver, _ = receivers
    hooked, missed = _paid_while_disabled(receivers)

    admin_client_.post(f"/settings/webhooks/{hooked.pk}/enable/", {"missed": "skip"})
    _run()
    _pay()
    _run()
    _run()

    assert len(receiver.received) == 2
    assert not set(_ids(receiver)) & set(missed)
    enabled = AuditEvent.objects.get(action="webhooks.endpoint.enabled")
    assert (enabled.data["missed"], enabled.data["missed_count"]) == ("skipped", 3)
    assert "the 3 events it missed are not sent" in enabled.summary


def test_enabling_without_choosing_is_refused_and_it_stays_disabled(receivers, admin_client_):
    hooked, _ = _paid_while_disabled(receivers)

    response = admin_client_.post(f"/settings/webhooks/{hooked.pk}/enable/", follow=True)

    assert "Choose whether to also send the events it missed" in response.content.decode()
    assert not Endpoint.objects.get(pk=hooked.pk).active


def test_an_event_from_before_the_disabling_that_was_not_planned_yet_counts_as_missed(
    receivers, admin_client_
):
    receiver, other = receivers
    hooked = _endpoint(receiver.url)
    _endpoint(other.url)
    _pay()  # not planned yet when the endpoint is disabled
    endpoint_disable(endpoint=hooked, reason="the receiver was down", now=timezone.now())
    _run()

    admin_client_.post(f"/settings/webhooks/{hooked.pk}/enable/", {"missed": "send"})
    _run()

    assert _ids(receiver) == _ids(other)


def test_an_endpoint_that_missed_nothing_is_enabled_without_a_choice(receivers, admin_client_):
    receiver, _ = receivers
    hooked = _endpoint(receiver.url)
    endpoint_disable(endpoint=hooked, reason="the receiver was down", now=timezone.now())

    page = admin_client_.get(f"/settings/webhooks/{hooked.pk}/").content.decode()
    admin_client_.post(f"/settings/webhooks/{hooked.pk}/enable/")

    assert "It missed no events while disabled." in page
    assert Endpoint.objects.get(pk=hooked.pk).active


def test_only_the_latest_events_up_to_the_cap_are_sent_and_the_page_says_so(
    receivers, admin_client_, monkeypatch
):
    monkeypatch.setattr(selectors, "MISSED_CAP", 2)
    monkeypatch.setattr(services, "MISSED_CAP", 2)
    receiver, _ = receivers
    hooked, missed = _paid_while_disabled(receivers)

    page = admin_client_.get(f"/settings/webhooks/{hooked.pk}/").content.decode()
    admin_client_.post(f"/settings/webhooks/{hooked.pk}/enable/", {"missed": "send"})
    _run()

    assert "Only the latest 2 can be sent" in page and "the 1 before them are not" in page
    assert _ids(receiver)[1:] == missed[1:]
    assert Delivery.objects.filter(endpoint=hooked).count() == 3
