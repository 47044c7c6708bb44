"""The ESP tracking webhooks over HTTP, per ESP: posts shaped and proved as each ESP sends
them, to the URL that ESP dashboards are configured with."""

import datetime as dt
import importlib

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import OperationalError, connection
from django.test import Client
from django.urls import clear_url_caches

from audit.models import AuditEvent
from dunning.models import DeliveryEvent, Touch, TouchStatus
from dunning.outcomes import outcome_unknown
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from invoices.tests.factories import ContactFactory

from .esp_posts import ESPS, WEBHOOK_SECRET, Mailgun, Post, SendGrid, basic_auth
from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .test_webhooks import open_checks

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("ladder"),
    # anymail warns on every SendGrid request that it no longer supports SendGrid officially.
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]

# What planning and sending the first email audit (its customer-page link too), before any
# event arrives.
SENDING_ACTIONS = {"dunning.touch.planned", "dunning.email.sent", "portal.link.made"}
UNREADABLE = "This post is not a delivery event we can read."


def urls_reload():
    importlib.reload(importlib.import_module(django_settings.ROOT_URLCONF))
    clear_url_caches()


@pytest.fixture
def mount(settings):
    """Mount the webhooks as they are with the given ESP settings; the default URLs come
    back after the test."""
    original = django_settings.ESP

    def mount_(esp_name: str, anymail: dict):
        settings.ESP = esp_name
        settings.ANYMAIL = anymail
        urls_reload()

    yield mount_
    settings.ESP = original
    urls_reload()


@pytest.fixture(params=ESPS, ids=lambda esp: esp.name)
def esp(request, mount):
    mount(request.param.name, request.param.anymail)
    return request.param


@pytest.fixture
def touch(esp):
    return _touch_sent_through(esp)


def send(client, esp_name: str, post: Post):
    return client.post(
        f"/anymail/{esp_name}/tracking/",
        data=post.body,
        content_type=post.content_type,
        headers=post.headers,
    )


def assert_nothing_changed(touch):
    assert not DeliveryEvent.objects.exists()
    assert Touch.objects.get(pk=touch.pk).status == TouchStatus.SENT
    assert not Touch.objects.exclude(pk=touch.pk).exists()
    contact = touch.contact
    contact.refresh_from_db()
    assert (contact.email_bounced_at, contact.email_opt_out) == (None, False)
    assert not AuditEvent.objects.exclude(action__in=SENDING_ACTIONS).exists()


# --- what is mounted ------------------------------------------------------------------------


def test_without_an_esp_no_webhook_is_mounted(client, mount):
    mount("", {})

    statuses = {esp.name: send(client, esp.name, Post(b"{}")).status_code for esp in ESPS}

    assert statuses == {esp.name: 404 for esp in ESPS}


def test_only_the_configured_esps_tracking_webhook_is_mounted(client, esp):
    others = [other.name for other in ESPS if other is not esp]

    assert send(client, esp.name, Post(b"{}")).status_code != 404
    for name in others:
        assert send(client, name, Post(b"{}")).status_code == 404
    # The inbox mounts the configured ESP's inbound webhook beside it, and no other's.
    for name in others:
        assert client.post(f"/anymail/{name}/inbound/").status_code == 404


def test_the_webhook_needs_neither_a_login_nor_a_csrf_token(esp, touch):
    client = Client(enforce_csrf_checks=True)

    response = send(client, esp.name, esp.event("delivered", touch, 1))

    assert response.status_code == 200


# --- per ESP: valid, replayed, forged, unsigned, malformed, failing ------------------------


def test_a_valid_delivered_event_moves_the_touch_and_is_audited(client, esp, touch):
    response = send(client, esp.name, esp.event("delivered", touch, 1))

    assert response.status_code == 200
    assert Touch.objects.get(pk=touch.pk).status == TouchStatus.DELIVERED
    event = AuditEvent.objects.get(action="dunning.email.delivered")
    assert (event.customer_id, event.data["touch_id"]) == (touch.customer_id, touch.pk)


def test_a_valid_bounce_marks_the_address_bad(client, esp, touch):
    response = send(client, esp.name, esp.event("bounced", touch, 1))

    assert response.status_code == 200
    assert Touch.objects.get(pk=touch.pk).status == TouchStatus.BOUNCED
    touch.contact.refresh_from_db()
    assert touch.contact.email_bounced_at is not None


def test_a_replayed_bounce_has_no_second_effect(client, esp, touch):
    ContactFactory(customer=touch.customer, is_primary=False, email="second@example.com")
    post = esp.event("bounced", touch, 1)

    first, again = send(client, esp.name, post), send(client, esp.name, post)

    assert (first.status_code, again.status_code) == (200, 200)
    assert DeliveryEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action="dunning.email.bounced").count() == 1
    assert Touch.objects.exclude(pk=touch.pk).count() == 1  # one resend, not two


