"""ESP tracking webhooks (anymail): delivered, bounced and complained messages.

Only the configured ESP's tracking endpoint is mounted, and anymail checks the ESP's own
proof on every post (a signature where the ESP signs, basic auth for all). A post that
cannot be read answers 400; a valid event that could not be stored answers 503, so the ESP
sends it again.

Events can arrive twice and out of order: each is stored once by its event id, and a
touch's status only moves forward (a bounce is never overwritten by a late "delivered").
A touch is found by the ESP's message id or by its unguessable ref, never by a counter."""

import datetime as dt
import hashlib
import logging
import re

from anymail.exceptions import (
    AnymailError,
    AnymailImproperlyInstalled,
    AnymailWebhookValidationFailure,
)
from anymail.signals import tracking
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from audit.services import audit_record
from invoices.models import Contact

from .models import DeliveryEvent, Touch, TouchStatus
from .outcomes import outcome_settled_by_event

log = logging.getLogger(__name__)

TRACKING_VIEWS = {
    "mailgun": MailgunTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "amazon_ses": AmazonSESTrackingWebhookView,
}

_GONE_OUT = {TouchStatus.SENDING, TouchStatus.UNKNOWN, TouchStatus.SENT}
# Which statuses an event may move a touch from. An "unknown" touch (the hand-off's answer
# was lost) is settled by any event that proves the ESP had the message.
MOVES = {
    "delivered": (_GONE_OUT, TouchStatus.DELIVERED),
    "bounced": (_GONE_OUT | {TouchStatus.DELIVERED}, TouchStatus.BOUNCED),
    "rejected": (_GONE_OUT, TouchStatus.BOUNCED),
    "complained": (_GONE_OUT | {TouchStatus.DELIVERED}, TouchStatus.COMPLAINED),
    **{
        event_type: ({TouchStatus.UNKNOWN}, TouchStatus.SENT)
        for event_type in ("queued", "sent", "deferred", "opened", "clicked")
    },
}
# The person at that address asked for no more mail: like the opt-out link.
OPT_OUTS = {
    "complained": "marked a collection email as spam",
    "unsubscribed": "unsubscribed through the email service",
}
# Touch.ref as Touch.message_id writes it: "<ref@domain>".
_REF_IN_MESSAGE_ID = re.compile(r"<?([0-9a-f]{32})@[^<>@\s]+>?")


def connect() -> None:
    tracking.connect(on_tracking, dispatch_uid="dunning.webhooks.on_tracking")


def on_tracking(sender, event, esp_name, **kwargs) -> None:
    delivery_event_record(esp_name=esp_name, **event_facts(event))


# --- reading a post -------------------------------------------------------------------------


class Malformed(Exception):
    """A post that anymail could not read, or whose fields are not of the expected kinds."""


# What reading a hostile body can raise. Missing packages and refusals pass through.
_READ_ERRORS = (
    AnymailError,
    ImproperlyConfigured,  # anymail's "this is an inbound post, not tracking"
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


def _text(value, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"{name} is not text")
    if "\x00" in value:
        raise ValueError(f"{name} holds a NUL character")  # PostgreSQL cannot store it
    return value


def event_facts(event) -> dict:
    """The fields of an anymail tracking event that we keep, checked: a post may carry any
    JSON at all, and a wrong kind of value must be refused before anything is stored."""
    metadata = event.metadata or {}
    if not isinstance(metadata, dict):
        raise TypeError("metadata is not an object")
    occurred_at = event.timestamp
    if occurred_at is not None and not isinstance(occurred_at, dt.datetime):
        raise TypeError("timestamp is not a moment")
    if occurred_at is not None and timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at, dt.UTC)  # ESPs write UTC
    recipient = _text(event.recipient, "recipient")
    if len(recipient) > 254:
        raise ValueError("recipient is longer than an email address can be")
    event_type = _text(event.event_type, "event type")
    if len(event_type) > 30:
        raise ValueError("event type is too long")
    return {
        "event_id": _text(event.event_id, "event id") or None,
        "event_type": event_type,
        "message_id": _text(event.message_id, "message id") or None,
        "recipient": recipient,
        "occurred_at": occurred_at,
        "metadata": metadata,
        "description": _text(event.description or event.mta_response, "description")[:500],
    }


def _strict(view_class):
    """The anymail view, with everything it reads from the post turned into Malformed."""

    class Strict(view_class):
        def run_validators(self, request):
            try:
                super().run_validators(request)
            except (AnymailWebhookValidationFailure, AnymailImproperlyInstalled):
                raise
            except _READ_ERRORS as exc:
                raise Malformed(str(exc)) from exc

        def parse_events(self, request):
            try:
                events = list(super().parse_events(request))
                for event in events:
                    event_facts(event)
            except (AnymailWebhookValidationFailure, AnymailImproperlyInstalled):
                raise
            except _READ_ERRORS as exc:
                raise Malformed(str(exc)) from exc
            return events

    Strict.__name__ = view_class.__name__
    return Strict


def tracking_view(esp: str):
    view = _strict(TRACKING_VIEWS[esp]).as_view()
    return anymail_endpoint(
        view, esp=esp, what="tracking", unreadable=Malformed, thing="a delivery event", kept="event"
    )


