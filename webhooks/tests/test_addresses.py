"""A webhook may not reach the internal network: refused when saved, and again when sent."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from invoices.services import payment_record
from invoices.tests.factories import InvoiceFactory
from webhooks.events import EventType
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.services import deliveries_plan, endpoint_create
from webhooks.tasks import deliveries_send

from . import receiver as receiver_module

pytestmark = pytest.mark.django_db

NEW = {"description": "ERP", "event_types": ["payment.received"]}


@pytest.fixture
def receiver():
    receiver, server = receiver_module.start()
    yield receiver
    server.stop_hanging.set()
    server.shutdown()
    server.server_close()


def _add(client, url):
    response = client.post("/settings/webhooks/new/", {**NEW, "url": url})
    return response.status_code, response.content.decode()


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8000/hooks", "127.0.0.1 is a loopback address"),
        ("http://localhost:8000/hooks", "127.0.0.1 is a loopback address"),
        ("http://[::1]/hooks", "::1 is a loopback address"),
        ("http://10.0.0.5/hooks", "10.0.0.5 is a private address"),
        ("http://172.16.8.1/hooks", "172.16.8.1 is a private address"),
        ("https://192.168.1.20/hooks", "192.168.1.20 is a private address"),
        ("http://[fd12:3456::1]/hooks", "fd12:3456::1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[fe80::1]/hooks", "fe80::1 is a link-local address"),
        ("http://0.0.0.0/hooks", "0.0.0.0 is an unspecified address"),
        ("http://224.0.0.1/hooks", "224.0.0.1 is a multicast address"),
        ("http://240.0.0.1/hooks", "240.0.0.1 is a reserved address"),
        ("http://[::ffff:10.0.0.5]/hooks", "::ffff:10.0.0.5 is a private address"),
    ],
)
def test_an_internal_address_is_refused_with_a_message_and_nothing_saved(
    admin_client_, addresses_checked, url, kind
):
    status, page = _add(admin_client_, url)

    assert status == 200
    assert f"This URL reaches the internal network (address not allowed: {kind})" in page
    assert not Endpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="webhooks.endpoint.created").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://erp.example.com/hooks", "Use an http:// or https:// address."),
        ("https://ada:secret@erp.example.com/hooks", "Leave the user name and password out"),
        ("https://erp.invalid/hooks", "erp.invalid could not be found"),
    ],
)
def test_other_schemes_credentials_and_unknown_hosts_are_refused(
    admin_client_, addresses_checked, url, message
):
    status, page = _add(admin_client_, url)

    assert status == 200 and message in page
    assert not Endpoint.objects.exists()


def test_credentials_are_refused_even_where_internal_addresses_are_allowed(admin_client_):
    _, page = _add(admin_client_, "http://ada:secret@127.0.0.1:8000/hooks")

    assert "Leave the user name and password out" in page
    assert not Endpoint.objects.exists()


def test_a_public_address_is_saved(admin_client_, addresses_checked):
    _add(admin_client_, "https://93.184.215.14/hooks")

    assert Endpoint.objects.get().url == "https://93.184.215.14/hooks"


def test_editing_an_endpoint_to_an_internal_address_is_refused(admin_client_, addresses_checked):
    _add(admin_client_, "https://93.184.215.14/hooks")
    endpoint = Endpoint.objects.get()

    response = admin_client_.post(
        f"/settings/webhooks/{endpoint.pk}/edit/", {**NEW, "url": "http://10.1.2.3/hooks"}
    )

    assert "10.1.2.3 is a private address" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "https://93.184.215.14/hooks"


def test_internal_addresses_are_saved_where_the_setting_allows_them(admin_client_):
    _add(admin_client_, "http://10.0.0.5/erp-hooks")

    assert Endpoint.objects.get().url == "http://10.0.0.5/erp-hooks"


def _pay():
    invoice = InvoiceFactory()
    payment_record(
        actor=None,
        customer=invoice.customer,
        amount=Decimal("40.00"),
        received_on=dt.date(2026, 3, 15),
        allocations=[(invoice, Decimal("40.00"))],
    )


def test_a_saved_endpoint_whose_host_now_resolves_to_the_loopback_is_not_sent_to(
    receiver, settings
):
    # Saved when its name led elsewhere (or the check was off); now it resolves inside.
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    endpoint_create(
        actor=None,
        url=f"http://localhost:{port}/hooks",
        description="",
        event_types=[EventType.PAYMENT_RECEIVED],
        now=timezone.now(),
    )
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    _pay()
    now = timezone.now()

    deliveries_plan(now=now)
    assert deliveries_send(now=now, timeout=2) == 1

    assert receiver.received == []
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1 and delivery.last_status_code is None
    assert delivery.last_error == "address not allowed: 127.0.0.1 is a loopback address"
    assert Endpoint.objects.get().consecutive_failures == 1


def test_the_same_endpoint_is_sent_to_where_the_setting_allows_internal_addresses(receiver):
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    endpoint_create(
        actor=None,
        url=f"http://localhost:{port}/hooks",
        description="",
        event_types=[EventType.PAYMENT_RECEIVED],
        now=timezone.now(),
    )
    _pay()

    deliveries_plan(now=timezone.now())
    deliveries_send(now=timezone.now(), timeout=2)

    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_a_redirect_is_not_followed_and_counts_as_a_failure_with_its_status(receiver):
    elsewhere, other_server = receiver_module.start()
    try:
        receiver.answers = [(302, {"Location": elsewhere.url})]
        endpoint_create(
            actor=None,
            url=receiver.url,
            description="",
            event_types=[EventType.PAYMENT_RECEIVED],
            now=timezone.now(),
        )
        _pay()

        deliveries_plan(now=timezone.now())
        deliveries_send(now=timezone.now(), timeout=2)

        assert len(receiver.received) == 1
        assert elsewhere.received == []
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.last_status_code == 302
        assert f"redirects are not followed (to {elsewhere.url})" in delivery.last_error
    finally:
        other_server.shutdown()
        other_server.server_close()
