from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import GENESIS_HASH, AuditEvent

# Any constant works; it names the one lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x0D0_A0D17


@dataclass
class Event:
    action: str
    summary: str = ""
    customer_id: int | None = None
    invoice_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


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


@transaction.atomic
def audit_record_many(
    *, events: Iterable[Event], actor=None, label: str | None = None, at: datetime | None = None
) -> list[AuditEvent]:
    """Append events to the chain in one go, in the caller's transaction."""
    at = at or timezone.now()
    label = label or actor_label(actor)
    prev = _lock_chain_and_get_head()
    rows = []
    for event in events:
        row = AuditEvent(
            at=at,
            actor=actor,
            actor_label=label,
            action=event.action,
            customer_id=event.customer_id,
            invoice_id=event.invoice_id,
            summary=event.summary[:300],
            data=event.data,
            prev_hash=prev,
        )
        row.hash = row.compute_hash()
        prev = row.hash
        rows.append(row)
    return AuditEvent.objects.bulk_create(rows, batch_size=1000)


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
    event = Event(
        action=action,
        summary=summary,
        customer_id=customer_id,
        invoice_id=invoice_id,
        data=data or {},
    )
    return audit_record_many(events=[event], actor=actor, label=label)[0]