def anymail_endpoint(view, *, esp: str, what: str, unreadable, thing: str, kept: str):
    """An anymail webhook view answering in plain words: 400 for a post without the
    expected signature or that cannot be read (as `thing`), 503 when the database fails
    (not the ESP's fault: a non-2xx answer makes it post again later)."""

    @csrf_exempt
    @login_not_required  # ESPs cannot log in: they prove themselves to anymail instead
    def webhook(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            log.warning("%s %s post refused: %.200s", esp, what, exc)
            return _answer(
                400, "Refused: this post does not carry the expected signature or credentials."
            )
        except unreadable as exc:
            log.warning("%s %s post refused as unreadable: %.200s", esp, what, exc)
            return _answer(400, f"This post is not {thing} we can read.")
        except DatabaseError:
            log.exception("%s %s could not be stored", esp, what)
            return _answer(503, f"The {kept} could not be stored just now; please send it again.")

    return webhook


def _answer(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain")


def tracking_urlpatterns(esp: str) -> list:
    """The configured ESP's tracking endpoint, at anymail's own path and name; none without
    an ESP, so no other ESP's endpoint can be posted to."""
    if not esp:
        return []
    return [path(f"{esp}/tracking/", tracking_view(esp), name=f"{esp}_tracking_webhook")]


# --- recording an event ---------------------------------------------------------------------


def _event_key(esp_name, event_id, event_type, message_id, recipient, occurred_at) -> str:
    if event_id:
        # One notification can name several recipients (Amazon SES): one event each.
        key = f"{esp_name}:{event_id}" + (f":{recipient}" if recipient else "")
        if len(key) <= 200:
            return key
        raw = key
    else:
        # Some ESPs send no event id: the same event always hashes the same.
        raw = f"{esp_name}|{event_type}|{message_id}|{recipient}|{occurred_at}"
    return f"{esp_name}:h:{hashlib.sha256(raw.encode()).hexdigest()}"


def touch_for_event(*, message_id: str | None, metadata: dict) -> Touch | None:
    """The touch an event is about: by the ESP's message id, or by the touch's ref, read
    from our own Message-ID (mail sent over SMTP) or from the metadata we gave the ESP."""
    if message_id:
        touch = Touch.objects.filter(esp_message_id=message_id).first()
        if touch is not None:
            return touch
        match = _REF_IN_MESSAGE_ID.fullmatch(message_id.strip())
        if match:
            touch = Touch.objects.filter(ref=match.group(1)).first()
            if touch is not None:
                return touch
    ref = metadata.get("dunmore_ref")
    if isinstance(ref, str) and ref:
        return Touch.objects.filter(ref=ref).first()
    return None


def delivery_event_record(
    *,
    esp_name: str,
    event_id: str | None,
    event_type: str,
    message_id: str | None,
    recipient: str = "",
    occurred_at: dt.datetime | None = None,
    metadata: dict | None = None,
    description: str = "",
) -> DeliveryEvent | None:
    """Store a tracking event once and apply it to its touch and its address; None for a
    duplicate."""
    key = _event_key(esp_name, event_id, event_type, message_id, recipient, occurred_at)
    occurred_at = occurred_at or timezone.now()
    touch = touch_for_event(message_id=message_id, metadata=metadata or {})
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = DeliveryEvent.objects.create(
                    event_id=key,
                    touch=touch,
                    event_type=event_type,
                    recipient=recipient,
                    occurred_at=occurred_at,
                    data={"esp": esp_name, "message_id": message_id, "description": description},
                )
        except IntegrityError:
            return None  # seen before
        if touch is None:
            return stored
        if event_type in OPT_OUTS:
            _address_opt_out(touch, recipient or touch.to_email, event_type, key)
        if event_type in MOVES:
            _touch_move(touch, event_type, recipient, occurred_at, description, key, esp_name)
    return stored


def _touch_move(touch, event_type, recipient, occurred_at, description, key, esp_name) -> None:
    from .services import bounce_handle

    allowed, new_status = MOVES[event_type]
    touches = Touch.objects.filter(pk=touch.pk)
    # Two compare-and-sets rather than a lock: the first tells whether it left "unknown".
    settled = bool(touches.filter(status=TouchStatus.UNKNOWN).update(status=new_status))
    if not settled and not touches.filter(status__in=allowed - {TouchStatus.UNKNOWN}).update(
        status=new_status
    ):
        return  # would move backwards (e.g. delivered after bounced)
    audit_record(
        action=f"dunning.email.{new_status}",
        customer_id=touch.customer_id,
        summary=f"Email to {recipient or touch.to_email} {new_status}"
        + (f": {description}" if description else "")
        + (" (its outcome had been unknown)" if settled else ""),
        data={"touch_id": touch.pk, "event_id": key, "esp": esp_name, "settled": settled},
    )
    if settled:
        outcome_settled_by_event(
            touch_id=touch.pk, status=new_status, at=occurred_at, event_key=key
        )
    if new_status == TouchStatus.BOUNCED:
        bounce_handle(touch_id=touch.pk, at=occurred_at, reason=description)


def _address_opt_out(touch, address: str, event_type: str, key: str) -> int:
    """No more collection email to this customer's contacts at that address, audited per
    contact; returns how many changed."""
    contacts = list(
        Contact.objects.filter(
            customer_id=touch.customer_id, email__iexact=address.strip(), email_opt_out=False
        ).exclude(email="")
    )
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(email_opt_out=True)
    for contact in contacts:
        audit_record(
            action=f"ledger.contact.{event_type}",
            customer_id=touch.customer_id,
            summary=f"{contact.email} {OPT_OUTS[event_type]}; "
            "no more collection email goes to this address",
            data={"contact_id": contact.pk, "touch_id": touch.pk, "event_id": key},
        )
    return len(contacts)
