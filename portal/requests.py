"""Requests from the customer's page that a collector decides (portal.models.CustomerRequest).
Making one is here, shared by the journeys; deciding is in portal.request_views."""

import datetime as dt

from django.db import transaction

from audit.services import audit_record
from dunning.queue import queue_refresh

from .models import CustomerRequest, PortalLink, RequestKind


def came_from(link: PortalLink) -> dict:
    """What every audit event of the customer's page carries: the contact and the link."""
    return {"via": "customer_page", "contact_id": link.contact_id, "link_id": link.pk}


@transaction.atomic
def customer_request_make(
    *, link: PortalLink, kind: str, proposal: dict, message: str, summary: str, now: dt.datetime
) -> CustomerRequest:
    """Record what the customer asked for, audited with the contact and link it came from;
    it waits in the collectors' list of requests."""
    request = CustomerRequest.objects.create(
        customer_id=link.customer_id,
        contact_id=link.contact_id,
        link=link,
        kind=kind,
        proposal=proposal,
        message=message,
        made_at=now,
    )
    audit_record(
        action=f"portal.request.{RequestKind(kind).value}.made",
        customer_id=link.customer_id,
        label="customer page",
        summary=summary,
        data={**came_from(link), "request_id": request.pk, "proposal": proposal},
    )
    queue_refresh(customer_ids=[link.customer_id])
    return request
