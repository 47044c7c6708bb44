"""Writes of the webhooks app: endpoints, turning audit events into deliveries, and the
outcome of each attempt. Every change to an endpoint is in the audit trail."""

import base64
import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q

from accounts.roles import ADMIN
from audit.models import AuditEvent
from audit.services import audit_record

from .addresses import url_refusal
from .events import ACTIONS, EventType
from .exceptions import UrlRefused, WebhookError
from .models import (
    DISABLE_AFTER_FAILURES,
    MAX_ATTEMPTS,
    RESPONSE_BODY_LIMIT,
    RETRY_DELAYS_MINUTES,
    Cursor,
    Delivery,
    DeliveryStatus,
    Endpoint,
)
from .payloads import payloads_for
from .selectors import MISSED_CAP, audit_last_id, missed_events

# How many audit events one run turns into deliveries; the next run takes the rest.
BATCH = 2000


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _check_events(event_types: list[str]) -> list[str]:
    unknown = set(event_types) - set(EventType.values)
    if unknown or not event_types:
        raise WebhookError("Choose at least one event from the list.")
    return [event for event in EventType.values if event in event_types]


def _check_url(url: str) -> None:
    refusal = url_refusal(url)
    if refusal:
        raise UrlRefused(refusal)


def endpoint_create(
    *, actor, url: str, description: str, event_types: list[str], now: datetime
) -> Endpoint:
    _check_url(url)  # a DNS lookup: before the transaction, not holding it open
    with transaction.atomic():
        return _endpoint_create(
            actor=actor, url=url, description=description, event_types=event_types, now=now
        )


def _endpoint_create(
    *, actor, url: str, description: str, event_types: list[str], now: datetime
) -> Endpoint:
    endpoint = Endpoint.objects.create(
        url=url,
        description=description,
        secret=secret_new(),
        event_types=_check_events(event_types),
        created_by=actor,
        created_at=now,
    )
    created = audit_record(
        action="webhooks.endpoint.created",
        actor=actor,
        summary=f"Webhook endpoint {url} added",
        data={"endpoint_id": endpoint.pk, "url": url, "event_types": endpoint.event_types},
    )
    endpoint.starts_after_audit_id = created.pk
    endpoint.save(update_fields=["starts_after_audit_id"])
    return endpoint


def endpoint_update(
    *, actor, endpoint: Endpoint, url: str, description: str, event_types: list[str]
) -> Endpoint:
    _check_url(url)
    with transaction.atomic():
        return _endpoint_update(
            actor=actor,
            endpoint=endpoint,
            url=url,
            description=description,
            event_types=event_types,
        )


def _endpoint_update(
    *, actor, endpoint: Endpoint, url: str, description: str, event_types: list[str]
) -> Endpoint:
    before = {"url": endpoint.url, "event_types": endpoint.event_types}
    endpoint.url, endpoint.description = url, description
    endpoint.event_types = _check_events(event_types)
    endpoint.save(update_fields=["url", "description", "event_types"])
    audit_record(
        action="webhooks.endpoint.updated",
        actor=actor,
        summary=f"Webhook endpoint {url} changed",
        data={
            "endpoint_id": endpoint.pk,
            "before": before,
            "after": {"url": url, "event_types": endpoint.event_types},
        },
    )
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, actor, endpoint: Endpoint) -> Endpoint:
    endpoint.secret = secret_new()
    endpoint.save(update_fields=["secret"])
    audit_record(
        action="webhooks.endpoint.secret_rotated",
        actor=actor,
        summary=f"Signing secret of webhook endpoint {endpoint.url} replaced",
        data={"endpoint_id": endpoint.pk},
    )
    return endpoint


