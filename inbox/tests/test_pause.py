"""A reply waiting in the inbox pauses automated chasing of its customer: until a collector
marks it handled, or INBOX_PAUSE_DAYS pass."""

import datetime as dt

import pytest

from dunning.models import Touch
from dunning.planning import dunning_run
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from inbox.models import Suggestion
from inbox.parsing import mail_from_message
from inbox.services import REPLY_HOLD, inbound_mark_handled, inbound_store

from .test_inbox import _mail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def _reply_in(customer, *, at=MONDAY_10, body="Can you call me about this?", subject="Re: invoice"):
    sender = customer.contacts.get().email
    mail = mail_from_message(_mail(sender=sender, body=body, subject=subject))
    return inbound_store(mail=mail, source="imap", mailbox="t", now=at)


def test_chasing_waits_while_a_reply_is_unhandled_and_resumes_after_the_pause_days(settings):
    settings.INBOX_PAUSE_DAYS = 14
    customer = overdue_customer(days=3)
    _reply_in(customer)

    assert dunning_run(as_of=MONDAY_10 + dt.timedelta(days=14)) == []
    assert not Touch.objects.exists()

    dunning_run(as_of=MONDAY_10 + dt.timedelta(days=15))

    assert Touch.objects.filter(customer=customer).exists()


def test_marking_the_reply_handled_resumes_chasing_at_once():
    customer = overdue_customer(days=3)
    reply = _reply_in(customer)
    dunning_run(as_of=MONDAY_10)
    assert not Touch.objects.exists()

    inbound_mark_handled(actor=None, message=reply)
    dunning_run(as_of=MONDAY_10)

    assert Touch.objects.filter(customer=customer).exists()


def test_a_reply_after_the_pause_lapsed_pauses_chasing_again(settings):
    settings.INBOX_PAUSE_DAYS = 14
    customer = overdue_customer(days=3)
    _reply_in(customer)
    later = MONDAY_10 + dt.timedelta(days=20)

    _reply_in(customer, at=later, body="Still checking with our bank", subject="Re: again")

    customer.refresh_from_db()
    assert (customer.hold_reason, customer.hold_until) == (
        REPLY_HOLD,
        later.date() + dt.timedelta(days=14),
    )
    assert dunning_run(as_of=later) == []


def test_an_out_of_office_reply_does_not_pause_chasing():
    customer = overdue_customer(days=3)
    auto = _reply_in(customer, subject="Automatic reply: invoice", body="Away until Monday")
    assert auto.suggestion == Suggestion.OUT_OF_OFFICE

    dunning_run(as_of=MONDAY_10)

    assert Touch.objects.filter(customer=customer).exists()
