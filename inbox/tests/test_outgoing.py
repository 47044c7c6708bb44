"""What we send carries the customer's reply token, and a reply to it comes back to them."""

import datetime as dt
from email.message import EmailMessage

import pytest
from django.core import mail

from dunning.models import Touch
from dunning.planning import dunning_run
from dunning.reply_tokens import reply_token
from dunning.services import touches_deliver
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from inbox.imap import replies_fetch
from inbox.models import InboundMessage, MatchedBy, Status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def _send(customer_fields=None):
    customer = overdue_customer(days=3, **(customer_fields or {}))
    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)
    (sent,) = mail.outbox
    return customer, sent


def _reply_to(sent, *, sender="someone.else@elsewhere.com", body="We will pay on 20 March"):
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = sent.reply_to[0]
    reply["Subject"] = f"Re: {sent.subject}"
    reply["Date"] = "Tue, 17 Mar 2026 09:00:00 +0000"
    reply["Message-ID"] = "<reply-1@elsewhere.com>"
    reply.set_content(body)
    return reply


def test_a_sent_touch_asks_for_replies_at_the_customers_reply_address(settings):
    settings.INBOX_REPLY_ADDRESS = "replies@collect.example.com"

    customer, sent = _send()

    token = reply_token(customer.pk)
    assert sent.reply_to == [f"replies+{token}@collect.example.com"]
    assert sent.extra_headers["X-Dunmore-Reply"] == token
    assert f"X-Dunmore-Reply: {token}" in sent.message().as_string()


def test_without_a_reply_address_replies_go_to_the_usual_address(settings):
    settings.INBOX_REPLY_ADDRESS = ""
    settings.DEFAULT_FROM_EMAIL = "collections@firm.example.com"

    _customer, sent = _send()

    assert sent.reply_to == ["collections@firm.example.com"]


def test_a_reply_to_a_sent_touch_fetched_over_imap_is_matched_by_its_token(
    settings, imap_append, imap_args
):
    settings.INBOX_REPLY_ADDRESS = "replies@collect.example.com"
    customer, sent = _send()
    # A stranger's address and no thread headers: only the reply address can tell whose it is.
    imap_append(_reply_to(sent).as_bytes())

    assert replies_fetch(**imap_args) == 1

    reply = InboundMessage.objects.get()
    assert (reply.customer, reply.matched_by, reply.status) == (
        customer,
        MatchedBy.TOKEN,
        Status.NEW,
    )


def test_a_forwarded_copy_with_our_header_is_matched_by_the_token_in_it(imap_append, imap_args):
    customer, sent = _send()
    # Someone forwards our message to the collections mailbox with its headers intact.
    forward = _reply_to(sent, body="See below")
    del forward["To"]
    forward["To"] = "collections@firm.example.com"
    forward["X-Dunmore-Reply"] = sent.extra_headers["X-Dunmore-Reply"]
    imap_append(forward.as_bytes())

    replies_fetch(**imap_args)

    reply = InboundMessage.objects.get()
    assert (reply.customer, reply.matched_by) == (customer, MatchedBy.TOKEN)


def test_a_forged_token_header_matches_nobody(imap_append, imap_args):
    customer, sent = _send()
    forged = _reply_to(sent)
    del forged["To"]
    forged["To"] = "collections@firm.example.com"
    forged["X-Dunmore-Reply"] = f"{customer.pk}-0123456789abcdef"
    imap_append(forged.as_bytes())

    replies_fetch(**imap_args)

    reply = InboundMessage.objects.get()
    assert (reply.customer, reply.status) == (None, Status.UNMATCHED)


def test_a_reply_threads_to_the_touch_when_the_address_carries_no_token(imap_append, imap_args):
    customer, sent = _send()
    touch = Touch.objects.get()
    reply = _reply_to(sent)
    del reply["To"]
    reply["To"] = "collections@firm.example.com"
    reply["In-Reply-To"] = touch.message_id
    imap_append(reply.as_bytes())

    replies_fetch(**imap_args)

    stored = InboundMessage.objects.get()
    assert (stored.customer, stored.matched_by) == (customer, MatchedBy.THREAD)
    assert stored.received_at == dt.datetime(2026, 3, 17, 9, 0, tzinfo=dt.UTC)
