import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from audit.models import AuditEvent
from dunning.exceptions import DunningError
from dunning.models import Chase, QueueEntry, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.sending import next_step_preview, next_step_send_now
from dunning.services import dunning_cycle, hold_set
from invoices.models import DebtorType
from invoices.services import payment_record
from invoices.tests.factories import InvoiceFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .test_shell import _done, _standard_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]
AN_HOUR_LATER = MONDAY_10 + dt.timedelta(hours=1)


def reminded_customer(**fields):
    """Three days overdue, the friendly reminder sent this morning: the second reminder
    is next, due on day 7 (Friday)."""
    customer = overdue_customer(days=3, **fields)
    dunning_cycle(as_of=MONDAY_10)
    return customer


def at_step(position, *, days, **fields):
    """A customer whose chase has done every step before `position`."""
    customer = overdue_customer(days=days, **fields)
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=range(1, position), at=MONDAY_10 - dt.timedelta(days=10))
    return customer


# --- preview ----------------------------------------------------------------------------


def test_the_preview_names_the_next_step_when_the_engine_would_take_it():
    customer = reminded_customer()

    preview = next_step_preview(customer=customer, as_of=AN_HOUR_LATER)

    assert (preview.step_name, preview.channel) == ("Second reminder", "email")
    assert preview.due_at.date() == dt.date(2026, 3, 20)
    assert preview.can_send_now


def test_the_preview_is_what_sending_now_sends(collector):
    customer = reminded_customer()
    preview = next_step_preview(customer=customer, as_of=AN_HOUR_LATER)

    touch = next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)

    assert (touch.subject, touch.body_text, touch.body_html) == (
        preview.subject,
        preview.body_text,
        preview.body_html,
    )


def test_the_preview_lists_the_invoices_and_total_a_send_now_covers():
    customer = reminded_customer(invoices=2, amount=Decimal("120.50"))

    preview = next_step_preview(customer=customer, as_of=AN_HOUR_LATER)

    assert sorted(preview.invoice_numbers) == sorted(
        customer.invoices.values_list("number", flat=True)
    )
    assert (preview.total, preview.currency) == (Decimal("241.00"), "GBP")


def test_an_invoice_not_yet_due_is_left_out_of_a_step_brought_forward():
    customer = reminded_customer()
    later = InvoiceFactory(
        customer=customer, issue_date=dt.date(2026, 2, 17), due_date=dt.date(2026, 3, 18)
    )

    preview = next_step_preview(customer=customer, as_of=AN_HOUR_LATER)

    assert later.number not in preview.invoice_numbers


def test_a_letter_step_previews_its_letter():
    customer = at_step(6, days=50)

    preview = next_step_preview(customer=customer, as_of=MONDAY_10)

    assert preview.channel == "letter"
    assert customer.name in preview.letter_html


def test_a_phone_step_previews_without_a_message_and_says_why_it_cannot_be_sent():
    customer = at_step(5, days=31)

    preview = next_step_preview(customer=customer, as_of=MONDAY_10)

    assert (preview.channel, preview.subject, preview.can_send_now) == ("phone", "", False)
    assert "phone call" in preview.why_not


def test_there_is_no_preview_when_nothing_is_planned():
    customer = reminded_customer()
    hold_set(actor=None, customer=customer, reason="Director on holiday")

    assert next_step_preview(customer=customer, as_of=AN_HOUR_LATER) is None


# --- send now ---------------------------------------------------------------------------


def test_sending_now_brings_the_next_step_forward_and_emails_it(collector):
    customer = reminded_customer()

    touch = next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)

    assert (touch.step.name, touch.status, touch.sent_at) == (
        "Second reminder",
        TouchStatus.SENT,
        AN_HOUR_LATER,
    )
    assert mail.outbox[-1].subject == touch.subject


def test_a_step_sent_now_is_the_collectors_not_the_engines(collector):
    customer = reminded_customer()

    touch = next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)

    assert (touch.created_by, touch.automated) == (collector, False)


def test_a_step_sent_now_takes_the_runs_key(collector):
    customer = reminded_customer()

    touch = next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)

    assert touch.key == f"{customer.pk}:1:3"


