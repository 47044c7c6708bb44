import datetime as dt

import pytest
from anymail.signals import AnymailTrackingEvent, tracking

from audit.models import AuditEvent
from dunning.models import DeliveryEvent, Task, TaskKind, TaskStatus, Touch, TouchStatus
from dunning.outcomes import outcome_unknown
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from invoices.tests.factories import ContactFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]

UNSET = object()


@pytest.fixture(autouse=True)
def anymail_backend(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


def sent_touch(customer):
    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)
    return Touch.objects.get(customer=customer, status=TouchStatus.SENT)


def fire(touch, event_type, event_id, *, message_id=UNSET, metadata=None, recipient=UNSET):
    event = AnymailTrackingEvent(
        event_type=event_type,
        event_id=event_id,
        message_id=touch.esp_message_id if message_id is UNSET else message_id,
        recipient=touch.to_email if recipient is UNSET else recipient,
        metadata=metadata or {},
        timestamp=MONDAY_10 + dt.timedelta(minutes=5),
        description="mailbox does not exist" if event_type == "bounced" else "",
    )
    tracking.send(sender=object, event=event, esp_name="Test")


def status_of(touch):
    return Touch.objects.get(pk=touch.pk).status


def test_a_delivered_event_marks_the_touch_delivered():
    customer = overdue_customer(days=3)
    touch = sent_touch(customer)

    fire(touch, "delivered", "e1")

    assert status_of(touch) == TouchStatus.DELIVERED


def test_the_same_event_twice_is_stored_once():
    customer = overdue_customer(days=3)
    touch = sent_touch(customer)

    fire(touch, "delivered", "e1")
    fire(touch, "delivered", "e1")

    assert DeliveryEvent.objects.count() == 1


def test_one_event_naming_two_recipients_is_stored_once_for_each():
    customer = overdue_customer(days=3)
    touch = sent_touch(customer)

    fire(touch, "delivered", "e1", recipient="one@example.com")
    fire(touch, "delivered", "e1", recipient="two@example.com")

    assert DeliveryEvent.objects.count() == 2


def test_a_late_delivered_event_never_undoes_a_bounce():
    customer = overdue_customer(days=3)
    ContactFactory(customer=customer, is_primary=False)
    touch = sent_touch(customer)

    fire(touch, "bounced", "e1")
    fire(touch, "delivered", "e2")

    assert status_of(touch) == TouchStatus.BOUNCED


def test_a_bounce_marks_the_address_bad():
    customer = overdue_customer(days=3)
    touch = sent_touch(customer)

    fire(touch, "bounced", "e1")

    touch.contact.refresh_from_db()
    assert touch.contact.email_bounced_at is not None


def test_a_bounce_resends_to_the_next_usable_contact():
    customer = overdue_customer(days=3)
    second = ContactFactory(customer=customer, is_primary=False, email="second@example.com")
    touch = sent_touch(customer)

    fire(touch, "bounced", "e1")
    touches_deliver(as_of=MONDAY_10 + dt.timedelta(minutes=10))

    retry = Touch.objects.exclude(pk=touch.pk).get()
    assert (retry.status, retry.to_email) == (TouchStatus.SENT, second.email)


def test_a_bounce_with_no_other_contact_opens_a_fix_contact_task(collector):
    customer = overdue_customer(days=3, collector=collector)
    touch = sent_touch(customer)

    fire(touch, "bounced", "e1")

    task = Task.objects.get()
    assert (task.kind, task.assigned_to) == (TaskKind.FIX_CONTACT, collector)


# --- finding the touch ----------------------------------------------------------------------


def test_an_event_finds_its_touch_by_the_ref_in_its_metadata():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "delivered", "e1", message_id="<unknown@esp>", metadata={"dunmore_ref": touch.ref})

    assert status_of(touch) == TouchStatus.DELIVERED


def test_an_event_finds_its_touch_by_our_own_message_id():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "delivered", "e1", message_id=touch.message_id)

    assert status_of(touch) == TouchStatus.DELIVERED


