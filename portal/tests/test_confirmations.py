"""Confirmation emails against a real SMTP server on the loopback: each goes once, a refused
one is tried again, and one that may have gone is never sent again but given to a person."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dunning.models import Task, TaskKind
from dunning.tests.smtp_peer import REFUSE, SMTPPeer, free_port
from invoices.tests.factories import ContactFactory, CustomerFactory
from portal.confirmations import (
    MAX_ATTEMPTS,
    STALE_CLAIM,
    confirmation_deliver,
    confirmation_queue,
    confirmations_sweep,
)
from portal.models import Confirmation, ConfirmationStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _point_at(settings, port):
    settings.EMAIL_BACKEND = "dunning.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1
    settings.EMAIL_HANDOFF_SECONDS = 3


@pytest.fixture
def peer(settings):
    server = SMTPPeer().start()
    _point_at(settings, server.port)
    yield server
    server.stop()


def _queue(contact=None, key="dispute:1"):
    contact = contact or ContactFactory(customer=CustomerFactory(), email="ada@example.com")
    with transaction.atomic():
        return confirmation_queue(
            contact=contact,
            key=key,
            subject="We have your message",
            text="Thank you: we received your dispute.",
            now=timezone.now(),
        )


def _row(**fields):
    """A queued confirmation whose delivery has not run yet."""
    contact = ContactFactory(customer=CustomerFactory(), email="ada@example.com")
    return Confirmation.objects.create(
        customer=contact.customer,
        contact=contact,
        to_email=contact.email,
        subject="We have your message",
        body_text="Thank you.",
        key="dispute:1",
        **{"created_at": timezone.now(), **fields},
    )


def test_a_confirmation_goes_when_the_action_commits_and_only_once(peer):
    confirmation = _queue()  # the worker delivers it as soon as the action commits

    assert confirmation_deliver(confirmation.pk) == ConfirmationStatus.SENT
    assert confirmation_deliver(confirmation.pk) == ConfirmationStatus.SENT
    confirmations_sweep(now=timezone.now())

    assert len(peer.received) == 1
    assert peer.received[0].to == "ada@example.com"


def test_one_action_queues_one_confirmation_and_a_rolled_back_action_none(peer):
    contact = ContactFactory(customer=CustomerFactory(), email="ada@example.com")
    assert _queue(contact, key="promise:7") is not None
    assert _queue(contact, key="promise:7") is None
    with pytest.raises(RuntimeError), transaction.atomic():
        confirmation_queue(
            contact=contact, key="promise:8", subject="s", text="t", now=timezone.now()
        )
        raise RuntimeError("the action failed")

    assert list(Confirmation.objects.values_list("key", flat=True)) == ["promise:7"]


def test_a_contact_without_an_email_address_gets_no_confirmation(peer):
    contact = ContactFactory(customer=CustomerFactory(), email="")
    assert _queue(contact) is None
    assert not Confirmation.objects.exists()


def test_a_refused_confirmation_is_tried_again_then_given_to_the_collector(peer):
    peer.behave(REFUSE)
    confirmation = _queue()  # the first attempt, as the action commits

    for _ in range(MAX_ATTEMPTS - 1):
        confirmations_sweep(now=timezone.now())

    confirmation.refresh_from_db()
    assert confirmation.status == ConfirmationStatus.FAILED
    assert confirmation.attempts == MAX_ATTEMPTS
    task = Task.objects.get()
    assert task.kind == TaskKind.INTERNAL
    assert task.assigned_to == confirmation.customer.collector
    assert "could not be sent" in task.title
    assert peer.received == []


def test_a_server_that_is_down_leaves_it_waiting(settings):
    _point_at(settings, free_port())  # nothing listens there
    confirmation = _queue()  # tried as the action commits

    confirmation.refresh_from_db()
    assert confirmation.status == ConfirmationStatus.PENDING
    assert confirmation.attempts == 1 and confirmation.handoff_at is None
    assert not Task.objects.exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_drill_the_database_fails_after_the_hand_off(peer):
    """The server took the message, then recording it failed: the sweep finds the claim
    with its hand-off committed, marks it unknown with a task, and never sends it again."""
    confirmation = _row()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION drill_refuse_confirmation() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'drill: the disk is full'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER drill_refuse_confirmation BEFORE UPDATE ON portal_confirmation "
            "FOR EACH ROW WHEN (NEW.status = 'sent') "
            "EXECUTE FUNCTION drill_refuse_confirmation()"
        )
    try:
        with pytest.raises(DatabaseError):
            confirmation_deliver(confirmation.pk)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER drill_refuse_confirmation ON portal_confirmation")
            cursor.execute("DROP FUNCTION drill_refuse_confirmation()")

    later = timezone.now() + STALE_CLAIM + dt.timedelta(minutes=1)
    for _ in range(3):  # the schedule runs again and again
        confirmations_sweep(now=later)

    confirmation.refresh_from_db()
    assert confirmation.status == ConfirmationStatus.UNKNOWN
    assert len(peer.received) == 1  # doubled: 0
    task = Task.objects.get()  # lost without a person knowing: 0
    assert task.kind == TaskKind.CHECK_SEND
    assert "Check whether the confirmation" in task.title


def test_a_claim_left_before_the_hand_off_is_sent_by_the_sweep(peer):
    confirmation = _row(
        status=ConfirmationStatus.SENDING, created_at=timezone.now() - STALE_CLAIM * 2
    )

    assert confirmations_sweep(now=timezone.now()) == 1

    confirmation.refresh_from_db()
    assert confirmation.status == ConfirmationStatus.SENT
    assert len(peer.received) == 1
    assert not Task.objects.exists()