def test_the_run_never_sends_a_step_sent_now_again(collector):
    customer = reminded_customer()
    next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)
    sent = len(mail.outbox)

    for days in (1, 4, 5):
        dunning_cycle(as_of=MONDAY_10 + dt.timedelta(days=days))

    assert len(mail.outbox) == sent
    assert Touch.objects.filter(customer=customer, step__position=3).count() == 1


def test_who_brought_a_step_forward_is_audited(collector):
    customer = reminded_customer()

    touch = next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)

    event = AuditEvent.objects.get(action="dunning.touch.sent_now")
    assert (event.actor, event.data["touch_id"]) == (collector, touch.pk)
    assert "ahead of 20 Mar 2026, 09:00 (Europe/London)" in event.summary
    assert (
        AuditEvent.objects.filter(action="dunning.email.sent", customer_id=customer.pk).count() == 2
    )


def test_sending_now_moves_the_queue_on_to_the_following_step(collector):
    customer = reminded_customer()

    next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)

    assert QueueEntry.objects.get(customer=customer).next_step == "Firm reminder"


def test_a_step_due_now_can_be_sent_now_too(collector):
    customer = overdue_customer(days=3)

    touch = next_step_send_now(actor=collector, customer=customer, as_of=MONDAY_10)

    assert (touch.step.name, touch.status) == ("Friendly reminder", TouchStatus.SENT)


# --- refusals ---------------------------------------------------------------------------


def refused(customer, collector, match, as_of=AN_HOUR_LATER):
    touches, events = Touch.objects.count(), AuditEvent.objects.count()
    with pytest.raises(DunningError, match=match):
        next_step_send_now(actor=collector, customer=customer, as_of=as_of)
    return (Touch.objects.count(), AuditEvent.objects.count()) == (touches, events)


def test_a_paused_customer_is_not_sent_anything(collector):
    customer = reminded_customer()
    hold_set(actor=None, customer=customer, reason="Director on holiday")

    assert refused(customer, collector, "Paused: manual hold")


def test_a_customer_with_nothing_open_is_not_sent_anything(collector):
    customer = reminded_customer()
    payment_record(
        actor=None, customer=customer, amount=Decimal("100.00"), received_on=MONDAY_10.date()
    )

    assert refused(customer, collector, "Nothing to send")


def test_a_do_not_contact_customer_is_not_sent_anything(collector):
    customer = reminded_customer(do_not_contact=True)

    assert refused(customer, collector, "do not contact")


def test_an_insolvent_customer_is_not_sent_anything(collector):
    customer = reminded_customer(insolvent=True)

    assert refused(customer, collector, "insolvent")


def test_a_phone_step_cannot_be_sent(collector):
    customer = at_step(5, days=31)

    assert refused(customer, collector, "phone call", as_of=MONDAY_10)


def test_a_consumer_is_not_sent_anything_outside_their_contact_hours(collector):
    customer = reminded_customer(debtor_type=DebtorType.CONSUMER)
    ten_at_night = MONDAY_10.replace(hour=22)

    assert refused(customer, collector, "between 08:00 and 21:00", as_of=ten_at_night)


def test_a_customer_without_a_usable_email_address_is_not_sent_an_email(collector):
    customer = reminded_customer()
    customer.contacts.update(email_opt_out=True)

    assert refused(customer, collector, "no usable email address")


def test_a_message_still_waiting_to_go_out_goes_first(collector):
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)  # the friendly reminder is planned, not yet delivered

    assert refused(customer, collector, "Friendly reminder is already waiting to go out")


# --- the queue row ---------------------------------------------------------------------------


def test_a_final_demand_sent_now_is_the_last_touch_at_once(collector):
    customer = at_step(6, days=40)
    dunning_cycle(as_of=MONDAY_10)

    next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)

    row = QueueEntry.objects.get(customer=customer)
    assert (row.last_touch, row.last_touch_at) == ("Final demand by letter", AN_HOUR_LATER)


def test_after_a_step_sent_now_the_row_names_the_step_after_it(collector):
    customer = at_step(6, days=40)
    dunning_cycle(as_of=MONDAY_10)

    next_step_send_now(actor=collector, customer=customer, as_of=AN_HOUR_LATER)

    assert QueueEntry.objects.get(customer=customer).next_step == "Legal referral"
