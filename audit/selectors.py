import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Max,
    Q,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncMinute
from django.utils import timezone

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
    # For an entry that stands for a group of events (see audit_timeline_page): the head
    # event's id -> how many events the group holds and those fetched, newest first.
    groups: dict[int, "EventGroup"] = field(default_factory=dict)


@dataclass
class EventGroup:
    size: int
    members: list[AuditEvent]


# The key under which a bulk load names its batch in an event's data.
BATCH_KEY = "import_batch"
# A group larger than this is summarised by its count alone: its members stay in the trail.
GROUP_MEMBERS_FETCHED = 100


def audit_timeline_page(
    *,
    customer_id: int | None = None,
    invoice_id: int | None = None,
    actions: Sequence[str] = (),
    exclude: Sequence[str] = (),
    only: Collection[str] | None = None,
    leave_out: Collection[str] = (),
    grouped: Collection[str] = (),
    batched: Collection[str] = (),
    before: int | None = None,
    per_page: int = 50,
) -> TimelinePage:
    """One page of a timeline, newest first, paged by entry id rather than by offset: an
    event appended meanwhile does not shift the pages.

    actions / exclude filter by prefix, only / leave_out by exact name. Events of one
    actor and one `grouped` action make one entry per import batch (BATCH_KEY in their
    data), or else per minute: a load of 300 invoices is one entry, not 300. A `batched`
    action groups the same way, but only events from an import batch or recorded by the
    system (no person): a person's payments stay one entry each. An entry's id is its
    newest event's, so a group never straddles two pages. Two queries however many events;
    with groups, the database counts the events of the customer (or invoice) per page."""
    # The actor's name is on each event (actor_label): no join to the users, and the
    # chain's hashes stay in the database.
    base = _timeline_events(
        customer_id=customer_id,
        invoice_id=invoice_id,
        actions=actions,
        exclude=exclude,
    ).select_related(None)
    if only is not None:
        base = base.filter(action__in=list(only))
    if leave_out:
        base = base.exclude(action__in=list(leave_out))
    if not grouped and not batched:
        return _ungrouped_page(base, before=before, per_page=per_page)
    rows = list(_entries(base, grouped=grouped, batched=batched, before=before)[: per_page + 1])
    heads = rows[:per_page]
    for row in heads:
        # Inside a Case the truncation comes back without its time zone on PostgreSQL (it
        # is the current one: the one it truncated in).
        if row["g_minute"] is not None and timezone.is_naive(row["g_minute"]):
            row["g_minute"] = timezone.make_aware(row["g_minute"])
    events = _entry_events(base, heads)
    page = TimelinePage(
        events=[events[row["head"]] for row in heads if row["head"] in events],
        older_before=heads[-1]["head"] if len(rows) > per_page else None,
        is_older=before is not None,
    )
    by_key: dict[tuple, list[AuditEvent]] = {}
    for event in sorted(events.values(), key=lambda e: e.pk, reverse=True):
        by_key.setdefault(_key(event), []).append(event)
    for row in heads:
        if row["g_self"] == 0:
            members = by_key.get(_row_key(row)) or [events[row["head"]]]
            page.groups[row["head"]] = EventGroup(size=row["size"], members=members)
    return page


def _ungrouped_page(base, *, before: int | None, per_page: int) -> TimelinePage:
    if before is not None:
        base = base.filter(id__lt=before)
    rows = list(base.defer("prev_hash", "hash")[: per_page + 1])
    events = rows[:per_page]
    older = events[-1].pk if len(rows) > per_page else None
    return TimelinePage(events=events, older_before=older, is_older=before is not None)


def _entries(base, *, grouped, batched, before):
    """The page's entries as rows: head (the newest event's id), size, and the group's key
    (g_self is the event's own id for an event that stands alone, 0 for a group)."""
    has_batch = Q(**{f"data__{BATCH_KEY}__isnull": False})
    in_batch = Q(action__in=[*grouped, *batched]) & has_batch
    by_system = Q(action__in=list(batched)) & Q(actor__isnull=True)
    by_minute = (Q(action__in=list(grouped)) | by_system) & ~has_batch
    rows = (
        base.order_by()
        .annotate(
            g_batch=Case(
                When(in_batch, then=Cast(KeyTextTransform(BATCH_KEY, "data"), CharField())),
                default=Value(None),
                output_field=CharField(),
            ),
            g_minute=Case(
                When(by_minute, then=TruncMinute("at")),
                default=Value(None),
                output_field=DateTimeField(),
            ),
            g_self=Case(
                When(in_batch | by_minute, then=Value(0)),
                default=F("id"),
                output_field=BigIntegerField(),
            ),
        )
        .values("g_self", "action", "actor_label", "g_batch", "g_minute")
        .annotate(head=Max("id"), size=Count("id"))
    )
    if before is not None:
        # On the group's newest event: a group shown on an earlier page stays there whole.
        rows = rows.filter(head__lt=before)
    return rows.order_by("-head")


def _entry_events(base, heads: list[dict]) -> dict[int, AuditEvent]:
    """The events of the page's entries by id: each lone event and head, and the members
    of each group (only its head when it is larger than GROUP_MEMBERS_FETCHED)."""
    if not heads:
        return {}
    wanted = Q(id__in=[row["head"] for row in heads])
    for row in heads:
        if row["g_self"] != 0 or row["size"] > GROUP_MEMBERS_FETCHED:
            continue
        same = Q(action=row["action"], actor_label=row["actor_label"], id__lte=row["head"])
        if row["g_batch"] is not None:
            same &= Q(g_batch=row["g_batch"])
        elif (minute := row["g_minute"]) is not None:
            same &= Q(at__gte=minute, at__lt=minute + dt.timedelta(minutes=1), g_batch=None)
        else:  # a batch key holding null: nothing to match the others by
            continue
        wanted |= same
    events = (
        base.alias(g_batch=Cast(KeyTextTransform(BATCH_KEY, "data"), CharField()))
        .filter(wanted)
        .defer("prev_hash", "hash")
    )
    return {event.pk: event for event in events}


def _key(event: AuditEvent) -> tuple:
    batch = (event.data or {}).get(BATCH_KEY) if isinstance(event.data, dict) else None
    if batch is not None:
        return (event.action, event.actor_label, str(batch), None)
    minute = event.at.replace(second=0, microsecond=0)
    return (event.action, event.actor_label, None, minute)


def _row_key(row: dict) -> tuple:
    if row["g_batch"] is not None:
        return (row["action"], row["actor_label"], str(row["g_batch"]), None)
    return (row["action"], row["actor_label"], None, row["g_minute"])