def test_a_forged_event_is_refused_and_changes_nothing(client, esp, touch):
    response = send(client, esp.name, esp.forged(esp.event("bounced", touch, 1)))

    assert 400 <= response.status_code < 500
    assert_nothing_changed(touch)


def test_an_unsigned_event_is_refused_and_changes_nothing(client, esp, touch):
    response = send(client, esp.name, esp.unsigned(esp.event("bounced", touch, 1)))

    assert 400 <= response.status_code < 500
    assert_nothing_changed(touch)


def test_a_malformed_post_answers_400_and_changes_nothing(client, esp, touch):
    answers = [send(client, esp.name, post) for post in esp.malformed(touch)]

    assert {(answer.status_code, answer.text) for answer in answers} == {(400, UNREADABLE)}
    assert_nothing_changed(touch)


def test_a_database_failure_answers_503_and_the_resent_event_is_recorded(client, esp, touch):
    post = esp.event("delivered", touch, 1)

    def refuse_delivery_events(execute, sql, params, many, context):
        if sql.startswith("INSERT") and "dunning_deliveryevent" in sql:
            raise OperationalError("the database went away")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_delivery_events):
        failed = send(client, esp.name, post)
    resent = send(client, esp.name, post)

    assert (failed.status_code, resent.status_code) == (503, 200)
    assert DeliveryEvent.objects.count() == 1
    assert Touch.objects.get(pk=touch.pk).status == TouchStatus.DELIVERED


def test_a_valid_complaint_stops_email_to_that_address(client, esp, touch):
    second = ContactFactory(customer=touch.customer, is_primary=False, email="second@example.com")

    response = send(client, esp.name, esp.event("complained", touch, 1))
    later = MONDAY_10 + dt.timedelta(days=7)
    already_sent = len(mail.outbox)
    dunning_run(as_of=later)
    touches_deliver(as_of=later)

    assert response.status_code == 200
    touch.contact.refresh_from_db()
    assert touch.contact.email_opt_out
    event = AuditEvent.objects.get(action="ledger.contact.complained")
    assert event.data["contact_id"] == touch.contact_id
    assert [m.to for m in mail.outbox[already_sent:]] == [[second.email]]


def test_a_delivered_event_settles_an_unknown_touch(client, esp, touch):
    Touch.objects.filter(pk=touch.pk).update(status=TouchStatus.SENDING, claims=7)
    outcome_unknown(touch_id=touch.pk, claim=7, at=MONDAY_10, reason="no answer")

    response = send(client, esp.name, esp.event("delivered", touch, 1))

    assert response.status_code == 200
    assert Touch.objects.get(pk=touch.pk).status == TouchStatus.DELIVERED
    assert open_checks(touch) == 0


# --- both proofs at once ---------------------------------------------------------------------


@pytest.mark.parametrize("esp_class", [Mailgun, SendGrid], ids=["mailgun", "sendgrid"])
def test_a_signed_event_with_the_wrong_basic_auth_is_refused(client, mount, esp_class):
    esp = esp_class()
    mount(esp.name, {**esp.anymail, "WEBHOOK_SECRET": WEBHOOK_SECRET})
    touch = _touch_sent_through(esp)
    post = esp.event("bounced", touch, 1)
    post.headers["Authorization"] = basic_auth("dunmore-esp:a-guessed-password")

    response = send(client, esp.name, post)

    assert response.status_code == 400
    assert_nothing_changed(touch)


def test_sendgrid_without_its_signing_key_checks_the_basic_auth(client, mount):
    esp = SendGrid()
    mount(esp.name, {"SENDGRID_API_KEY": "SG.key-for-tests", "WEBHOOK_SECRET": WEBHOOK_SECRET})
    touch = _touch_sent_through(esp)
    post = esp.unsigned(esp.event("delivered", touch, 1))

    refused = send(client, esp.name, post)
    post.headers["Authorization"] = basic_auth(WEBHOOK_SECRET)
    accepted = send(client, esp.name, post)

    assert (refused.status_code, accepted.status_code) == (400, 200)


def _touch_sent_through(esp):
    """An email that went out through the ESP, with the id the ESP gave it."""
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)
    touch = Touch.objects.get(customer=customer, status=TouchStatus.SENT)
    Touch.objects.filter(pk=touch.pk).update(esp_message_id=esp.esp_message_id(touch))
    touch.refresh_from_db()
    return touch
