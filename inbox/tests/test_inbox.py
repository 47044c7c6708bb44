import datetime as dt
import io
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.utils import timezone
from imap_tools import MailBoxUnencrypted

from dunning.reply_tokens import customer_id_from_address, reply_token
from dunning.services import hold_set
from inbox.classify import classify
from inbox.imap import replies_fetch
from inbox.models import InboundMessage, MatchedBy, Status, Suggestion
from inbox.parsing import mail_from_message
from inbox.services import REPLY_HOLD, inbound_mark_handled, inbound_store
from inbox.trimming import trim_quoted
from invoices.models import Contact, DebtorType
from invoices.tests.factories import ContactFactory, CustomerFactory

TODAY = dt.date(2026, 3, 2)


def _mail(
    *,
    to="collections@example.com",
    sender="ann@buyer.com",
    subject="Re: invoice",
    body="Hello",
    headers=None,
):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Mon, 02 Mar 2026 10:00:00 +0000"
    message["Message-ID"] = f"<{abs(hash((to, sender, subject, body)))}@buyer.com>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


def _store(message):
    return inbound_store(mail=mail_from_message(message), source="webhook", mailbox="t")


def test_trim_quoted_history():
    assert trim_quoted("Paid.\n\nOn Mon, 2 Mar 2026, Ann <a@b.c> wrote:\n> old\n") == "Paid."
    assert trim_quoted("Yes\n> quoted\nthanks") == "Yes\nthanks"
    outlook = "Will pay.\n\nFrom: Collections <c@x.com>\nSent: Monday\nTo: me\n\nOld text"
    assert trim_quoted(outlook) == "Will pay."


@pytest.mark.parametrize(
    "subject,text,headers,expected,day",
    [
        ("Automatic reply: invoice", "", {}, Suggestion.OUT_OF_OFFICE, None),
        ("Re: invoice", "I am away", {"auto-submitted": "auto-replied"}, "out_of_office", None),
        ("Re: invoice", "STOP", {}, Suggestion.STOP, None),
        ("Re", "Please stop contacting me.", {}, Suggestion.STOP, None),
        ("Re", "We already paid this last week", {}, Suggestion.ALREADY_PAID, None),
        ("Re", "Remittance attached", {}, Suggestion.ALREADY_PAID, None),
        ("Re", "The goods were never received", {}, Suggestion.DISPUTE, None),
        ("Re", "We will pay on 12 March", {}, Suggestion.PROMISE, dt.date(2026, 3, 12)),
        ("Re", "we can pay by 2026-04-01", {}, Suggestion.PROMISE, dt.date(2026, 4, 1)),
        ("Re", "Thanks, noted", {}, Suggestion.OTHER, None),
        ("Re", "We will stop by the office", {}, Suggestion.OTHER, None),
    ],
)
def test_suggestions(subject, text, headers, expected, day):
    assert classify(text=text, subject=subject, headers=headers, today=TODAY) == (expected, day)


def test_token_round_trip_and_forgery():
    token = reply_token(42)
    assert customer_id_from_address(f"replies+{token}@example.com") == 42
    assert customer_id_from_address(f"replies+{token.upper()}@example.com") == 42
    assert customer_id_from_address(f"replies+43-{token.split('-')[1]}@example.com") is None


@pytest.mark.django_db
def test_matching_by_token_thread_and_sender():
    from dunning.models import Touch

    customer = CustomerFactory()
    by_token = _store(_mail(to=f"replies+{reply_token(customer.pk)}@example.com"))
    assert (by_token.customer, by_token.matched_by) == (customer, MatchedBy.TOKEN)

    other = CustomerFactory()
    touch = Touch.objects.create(
        key="k1",
        customer=other,
        channel="email",
        scheduled_for=dt.datetime.now(dt.UTC),
        currency="GBP",
    )
    reply = _mail(subject="Re: thread", headers={"In-Reply-To": touch.message_id})
    by_thread = _store(reply)
    assert (by_thread.customer, by_thread.matched_by) == (other, MatchedBy.THREAD)

    contact = ContactFactory(email="solo@buyer.com")
    by_sender = _store(_mail(sender="Solo@buyer.com"))
    assert (by_sender.customer, by_sender.contact) == (contact.customer, contact)
    assert by_sender.status == Status.NEW


