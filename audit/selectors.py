from dataclasses import dataclass

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


def audit_timeline(
    *, customer_id: int | None = None, invoice_id: int | None = None, limit: int = 100
):
    qs = AuditEvent.objects.select_related("actor").order_by("-id")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if invoice_id is not None:
        qs = qs.filter(invoice_id=invoice_id)
    return list(qs[:limit])
