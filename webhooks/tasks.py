"""The worker's part: every minute, turn new audit events into deliveries and send what is
due. Entry points read the clock; the functions below take `now`."""

from datetime import datetime, timedelta

from django.utils import timezone

from .models import Delivery, DeliveryStatus
from .sending import TIMEOUT_SECONDS, post
from .services import (
    deliveries_plan,
    deliveries_release_stale,
    delivery_claim,
    delivery_record_attempt,
)

# A claim older than this was left by a worker that died mid-send.
STALE_AFTER = timedelta(seconds=TIMEOUT_SECONDS * 6)
PER_RUN = 1000
# A run stops starting new sends after this long, so runs a minute apart rarely overlap
# (they may: claims keep each delivery to one sender) and never near django-q's timeout.
RUN_BUDGET = timedelta(seconds=50)


def deliveries_send(
    *, now: datetime, limit: int = PER_RUN, timeout: float = TIMEOUT_SECONDS, clock=timezone.now
):
    """Send the deliveries due as of now; returns how many were attempted.

    Each claim and signature reads the clock at its own send: a run held up by slow
    receivers must not sign late deliveries with a timestamp receivers reject as too old."""
    deliveries_release_stale(older_than=now - STALE_AFTER)
    due = list(
        Delivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
            next_attempt_at__lte=now,
            endpoint__active=True,
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    attempted = 0
    started = clock()
    for delivery_id in due:
        if clock() - started > RUN_BUDGET:
            break  # the next run takes the rest
        sent_at = max(now, clock())
        if not delivery_claim(delivery_id=delivery_id, now=sent_at):
            continue  # another worker has it
        delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
        answer = post(delivery, now=sent_at, timeout=timeout)
        delivery_record_attempt(
            delivery_id=delivery_id,
            now=now,
            status_code=answer.status_code,
            body=answer.body,
            error=answer.error,
        )
        attempted += 1
    return attempted


def webhooks_task() -> str:
    planned = deliveries_plan(now=timezone.now())
    sent = deliveries_send(now=timezone.now())
    return f"{planned} deliveries planned, {sent} attempted"
