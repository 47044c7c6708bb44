from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from audit.models import AuditEvent

from .events import ACTIONS
from .models import Delivery, DeliveryStatus, Endpoint

PAGE_SIZE = 50
# Re-enabling sends at most this many of the events an endpoint missed: the latest ones.
MISSED_CAP = 10_000


def endpoints_for_list():
    return Endpoint.objects.annotate(
        failing=Count(
            "deliveries",
            filter=Q(deliveries__status__in=[DeliveryStatus.FAILED, DeliveryStatus.GIVEN_UP]),
        ),
        succeeded=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SUCCEEDED)),
    ).order_by("id")


def deliveries_page(*, endpoint: Endpoint, page: str | int | None) -> Page:
    deliveries = Delivery.objects.filter(endpoint=endpoint).order_by("-id")
    return Paginator(deliveries, PAGE_SIZE).get_page(page)


def audit_last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def missed_events(*, endpoint: Endpoint, until: int) -> QuerySet[AuditEvent]:
    """The audit events of its event types planned while it was disabled, up to `until`,
    that it has no delivery of (one planned in a race with its disabling is not missed)."""
    if endpoint.missed_after_audit_id is None:
        return AuditEvent.objects.none()
    actions = [action for action, event in ACTIONS.items() if event in endpoint.event_types]
    delivered = Delivery.objects.filter(
        endpoint=endpoint,
        event_id=Concat(Value("msg_audit_"), Cast(OuterRef("pk"), CharField())),
    )
    return AuditEvent.objects.filter(
        pk__gt=max(endpoint.missed_after_audit_id, endpoint.starts_after_audit_id),
        pk__lte=until,
        action__in=actions,
    ).exclude(Exists(delivered))


@dataclass(frozen=True)
class Missed:
    count: int  # all it missed
    sendable: int  # how many re-enabling would send: at most MISSED_CAP
    since: datetime | None  # when the first of those it would send happened

    @property
    def left_out(self) -> int:
        return self.count - self.sendable


def missed_summary(*, endpoint: Endpoint, until: int | None = None) -> Missed:
    events = missed_events(endpoint=endpoint, until=audit_last_id() if until is None else until)
    count = events.count()
    if not count:
        return Missed(0, 0, None)
    first = events.order_by("-id").values_list("at", flat=True)[min(count, MISSED_CAP) - 1]
    return Missed(count, min(count, MISSED_CAP), first)