def test_an_integer_touch_id_in_the_metadata_finds_nothing():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "bounced", "e1", message_id=None, metadata={"touch_id": str(touch.pk)})

    assert status_of(touch) == TouchStatus.SENT
    assert DeliveryEvent.objects.get().touch is None


def test_a_made_up_ref_finds_nothing():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "bounced", "e1", message_id=f"<{'0' * 32}@example.com>")
    fire(touch, "bounced", "e2", message_id=None, metadata={"dunmore_ref": "0" * 32})

    assert status_of(touch) == TouchStatus.SENT


# --- complaints and unsubscribes ------------------------------------------------------------


def test_a_complaint_opts_the_address_out_and_is_audited():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "complained", "e1")

    touch.contact.refresh_from_db()
    assert touch.contact.email_opt_out
    assert status_of(touch) == TouchStatus.COMPLAINED
    event = AuditEvent.objects.get(action="ledger.contact.complained")
    assert (event.customer_id, event.data["contact_id"]) == (touch.customer_id, touch.contact_id)


def test_a_complaint_opts_out_that_address_only():
    customer = overdue_customer(days=3)
    other = ContactFactory(customer=customer, is_primary=False, email="other@example.com")
    touch = sent_touch(customer)

    fire(touch, "complained", "e1", recipient=touch.to_email.upper())

    other.refresh_from_db()
    touch.contact.refresh_from_db()
    assert (touch.contact.email_opt_out, other.email_opt_out) == (True, False)


def test_an_unsubscribe_opts_the_address_out_and_leaves_the_touch_as_it_was():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "unsubscribed", "e1")

    touch.contact.refresh_from_db()
    assert touch.contact.email_opt_out
    assert status_of(touch) == TouchStatus.SENT
    assert AuditEvent.objects.filter(action="ledger.contact.unsubscribed").count() == 1


def test_a_replayed_complaint_is_audited_once():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "complained", "e1")
    fire(touch, "complained", "e1")

    assert AuditEvent.objects.filter(action="ledger.contact.complained").count() == 1


# --- settling a touch whose outcome was unknown ---------------------------------------------


def unknown_touch():
    """A sent touch put back as the outbox leaves one whose answer never came: unknown,
    with a check task for its collector."""
    touch = sent_touch(overdue_customer(days=3))
    Touch.objects.filter(pk=touch.pk).update(status=TouchStatus.SENDING, claims=7)
    outcome_unknown(touch_id=touch.pk, claim=7, at=MONDAY_10, reason="no answer")
    return touch


def open_checks(touch) -> int:
    return Task.objects.filter(
        touch=touch, kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN
    ).count()


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("delivered", TouchStatus.DELIVERED),
        ("bounced", TouchStatus.BOUNCED),
        ("rejected", TouchStatus.BOUNCED),
        ("complained", TouchStatus.COMPLAINED),
        ("queued", TouchStatus.SENT),
        ("sent", TouchStatus.SENT),
        ("deferred", TouchStatus.SENT),
        ("opened", TouchStatus.SENT),
        ("clicked", TouchStatus.SENT),
    ],
)
def test_an_event_settles_an_unknown_touch(event_type, status):
    touch = unknown_touch()
    assert open_checks(touch) == 1

    fire(touch, event_type, "e1")

    assert status_of(touch) == status
    assert open_checks(touch) == 0
    assert AuditEvent.objects.filter(
        action="dunning.touch.settled_by_event", data__event_id=f"Test:e1:{touch.to_email}"
    ).exists()


def test_settling_an_unknown_touch_is_audited():
    touch = unknown_touch()

    fire(touch, "opened", "e1")

    event = AuditEvent.objects.get(action="dunning.email.sent", data__settled=True)
    assert event.data["touch_id"] == touch.pk


def test_an_open_leaves_a_sent_touch_as_it_was():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "opened", "e1")

    assert status_of(touch) == TouchStatus.SENT
    assert not AuditEvent.objects.filter(action="dunning.touch.settled_by_event").exists()


def test_a_delivery_of_a_touch_that_was_not_unknown_settles_nothing():
    touch = sent_touch(overdue_customer(days=3))

    fire(touch, "delivered", "e1")

    assert not AuditEvent.objects.filter(action="dunning.touch.settled_by_event").exists()
