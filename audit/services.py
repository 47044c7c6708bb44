import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from collections_app.pgcopy import copy_rows

from .models import GENESIS_HASH, AuditEvent, canonical_json, chain_hash

# Any constant works; it names the one lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x0D0_A0D17
_COLUMNS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "customer_id",
    "invoice_id",
    "summary",
    "data",
    "prev_hash",
    "hash",
)


@dataclass
class Event:
    action: str
    summary: str = ""
    customer_id: int | None = None
    invoice_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # data already through canonical_json, from a caller that writes many alike (the
    # dunning run): stored and hashed as it is, in place of data.
    data_json: str = ""


def actor_label(actor) -> str:
    if actor is None:
        return "system"
    return actor.get_username()


def _lock_chain_and_get_head() -> str:
    # Two transactions appending at once would both chain onto the same head and fork the
    # chain. PostgreSQL: a transaction-scoped advisory lock. SQLite: the IMMEDIATE
    # transaction mode already holds the database write lock for the whole transaction.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    return last or GENESIS_HASH


def _chain(events: Iterable[Event], *, prev: str, at: datetime, actor, label: str) -> list[tuple]:
    """Rows in _COLUMNS order, each hashed onto the one before. data is serialised once:
    the same text is hashed and stored."""
    actor_id = actor.pk if actor is not None else None
    at_text = at.isoformat()
    rows = []
    for event in events:
        summary = event.summary[:300]
        data_json = event.data_json or canonical_json(event.data)
        digest = chain_hash(
            prev_hash=prev,
            at=at_text,
            actor_id=actor_id,
            actor_label=label,
            action=event.action,
            customer_id=event.customer_id,
            invoice_id=event.invoice_id,
            summary=summary,
            data_json=data_json,
        )
        rows.append(
            (at, actor_id, label, event.action, event.customer_id, event.invoice_id)
            + (summary, data_json, prev, digest)
        )
        prev = digest
    return rows


def _copy(rows: list[tuple]) -> None:
    # COPY is the fastest way in for a batch. Ids come from the column's sequence as rows
    # arrive, so under the chain lock they rise in chain order.
    sql = f"COPY {AuditEvent._meta.db_table} ({', '.join(_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor:
        copy_rows(cursor, sql, rows)


def _insert(rows: list[tuple]) -> list[int]:
    events = []
    for row in rows:
        event = AuditEvent(**dict(zip(_COLUMNS, row, strict=True)))
        event.data = json.loads(event.data)  # the field serialises it again
        events.append(event)
    return [event.pk for event in AuditEvent.objects.bulk_create(events, batch_size=1000)]


def _append(events: Iterable[Event], *, actor, label: str | None, at: datetime | None):
    at = at or timezone.now()
    label = label or actor_label(actor)
    return _chain(events, prev=_lock_chain_and_get_head(), at=at, actor=actor, label=label)


@transaction.atomic
def audit_record_many(
    *, events: Iterable[Event], actor=None, label: str | None = None, at: datetime | None = None
) -> int:
    """Append events to the chain in one go, in the caller's transaction; returns how many."""
    rows = _append(events, actor=actor, label=label, at=at)
    if connection.vendor == "postgresql" and len(rows) > 1:
        _copy(rows)
    elif rows:
        _insert(rows)
    return len(rows)


def audit_record(
    *,
    action: str,
    actor=None,
    summary: str = "",
    customer_id: int | None = None,
    invoice_id: int | None = None,
    data: dict | None = None,
    label: str | None = None,
) -> AuditEvent:
    """Append one event; call it inside the transaction that makes the change it describes."""
    data = data or {}
    event = Event(
        action=action, summary=summary, customer_id=customer_id, invoice_id=invoice_id, data=data
    )
    with transaction.atomic():
        (row,) = _append([event], actor=actor, label=label, at=None)
        (pk,) = _insert([row])
    values = dict(zip(_COLUMNS, row, strict=True))
    del values["actor_id"]
    return AuditEvent(pk=pk, actor=actor, **{**values, "data": data})
