from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from .models import GENESIS_HASH, AuditEvent


@dataclass
class ChainBreak:
    event_id: int
    reason: str


def audit_chain_verify(*, chunk_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in order; return how many events were checked and the first break."""
    prev_hash = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if event.prev_hash != prev_hash:
            return checked, ChainBreak(
                event.pk,
                "its link to the previous event does not match: an earlier event was "
                "deleted or altered",
            )
        if event.compute_hash() != event.hash:
            return checked, ChainBreak(event.pk, "its contents were altered after it was written")
        prev_hash = event.hash
        checked += 1
    return checked, None


def _timeline_events(
    *,
    customer_id: int | None,
    invoice_id: int | None,
    actions: Sequence[str] = (),
    exclude: Sequence[str] = (),
    before: int | None = None,
):
    qs = AuditEvent.objects.select_related("actor").order_by("-id")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if invoice_id is not None:
        qs = qs.filter(invoice_id=invoice_id)
    if actions:
        qs = qs.filter(_any_prefix(actions))
    if exclude:
        qs = qs.exclude(_any_prefix(exclude))
    if before is not None:
        qs = qs.filter(id__lt=before)
    return qs


def _any_prefix(prefixes: Sequence[str]) -> Q:
    condition = Q()
    for prefix in prefixes:
        condition |= Q(action__startswith=prefix)
    return condition


def audit_timeline(
    *,
    customer_id: int | None = None,
    invoice_id: int | None = None,
    limit: int = 100,
    actions: Sequence[str] = (),
    exclude: Sequence[str] = (),
):
    """The newest events about a customer or an invoice, newest first. actions / exclude:
    keep only, or leave out, actions starting with any of these prefixes."""
    events = _timeline_events(
        customer_id=customer_id, invoice_id=invoice_id, actions=actions, exclude=exclude
    )
    return list(events[:limit])


@dataclass
class TimelinePage:
    events: list[AuditEvent]
    # The id to pass as `before` for the next, older page; None on the last page.
    older_before: int | None
    # Whether this page starts somewhere below the newest event.
    is_older: bool


def audit_timeline_page(
    *,
    customer_id: int | None = None,
    invoice_id: int | None = None,
    actions: Sequence[str] = (),
    exclude: Sequence[str] = (),
    before: int | None = None,
    per_page: int = 50,
) -> TimelinePage:
    """One page of a timeline, newest first, paged by event id rather than by offset: the
    thousandth event costs what the first does, and an event appended meanwhile does not
    shift the pages."""
    # The actor's name is on each event (actor_label): no join to the users, and the
    # chain's hashes stay in the database.
    rows = list(
        _timeline_events(
            customer_id=customer_id,
            invoice_id=invoice_id,
            actions=actions,
            exclude=exclude,
            before=before,
        )
        .select_related(None)
        .defer("prev_hash", "hash")[: per_page + 1]
    )
    events = rows[:per_page]
    older = events[-1].pk if len(rows) > per_page else None
    return TimelinePage(events=events, older_before=older, is_older=before is not None)
