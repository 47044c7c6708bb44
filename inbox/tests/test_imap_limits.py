"""A message over the hard limit is not fetched from the mailbox: it stays there, unseen."""

import logging
from email.message import EmailMessage

import pytest
from imap_tools import AND, MailBoxUnencrypted

from inbox.imap import replies_fetch
from inbox.models import InboundMessage
from invoices.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _mail(subject: str, attachment: bytes = b"") -> bytes:
    message = EmailMessage()
    message["From"] = "ann@buyer.com"
    message["To"] = "collections@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@buyer.com>"
    message.set_content("See attached")
    if attachment:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="a.pdf")
    return message.as_bytes()


def test_a_message_over_the_limit_is_left_unseen_in_the_mailbox_with_a_log_line(
    settings, imap_server, imap_append, imap_args, caplog
):
    settings.INBOX_MESSAGE_MAX_MB = 0.5
    ContactFactory(email="ann@buyer.com")
    imap_append(_mail("huge scan", bytes(600_000)), _mail("short note"))

    with caplog.at_level(logging.WARNING, logger="inbox.imap"):
        assert replies_fetch(**imap_args) == 1

    assert list(InboundMessage.objects.values_list("subject", flat=True)) == ["short note"]
    assert "left in the mailbox" in caplog.text and "INBOX_MESSAGE_MAX_MB" in caplog.text
    with MailBoxUnencrypted("127.0.0.1", imap_server).login("u", "p", "INBOX") as box:
        unseen = [m.subject for m in box.fetch(AND(seen=False), mark_seen=False)]
    assert unseen == ["huge scan"]


def test_an_attachment_over_its_limit_is_noted_and_the_reply_kept(settings, imap_append, imap_args):
    settings.INBOX_ATTACHMENT_MAX_MB = 0.1
    ContactFactory(email="ann@buyer.com")
    imap_append(_mail("scan", bytes(200_000)))

    replies_fetch(**imap_args)

    (file,) = InboundMessage.objects.get().attachments.all()
    assert (file.kept, file.size) == (False, 200_000)
    assert file.too_large_note == "attachment a.pdf (0.2 MB) was too large to keep"
