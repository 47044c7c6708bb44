"""ESP tracking webhooks (anymail): delivered, bounced and complained messages.

Events can arrive twice and out of order: each is stored once by its event id, and a
touch's status only moves forward (a bounce is never overwritten by a late "delivered")."""

import datetime as dt
import hashlib

from anymail.signals import tracking
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record

from .models import DeliveryEvent, Touch, TouchStatus

# Which statuses an event may move a touch from.
MOVES = {
    "delivered": ({TouchStatus.SENDING, TouchStatus.SENT}, TouchStatus.DELIVERED),
    "bounced": (
        {TouchStatus.SENDING, TouchStatus.SENT, TouchStatus.DELIVERED},
        TouchStatus.BOUNCED,
    ),
    "rejected": ({TouchStatus.SENDING, TouchStatus.SENT}, TouchStatus.BOUNCED),
    "complained": (
        {TouchStatus.SENDING, TouchStatus.SENT, TouchStatus.DELIVERED},
        TouchStatus.COMPLAINED,
    ),
}


def connect() -> None:
    tracking.connect(on_tracking, dispatch_uid="dunning.webhooks.on_tracking")
    _exempt_anymail_views()


def _exempt_anymail_views() -> None:
    # ESPs cannot log in: anymail's webhook views authenticate with their own shared secret.
    from anymail import urls

    for pattern in urls.urlpatterns:
        login_not_required(pattern.callback)


def on_tracking(sender, event, esp_name, **kwargs) -> None:
    delivery_event_record(
        esp_name=esp_name,
        event_id=event.event_id,
        event_type=event.event_type,
        message_id=event.message_id,
        recipient=event.recipient or "",
        occurred_at=event.timestamp,
        metadata=event.metadata or {},
        description=event.description or event.mta_response or "",
    )


def _event_key(esp_name, event_id, event_type, message_id, recipient, occurred_at) -> str:
    if event_id:
        return f"{esp_name}:{event_id}"[:200]
    # Some ESPs send no event id: the same event always hashes the same.
    raw = f"{esp_name}|{event_type}|{message_id}|{recipient}|{occurred_at}"
    return f"{esp_name}:h:{hashlib.sha256(raw.encode()).hexdigest()}"


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
    """Store a tracking event once and apply it to its touch; None for a duplicate."""
    from .services import bounce_handle

    occurred_at = occurred_at or timezone.now()
    metadata = metadata or {}
    touch = None
    if message_id:
        touch = Touch.objects.filter(esp_message_id=message_id).first()
    if touch is None and str(metadata.get("touch_id", "")).isdigit():
        touch = Touch.objects.filter(pk=int(metadata["touch_id"])).first()
    key = _event_key(esp_name, event_id, event_type, message_id, recipient, occurred_at)
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
        if touch is None or event_type not in MOVES:
            return stored
        allowed, new_status = MOVES[event_type]
        if not Touch.objects.filter(pk=touch.pk, status__in=allowed).update(status=new_status):
            return stored  # would move backwards (e.g. delivered after bounced)
        audit_record(
            action=f"dunning.email.{new_status}",
            customer_id=touch.customer_id,
            summary=f"Email to {recipient or touch.to_email} {new_status}"
            + (f": {description}" if description else ""),
            data={"touch_id": touch.pk, "event_id": key, "esp": esp_name},
        )
        if new_status == TouchStatus.BOUNCED:
            bounce_handle(touch_id=touch.pk, at=occurred_at, reason=description)
    return stored
