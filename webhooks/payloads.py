"""The JSON body of each webhook, built from an audit event. Money goes out as strings with
its currency, never as numbers a receiver might read as floats."""

from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation

from audit.models import AuditEvent
from invoices.models import Customer, Invoice

from .events import ACTIONS

# Keys of an audit event's data that hold an amount of money.
MONEY_KEYS = ("amount", "total", "unallocated", "open_balance")


def _money(value) -> str | None:
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return None


def _invoice_refs(event: AuditEvent) -> tuple[set[int], set[str]]:
    data = event.data or {}
    ids = {event.invoice_id} if event.invoice_id else set()
    ids |= {i for i in data.get("invoice_ids") or [] if isinstance(i, int)}
    numbers = {n for n in data.get("invoices") or [] if isinstance(n, str)}
    numbers |= {a["invoice"] for a in data.get("allocations") or [] if isinstance(a, dict)}
    return ids, numbers


def payloads_for(events: Iterable[AuditEvent]) -> Iterator[tuple[AuditEvent, dict]]:
    """(event, payload) for each audit event, with customers and invoices read in bulk."""
    events = list(events)
    customer_ids = {e.customer_id for e in events if e.customer_id}
    found = Customer.objects.filter(pk__in=customer_ids).only("external_id", "name", "currency")
    customers = {c.pk: c for c in found}
    invoice_ids = set().union(*(_invoice_refs(e)[0] for e in events)) if events else set()
    numbers = dict(Invoice.objects.filter(pk__in=invoice_ids).values_list("pk", "number"))
    for event in events:
        ids, named = _invoice_refs(event)
        data = event.data or {}
        customer = customers.get(event.customer_id)
        body = {
            "audit_event_id": event.pk,
            "action": event.action,
            "summary": event.summary,
            "customer": (
                {"external_id": customer.external_id, "name": customer.name} if customer else None
            ),
            "invoice_numbers": sorted(named | {numbers[i] for i in ids if i in numbers}),
        }
        currency = data.get("currency") or (customer.currency if customer else None)
        for key in MONEY_KEYS:
            if key in data and data[key] is not None and _money(data[key]) is not None:
                body[key] = {"value": _money(data[key]), "currency": currency}
        yield (
            event,
            {
                "type": str(ACTIONS[event.action]),
                "timestamp": event.at.isoformat(),
                "data": body,
            },
        )