@pytest.mark.django_db
def test_shared_sender_address_waits_unassigned():
    ContactFactory(email="shared@group.com")
    ContactFactory(email="shared@group.com")
    reply = _store(_mail(sender="shared@group.com"))
    assert reply.customer is None and reply.status == Status.UNMATCHED


@pytest.mark.django_db
def test_consumer_stop_opts_out_and_business_stop_only_suggests():
    consumer = ContactFactory(email="c@home.com", customer__debtor_type=DebtorType.CONSUMER)
    business = ContactFactory(email="b@firm.com")
    _store(_mail(sender="c@home.com", body="STOP"))
    _store(_mail(sender="b@firm.com", body="STOP"))
    assert Contact.objects.get(pk=consumer.pk).email_opt_out is True
    assert Contact.objects.get(pk=business.pk).email_opt_out is False
    assert set(InboundMessage.objects.values_list("suggestion", flat=True)) == {Suggestion.STOP}


@pytest.mark.django_db
def test_a_reply_holds_chasing_until_it_is_handled_and_an_auto_reply_does_not():
    contact = ContactFactory(email="p@firm.com")
    customer = contact.customer
    auto = _mail(
        sender="p@firm.com",
        subject="Automatic reply: invoice",
        body="Away until Monday",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert _store(auto).suggestion == Suggestion.OUT_OF_OFFICE
    customer.refresh_from_db()
    assert not customer.on_hold

    reply = _store(_mail(sender="p@firm.com", body="Call me about INV-1"))

    customer.refresh_from_db()
    assert customer.on_hold and customer.hold_reason == REPLY_HOLD
    assert customer.hold_until == timezone.localdate() + dt.timedelta(days=14)
    inbound_mark_handled(actor=None, message=reply)
    customer.refresh_from_db()
    assert not customer.on_hold


@pytest.mark.django_db
def test_a_reply_leaves_a_persons_hold_alone():
    contact = ContactFactory(email="p@firm.com")
    customer = contact.customer
    hold_set(actor=None, customer=customer, reason="Director asked us to wait")

    reply = _store(_mail(sender="p@firm.com", body="Call me"))
    inbound_mark_handled(actor=None, message=reply)

    customer.refresh_from_db()
    assert customer.on_hold and customer.hold_reason == "Director asked us to wait"


@pytest.mark.django_db
def test_imap_fetch_stores_each_reply_once(imap_server, settings):
    contact = ContactFactory(email="ann@buyer.com")
    message = _mail(body="We will pay on 12 March\n\nOn Mon, Collections wrote:\n> pay up")
    with MailBoxUnencrypted("127.0.0.1", imap_server).login("u", "p", "INBOX") as box:
        box.append(message.as_bytes(), "INBOX", flag_set=[])
    args = dict(
        host="127.0.0.1", port=imap_server, user="u", password="p", folder="INBOX", ssl=False
    )
    assert replies_fetch(**args) == 1
    assert replies_fetch(**args) == 0
    with MailBoxUnencrypted("127.0.0.1", imap_server).login("u", "p", "INBOX") as box:
        box.append(message.as_bytes(), "INBOX", flag_set=[])  # the same mail, again
    assert replies_fetch(**args) == 0
    with MailBoxUnencrypted("127.0.0.1", imap_server).login("u", "p", "INBOX") as box:
        box.append(_mail(body="A new one").as_bytes(), "INBOX", flag_set=[])
    settings.INBOX_IMAP_URL = f"imap://u:p@127.0.0.1:{imap_server}/INBOX"
    out = io.StringIO()
    call_command("fetch_replies", stdout=out)
    assert out.getvalue().strip() == "1 new reply stored."
    reply = InboundMessage.objects.get(text="We will pay on 12 March")
    assert reply.customer == contact.customer
    assert reply.text == "We will pay on 12 March"
    assert reply.suggestion == Suggestion.PROMISE
