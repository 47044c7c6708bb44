"""An email message (from IMAP or an ESP's inbound post) read into the plain facts the
inbox stores. Both sources hand over a stdlib email.message.Message."""

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone

_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Mail:
    message_id: str
    received_at: dt.datetime
    from_address: str
    from_name: str
    to_addresses: list[str]
    subject: str
    in_reply_to: str
    references: str
    text: str
    headers: dict[str, str]
    attachments: list[Attachment] = field(default_factory=list)


def _clean(value) -> str:
    return str(value or "").replace("\x00", "").strip()


def _body(message: Message) -> str:
    plain, markup = None, None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True) or b""
        text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        if kind == "text/plain" and plain is None:
            plain = text
        elif kind == "text/html" and markup is None:
            markup = text
    if plain is not None:
        return plain
    if markup is not None:
        markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", markup)
        return html.unescape(_TAGS.sub("", markup))
    return ""


def _attachments(message: Message) -> list[Attachment]:
    found = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() not in ("attachment", "inline"):
            continue
        filename = part.get_filename()
        if not filename:
            continue
        found.append(
            Attachment(
                filename=_clean(filename)[:255],
                content_type=part.get_content_type()[:100],
                content=part.get_payload(decode=True) or b"",
            )
        )
    return found


def mail_from_message(message: Message, *, raw: bytes = b"") -> Mail:
    headers = {name.lower(): _clean(value) for name, value in message.items()}
    (from_name, from_address), *_ = getaddresses([headers.get("from", "")]) or [("", "")]
    to = [
        address.lower()
        for _, address in getaddresses(
            [headers.get(h, "") for h in ("to", "cc", "delivered-to", "x-original-to")]
        )
        if address
    ]
    try:
        received_at = parsedate_to_datetime(headers["date"])
        if timezone.is_naive(received_at):
            received_at = timezone.make_aware(received_at, dt.UTC)
    except (KeyError, TypeError, ValueError, IndexError):
        received_at = timezone.now()
    # Mail without a Message-ID is still stored once: the same bytes give the same id.
    message_id = headers.get("message-id") or (
        "<sha256-" + hashlib.sha256(raw or message.as_bytes()).hexdigest() + "@dunmore>"
    )
    return Mail(
        message_id=message_id[:255],
        received_at=received_at,
        from_address=from_address.lower()[:254],
        from_name=from_name[:200],
        to_addresses=to,
        subject=headers.get("subject", "")[:500],
        in_reply_to=headers.get("in-reply-to", "")[:500],
        references=headers.get("references", ""),
        text=_body(message).replace("\x00", ""),
        headers=headers,
        attachments=_attachments(message),
    )
