"""Polling a mailbox over IMAP for firms that send over plain SMTP."""

import email
import logging
from urllib.parse import unquote, urlparse

from django.conf import settings
from imap_tools import AND, MailBox, MailBoxUnencrypted

from .models import Source
from .parsing import mail_from_message
from .services import inbound_store

log = logging.getLogger(__name__)


def imap_settings(url: str) -> dict:
    """imaps://user:pass@host:993/INBOX (or imap:// without TLS) as replies_fetch's keywords."""
    parts = urlparse(url)
    ssl = parts.scheme == "imaps"
    return {
        "host": parts.hostname or "",
        "port": parts.port or (993 if ssl else 143),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "folder": unquote(parts.path.lstrip("/")) or "INBOX",
        "ssl": ssl,
    }


def replies_fetch(*, host: str, port: int, user: str, password: str, folder: str, ssl: bool) -> int:
    """Store the folder's unseen messages and mark them seen; returns how many were new.
    A message is marked seen only after it is stored, and storing twice stores once. A
    message over INBOX_MESSAGE_MAX_MB is not downloaded: it stays unseen in the mailbox for
    a person to read there, with a log line each time it is passed over."""
    mailbox_name = f"{user}@{host}/{folder}"
    limit = int(settings.INBOX_MESSAGE_MAX_MB * 1_000_000)
    box = MailBox(host, port) if ssl else MailBoxUnencrypted(host, port)
    stored = 0
    with box.login(user, password, folder) as mailbox:
        # Sizes first, from the headers alone, so a huge message is never downloaded.
        uids = []
        for head in mailbox.fetch(AND(seen=False), mark_seen=False, headers_only=True, bulk=200):
            if head.size_rfc822 > limit:
                log.warning(
                    "Reply %s in %s left in the mailbox: %s bytes is over INBOX_MESSAGE_MAX_MB",
                    head.uid,
                    mailbox_name,
                    head.size_rfc822,
                )
            else:
                uids.append(head.uid)
        if not uids:
            return 0
        for message in mailbox.fetch(uid_list=uids, mark_seen=False, bulk=50):
            raw = message.obj.as_bytes()
            mail = mail_from_message(email.message_from_bytes(raw), raw=raw)
            if inbound_store(mail=mail, source=Source.IMAP, mailbox=mailbox_name):
                stored += 1
            mailbox.flag(message.uid, "\\Seen", True)
    return stored


def replies_fetch_configured() -> int:
    if not settings.INBOX_IMAP_URL:
        return 0
    return replies_fetch(**imap_settings(settings.INBOX_IMAP_URL))
