"""Every write of the inbox, each audited in the same transaction as the change."""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from dunning.queue import queue_refresh
from dunning.services import hold_release, hold_set
from invoices.models import Contact, Customer, DebtorType

from .classify import classify
from .exceptions import InboxError
from .matching import match_mail
from .models import InboundAttachment, InboundMessage, MatchedBy, Status, Suggestion
from .parsing import Mail
from .trimming import trim_quoted


def _received_event(message: InboundMessage, *, actor=None) -> None:
    files = list(message.attachments.defer("content"))
    audit_record(
        action="inbox.reply.received",
        actor=actor,
        label=None if actor else "inbox",
        customer_id=message.customer_id,
        summary=f"Reply from {message.from_address}: {message.subject}",
        data={
            "reply_id": message.pk,
            "contact_id": message.contact_id,
            "from": message.from_address,
            "subject": message.subject,
            "text": message.text[:4000],
            "matched_by": message.matched_by,
            "suggestion": message.suggestion,
            "attachments": [{"id": a.pk, "filename": a.filename} for a in files if a.kept],
            "too_large": [{"filename": a.filename, "size": a.size} for a in files if not a.kept],
        },
    )


def _stop_opt_out(message: InboundMessage) -> int:
    """A consumer wrote STOP: no more collection email to that address (Regulation F counts
    any such reply), audited per contact. The one thing the inbox does without a person."""
    contacts = list(
        Contact.objects.filter(
            customer_id=message.customer_id,
            email__iexact=message.from_address,
            email_opt_out=False,
        ).exclude(email="")
    )
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(email_opt_out=True)
    for contact in contacts:
        audit_record(
            action="inbox.contact.stopped",
            label="inbox",
            customer_id=message.customer_id,
            summary=f"{contact.email} asked by reply to stop; "
            "no more collection email goes to this address",
            data={"contact_id": contact.pk, "reply_id": message.pk},
        )
    return len(contacts)


# A reply waiting for a person pauses automated chasing as a hold with this reason (the
# engine and the queue already know holds; dunning never reads the inbox), for
# INBOX_PAUSE_DAYS at most; marking the last waiting reply handled lifts it.
REPLY_HOLD = "A reply is waiting to be handled in the inbox"


def _after_match(message: InboundMessage, *, now: dt.datetime) -> None:
    _received_event(message)
    customer = Customer.objects.get(pk=message.customer_id)
    if message.suggestion == Suggestion.STOP and customer.debtor_type == DebtorType.CONSUMER:
        _stop_opt_out(message)
    today = timezone.localdate(now)
    # A person's hold stays as it is; a lapsed hold, or our own, starts (again) from today.
    lapsed = customer.hold_until is not None and customer.hold_until < today
    ours = customer.hold_reason == REPLY_HOLD
    if message.suggestion != Suggestion.OUT_OF_OFFICE and (not customer.on_hold or lapsed or ours):
        until = today + dt.timedelta(days=settings.INBOX_PAUSE_DAYS)
        hold_set(actor=None, customer=customer, reason=REPLY_HOLD, until=until)
    queue_refresh(customer_ids=[message.customer_id])


def _reply_hold_lift(customer_id: int) -> None:
    waiting = (
        InboundMessage.objects.filter(customer_id=customer_id, status=Status.NEW)
        .exclude(suggestion=Suggestion.OUT_OF_OFFICE)
        .exists()
    )
    customer = Customer.objects.get(pk=customer_id)
    if not waiting and customer.on_hold and customer.hold_reason == REPLY_HOLD:
        hold_release(actor=None, customer=customer)


def _attachment(message: InboundMessage, attachment, limit: int) -> InboundAttachment:
    size = len(attachment.content)
    if size > limit:
        # Noted by name and size, content dropped: the reply itself still counts.
        kept = {"sha256": "", "content": b""}
    else:
        kept = {
            "sha256": hashlib.sha256(attachment.content).hexdigest(),
            "content": attachment.content,
        }
    return InboundAttachment(
        message=message,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=size,
        **kept,
    )


@transaction.atomic
def inbound_store(
    *, mail: Mail, source: str, mailbox: str = "", now: dt.datetime | None = None
) -> InboundMessage | None:
    """Store a mail once (None when it was stored before), matched and classified; its
    attachments over INBOX_ATTACHMENT_MAX_MB are noted but not kept. A matched reply pauses
    chasing for INBOX_PAUSE_DAYS from `now` (the time it came in)."""
    now = now or timezone.now()
    text = trim_quoted(mail.text)
    suggestion, day = classify(
        text=text,
        subject=mail.subject,
        headers=mail.headers,
        today=timezone.localtime(mail.received_at).date(),
    )
    match = match_mail(mail)
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                source=source,
                mailbox=mailbox[:200],
                message_id=mail.message_id,
                received_at=mail.received_at,
                from_address=mail.from_address,
                from_name=mail.from_name,
                to_address=", ".join(mail.to_addresses),
                subject=mail.subject,
                in_reply_to=mail.in_reply_to,
                references=mail.references,
                text=text,
                original_text=mail.text,
                customer_id=match.customer_id,
                contact_id=match.contact_id,
                matched_by=match.matched_by,
                status=Status.NEW if match.customer_id else Status.UNMATCHED,
                suggestion=suggestion,
                suggested_date=day,
            )
    except IntegrityError:
        return None  # the same mail, fetched or posted again
    limit = int(settings.INBOX_ATTACHMENT_MAX_MB * 1_000_000)
    InboundAttachment.objects.bulk_create(_attachment(message, a, limit) for a in mail.attachments)
    if message.customer_id:
        _after_match(message, now=now)
    return message


@transaction.atomic
def inbound_assign(*, actor, message: InboundMessage, customer: Customer) -> InboundMessage:
    """A person says whose reply this is."""
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.customer_id is not None:
        raise InboxError("This reply has already been assigned to a customer.")
    message.customer = customer
    message.contact_id = (
        Contact.objects.filter(customer=customer, email__iexact=message.from_address)
        .values_list("pk", flat=True)
        .first()
    )
    message.matched_by = MatchedBy.PERSON
    message.status = Status.NEW
    message.save(update_fields=["customer", "contact", "matched_by", "status"])
    audit_record(
        action="inbox.reply.assigned",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Reply from {message.from_address} assigned to {customer.name}",
        data={"reply_id": message.pk, "from": message.from_address},
    )
    _after_match(message, now=timezone.now())
    return message


@transaction.atomic
def inbound_mark_handled(*, actor, message: InboundMessage) -> InboundMessage:
    changed = InboundMessage.objects.filter(pk=message.pk, status=Status.NEW).update(
        status=Status.HANDLED, handled_by=actor, handled_at=timezone.now()
    )
    if not changed:
        raise InboxError("This reply is not waiting to be handled.")
    message.refresh_from_db()
    audit_record(
        action="inbox.reply.handled",
        actor=actor,
        customer_id=message.customer_id,
        summary=f"Reply from {message.from_address} marked handled",
        data={"reply_id": message.pk, "suggestion": message.suggestion},
    )
    _reply_hold_lift(message.customer_id)
    queue_refresh(customer_ids=[message.customer_id])
    return message
