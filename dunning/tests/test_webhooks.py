import datetime as dt

import pytest
from anymail.signals import AnymailTrackingEvent, tracking

from dunning.models import DeliveryEvent, Task, TaskKind, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from invoices.tests.factories import ContactFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


@pytest.fixture(autouse=True)
def anymail_backend(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


def sent_touch(customer):
    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)
    return Touch.objects.get(customer=customer, status=TouchStatus.SENT)


def fire(touch, event_type, event_id):
    event = AnymailTrackingEvent(
        event_type=event_type,
        event_id=event_id,
        message_id=touch.esp_message_id,
        recipient=touch.to_email,
        timestamp=MONDAY_10 + dt.timedelta(minutes=5),
        description="mailbox does not exist" if event_type == "bounced" else "",
    )
    tracking.send(sender=object, event=event, esp_name="Test")


def test_a_delivered_event_marks_the_touch_delivered():
    customer = overdue_customer(days=3)
    touch = sent_touch(customer)

    fire(touch, "delivered", "e1")

    touch.refresh_from_db()
    assert touch.status == TouchStatus.DELIVERED


def test_the_same_event_twice_is_stored_once():
    customer = overdue_customer(days=3)
    touch = sent_touch(customer)

    fire(touch, "delivered", "e1")
    fire(touch, "delivered", "e1")

    assert DeliveryEvent.objects.count() == 1


def test_a_late_delivered_event_never_undoes_a_bounce():
    customer = overdue_customer(days=3)
    ContactFactory(customer=customer, is_primary=False)
    touch = sent_touch(customer)

    fire(touch, "bounced", "e1")
    fire(touch, "delivered", "e2")

    touch.refresh_from_db()
    assert touch.status == TouchStatus.BOUNCED


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


def test_the_anymail_webhook_urls_need_no_login(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp:secret"}
    client.raise_request_exception = False

    response = client.post(
        "/anymail/postmark/tracking/", data="{}", content_type="application/json"
    )

    assert response.status_code == 400  # anymail's own secret check, not a login redirect
