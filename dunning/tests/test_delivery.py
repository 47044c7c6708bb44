import datetime as dt

import pytest
from django.core import mail

from audit.models import AuditEvent
from dunning.models import Chase, Task, TaskKind, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from invoices.models import ContactRole, DebtorType, DisputeReason
from invoices.services import dispute_open, payment_record
from invoices.tests.factories import ContactFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .test_shell import _done, _standard_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def plan_and_deliver(as_of=MONDAY_10):
    dunning_run(as_of=as_of)
    return touches_deliver(as_of=as_of)


def test_a_due_touch_is_emailed_to_the_primary_accounts_payable_contact():
    customer = overdue_customer(days=3)

    plan_and_deliver()

    assert mail.outbox[0].to == [customer.contacts.get().email]


def test_a_sent_touch_stores_what_went_out_and_the_esp_id(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    overdue_customer(days=3)

    plan_and_deliver()

    touch = Touch.objects.get()
    assert touch.status == TouchStatus.SENT
    assert touch.subject == mail.outbox[0].subject
    assert touch.esp_message_id == str(mail.outbox[0].anymail_status.message_id)


def test_the_email_lists_every_invoice_with_the_total():
    customer = overdue_customer(days=3, invoices=2)

    plan_and_deliver()

    body = mail.outbox[0].body
    for invoice in customer.invoices.all():
        assert invoice.number in body
    assert "Total: £200.00" in body


def test_the_email_has_an_html_alternative():
    overdue_customer(days=3)

    plan_and_deliver()

    assert mail.outbox[0].alternatives[0].mimetype == "text/html"


def test_replies_go_to_the_collector(collector):
    collector.email = "colin@example.com"
    collector.save()
    overdue_customer(days=3, collector=collector)

    plan_and_deliver()

    assert mail.outbox[0].reply_to == ["colin@example.com"]


def test_a_consumer_email_carries_an_opt_out_link():
    overdue_customer(days=3, debtor_type=DebtorType.CONSUMER)

    plan_and_deliver(MONDAY_10 + dt.timedelta(hours=1))

    assert "/portal/opt-out/" in mail.outbox[0].body


def test_a_business_email_has_no_opt_out_link():
    overdue_customer(days=3)

    plan_and_deliver()

    assert "opt-out" not in mail.outbox[0].body


def test_a_sent_email_is_audited():
    overdue_customer(days=3)

    plan_and_deliver()

    assert AuditEvent.objects.filter(action="dunning.email.sent").count() == 1


def test_a_paid_invoice_cancels_the_pending_touch_at_delivery():
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    payment_record(
        actor=None,
        customer=customer,
        amount=customer.invoices.get().amount,
        received_on=MONDAY_10.date(),
    )

    touches_deliver(as_of=MONDAY_10)

    assert Touch.objects.get().status == TouchStatus.CANCELLED
    assert mail.outbox == []


def test_a_disputed_invoice_cancels_the_pending_touch_at_delivery():
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    dispute_open(
        actor=None,
        invoice=customer.invoices.get(),
        reason=DisputeReason.PRICING,
        opened_on=MONDAY_10.date(),
    )

    touches_deliver(as_of=MONDAY_10)

    assert Touch.objects.get().status == TouchStatus.CANCELLED


def test_a_partly_paid_invoice_still_goes_out_with_the_new_balance():
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    payment_record(actor=None, customer=customer, amount=40, received_on=MONDAY_10.date())

    touches_deliver(as_of=MONDAY_10)

    assert "£60.00" in mail.outbox[0].body


def test_the_firm_step_goes_to_the_escalation_contact():
    customer = overdue_customer(days=16)
    boss = ContactFactory(customer=customer, role=ContactRole.ESCALATION, email="boss@example.com")

    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=(1, 2, 3), at=MONDAY_10 - dt.timedelta(days=9))

    plan_and_deliver()

    assert mail.outbox[0].to == [boss.email]


def test_opted_out_and_bounced_addresses_are_skipped():
    customer = overdue_customer(days=3)
    customer.contacts.update(email_opt_out=True)
    other = ContactFactory(customer=customer, is_primary=False, email="other@example.com")

    plan_and_deliver()

    assert mail.outbox[0].to == [other.email]


def test_no_usable_address_fails_the_touch_and_opens_a_fix_contact_task(collector):
    overdue_customer(days=3, email=False, collector=collector)

    plan_and_deliver()

    assert Touch.objects.get().status == TouchStatus.FAILED
    assert Task.objects.get().kind == TaskKind.FIX_CONTACT
    assert Task.objects.get().assigned_to == collector


def test_a_backend_error_puts_the_touch_back_for_a_later_retry(settings):
    settings.EMAIL_BACKEND = "dunning.tests.backends.FailingBackend"
    overdue_customer(days=3)

    plan_and_deliver()

    touch = Touch.objects.get()
    assert (touch.status, touch.attempts) == (TouchStatus.PENDING, 1)
    assert touch.scheduled_for > MONDAY_10


def test_a_touch_fails_for_good_after_five_attempts(settings):
    settings.EMAIL_BACKEND = "dunning.tests.backends.FailingBackend"
    overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)

    for day in range(5):
        touches_deliver(as_of=MONDAY_10 + dt.timedelta(days=day))

    touch = Touch.objects.get()
    assert (touch.status, touch.attempts) == (TouchStatus.FAILED, 5)


def test_a_claim_left_before_the_hand_off_is_put_back_and_sent_once():
    overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    Touch.objects.update(status=TouchStatus.SENDING, claimed_at=MONDAY_10, claims=1)

    touches_deliver(as_of=MONDAY_10 + dt.timedelta(minutes=16))
    touches_deliver(as_of=MONDAY_10 + dt.timedelta(minutes=31))

    assert Touch.objects.get().status == TouchStatus.SENT
    assert len(mail.outbox) == 1


def test_a_claim_left_during_the_hand_off_becomes_unknown_with_a_task_and_is_never_resent():
    overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    Touch.objects.update(
        status=TouchStatus.SENDING, claimed_at=MONDAY_10, handoff_at=MONDAY_10, claims=1
    )

    touches_deliver(as_of=MONDAY_10 + dt.timedelta(minutes=16))
    touches_deliver(as_of=MONDAY_10 + dt.timedelta(days=1))

    touch = Touch.objects.get()
    assert touch.status == TouchStatus.UNKNOWN
    assert Task.objects.get(kind=TaskKind.CHECK_SEND, touch=touch).status == "open"
    assert mail.outbox == []


def test_a_touch_planned_late_in_the_day_waits_for_the_next_window():
    overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    late = dt.datetime(2026, 3, 16, 18, 0, tzinfo=dt.UTC)

    touches_deliver(as_of=late)

    touch = Touch.objects.get()
    assert touch.status == TouchStatus.PENDING
    assert touch.scheduled_for > late