@transaction.atomic
def endpoint_enable(*, actor, endpoint: Endpoint, send_missed: bool, now: datetime) -> int:
    """Enable a disabled endpoint; returns how many missed events will be sent.

    It hears what happens from now on. With `send_missed` it also gets deliveries of the events
    it missed while disabled (the latest MISSED_CAP of them), with the event ids and payloads
    the other endpoints got, so a receiver dedupes them as usual. Deliveries waiting from
    before it was disabled are sent either way."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.active:
        raise WebhookError("This endpoint is already enabled.")
    # The planner waits meanwhile (it locks the cursor first too), and audit ids commit in
    # order (see deliveries_plan): every event after `now_id` is planned for it once enabled,
    # every one up to it was planned already or is missed.
    Cursor.objects.get_or_create(pk=1)
    Cursor.objects.select_for_update().get(pk=1)
    now_id = audit_last_id()
    missed = missed_events(endpoint=endpoint, until=now_id)
    count = missed.count()
    sent = _deliveries_missed(endpoint, missed, now=now) if send_missed else 0
    since = endpoint.missed_after_audit_id
    endpoint.active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.consecutive_failures = 0
    endpoint.missed_after_audit_id = None
    endpoint.starts_after_audit_id = max(endpoint.starts_after_audit_id, now_id)
    endpoint.save(
        update_fields=[
            "active",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "missed_after_audit_id",
            "starts_after_audit_id",
        ]
    )
    summary = f"Webhook endpoint {endpoint.url} enabled"
    if send_missed and count:
        summary += f"; the {events_count(sent)} it missed will be sent"
        if sent < count:
            summary += f" (the latest {sent} of {count})"
    elif count:
        summary += f" from now on; the {events_count(count)} it missed are not sent"
    audit_record(
        action="webhooks.endpoint.enabled",
        actor=actor,
        summary=summary,
        data={
            "endpoint_id": endpoint.pk,
            "missed": "sent" if send_missed else "skipped",
            "missed_count": count,
            "missed_sent": sent,
            "missed_after_audit_id": since,
            "until_audit_id": now_id,
        },
    )
    return sent


def events_count(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


def _deliveries_missed(endpoint: Endpoint, missed, *, now: datetime) -> int:
    events = list(reversed(missed.order_by("-id")[:MISSED_CAP]))
    event_ids = [f"msg_audit_{event.pk}" for event in events]
    sent_before = {}
    for start in range(0, len(event_ids), 500):
        sent_before.update(
            Delivery.objects.filter(event_id__in=event_ids[start : start + 500])
            .order_by("id")
            .values_list("event_id", "payload")
        )
    rebuild = [e for e in events if f"msg_audit_{e.pk}" not in sent_before]
    payloads = {f"msg_audit_{event.pk}": payload for event, payload in payloads_for(rebuild)}
    payloads.update(sent_before)
    rows = [
        Delivery(
            endpoint=endpoint,
            event_type=payloads[event_id]["type"],
            event_id=event_id,
            payload=payloads[event_id],
            next_attempt_at=now,
            created_at=now,
        )
        for event_id in event_ids
    ]
    Delivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def endpoint_disable(*, endpoint: Endpoint, reason: str, now: datetime) -> None:
    """The system's disabling of an endpoint that keeps failing; admins are emailed."""
    # Events up to the cursor were planned while it was active; later ones are planned
    # without it, and re-enabling may send them.
    updated = Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False,
        disabled_at=now,
        disabled_reason=reason[:300],
        missed_after_audit_id=Cursor.objects.values_list("last_audit_id", flat=True).first() or 0,
    )
    if not updated:
        return
    audit_record(
        action="webhooks.endpoint.disabled",
        summary=f"Webhook endpoint {endpoint.url} disabled: {reason}",
        data={"endpoint_id": endpoint.pk, "reason": reason},
    )
    admins = get_user_model().objects.filter(
        Q(groups__name=ADMIN) | Q(is_superuser=True), is_active=True
    )
    emails = sorted({user.email for user in admins if user.email})
    if emails:
        text = (
            f"Dunmore stopped sending webhooks to {endpoint.url}: {reason}.\n\n"
            "Fix the receiver, then enable the endpoint again under Settings, Webhooks."
        )
        transaction.on_commit(
            lambda: send_mail("Webhook endpoint disabled", text, None, emails, fail_silently=True)
        )


@transaction.atomic
def delivery_replay(*, actor, delivery: Delivery, now: datetime) -> Delivery:
    """Send a delivery again now, with the same webhook-id; the attempts start over."""
    if delivery.status == DeliveryStatus.SENDING:
        raise WebhookError("This delivery is being sent right now; replay it afterwards.")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(
        action="webhooks.delivery.replayed",
        actor=actor,
        summary=f"Webhook {delivery.event_type} to {delivery.endpoint.url} replayed",
        data={"delivery_id": delivery.pk, "event_id": delivery.event_id},
    )
    return delivery


# --- from the audit trail to deliveries ---------------------------------------------------


@transaction.atomic
def deliveries_plan(*, now: datetime, batch: int = BATCH) -> int:
    """Turn audit events after the cursor into deliveries and move the cursor, in one
    transaction: a crash leaves both as they were, so nothing is lost or made twice.

    The cursor row is locked, so two runs at once take turns. Audit ids commit in order
    because appending to the chain holds one lock until commit (audit.services), so no
    event with a lower id can appear after the cursor has passed it."""
    Cursor.objects.get_or_create(pk=1)
    cursor = Cursor.objects.select_for_update().get(pk=1)
    events = list(
        AuditEvent.objects.filter(pk__gt=cursor.last_audit_id, action__in=list(ACTIONS)).order_by(
            "id"
        )[:batch]
    )
    if not events:
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        if last and last > cursor.last_audit_id:
            cursor.last_audit_id = last
            cursor.save(update_fields=["last_audit_id"])
        return 0
    endpoints = list(Endpoint.objects.filter(active=True))
    rows = []
    for event, payload in payloads_for(events if endpoints else []):
        for endpoint in endpoints:
            if (
                payload["type"] in endpoint.event_types
                and event.pk > endpoint.starts_after_audit_id
            ):
                rows.append(
                    Delivery(
                        endpoint=endpoint,
                        event_type=payload["type"],
                        event_id=f"msg_audit_{event.pk}",
                        payload=payload,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    cursor.last_audit_id = events[-1].pk
    cursor.save(update_fields=["last_audit_id"])
    return len(rows)


# --- attempts -----------------------------------------------------------------------------


def delivery_claim(*, delivery_id: int, now: datetime) -> bool:
    """Compare-and-set: only one worker sends a given delivery.

    No join to the endpoint: Django would make it `WHERE id IN (SELECT … JOIN …)`, and
    PostgreSQL re-checks a row a concurrent claim changed against the UPDATE's own conditions
    only, not that subquery's — two workers both claimed the same delivery."""
    active = Endpoint.objects.filter(active=True).values("pk")
    return (
        Delivery.objects.filter(
            pk=delivery_id,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
            next_attempt_at__lte=now,
            endpoint_id__in=active,  # disabled during this run: the rest wait for enabling
        ).update(status=DeliveryStatus.SENDING, claimed_at=now)
        == 1
    )


def deliveries_release_stale(*, older_than: datetime) -> int:
    """A worker that died mid-send leaves its claim; put it back to be sent again. The
    receiver may then get it twice, which Standard Webhooks allows: receivers dedupe by
    the webhook-id header, which stays the same."""
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=older_than).update(
        status=DeliveryStatus.PENDING
    )


@transaction.atomic
def delivery_record_attempt(
    *,
    delivery_id: int,
    now: datetime,
    status_code: int | None,
    body: str,
    error: str,
) -> Delivery:
    delivery = Delivery.objects.select_for_update().select_related("endpoint").get(pk=delivery_id)
    endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_response_body = body[:RESPONSE_BODY_LIMIT]
    delivery.last_error = error[:500]
    delivery.claimed_at = None
    succeeded = status_code is not None and 200 <= status_code < 300
    if succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        endpoint.consecutive_failures = 0
    else:
        endpoint.consecutive_failures += 1
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.GIVEN_UP
            delivery.next_attempt_at = None
        else:
            delivery.status = DeliveryStatus.FAILED
            delay = RETRY_DELAYS_MINUTES[delivery.attempts - 1]
            delivery.next_attempt_at = now + timedelta(minutes=delay)
    delivery.save()
    endpoint.save(update_fields=["consecutive_failures"])
    if not succeeded and endpoint.active:
        if endpoint.consecutive_failures >= DISABLE_AFTER_FAILURES:
            endpoint_disable(
                endpoint=endpoint,
                reason=f"{endpoint.consecutive_failures} deliveries in a row failed",
                now=now,
            )
        elif delivery.status == DeliveryStatus.GIVEN_UP:
            endpoint_disable(
                endpoint=endpoint,
                reason="a delivery failed every retry for a day",
                now=now,
            )
    return delivery
