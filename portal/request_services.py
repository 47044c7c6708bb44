"""Deciding what customers asked for on their page (portal.models.CustomerRequest): a
collector approves, declines or counters; the customer may accept a counter-offer.

Each decision is a compare-and-set on the request's status, so two collectors (or a collector
and the customer) cannot both decide it; what it approves is applied by the request's kind
in the same transaction (plan: portal.plans, promise: portal.promises, contact details:
portal.contacts), audited with before and after, confirmed to the contact by email, and the
customer's queue row refreshed."""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from accounts.roles import require_change
from audit.services import audit_record
from dunning.exceptions import DunningError
from dunning.queue import queue_refresh
from invoices.dates import format_day
from invoices.money import format_money

from .confirmations import confirmation_queue
from .exceptions import PortalError
from .models import CustomerRequest, PortalLink, RequestKind, RequestStatus
from .plans import schedule_of, schedule_words
from .requests import came_from

Status = RequestStatus


def offer_words(request: CustomerRequest, offer: dict) -> str:
    """A proposal or counter-offer as the confirmation email and the audit summary say it."""
    currency = request.customer.currency
    if request.kind == RequestKind.PLAN:
        return schedule_words(schedule_of(offer.get("instalments", [])), currency)
    if request.kind == RequestKind.PROMISE:
        amount = offer.get("amount")
        day = offer.get("promised_for")
        money = format_money(Decimal(amount), currency) if amount else "the amount"
        return f"{money} by {format_day(dt.date.fromisoformat(day))}" if day else money
    return "\n".join(f"{field}: {value}" for field, value in offer.items())


def _apply(*, actor, request: CustomerRequest, now: dt.datetime, counter: dict | None = None):
    # The other journeys' modules are imported here, when a decision is made, so deciding a
    # plan works whether or not they are installed.
    try:
        if request.kind == RequestKind.PLAN:
            from .plans import plan_request_apply

            return plan_request_apply(actor=actor, request=request, now=now, counter=counter)
        if request.kind == RequestKind.PROMISE:
            from .promises import promise_request_apply

            return promise_request_apply(actor=actor, request=request, now=now, counter=counter)
        from .contacts import contact_request_apply

        return contact_request_apply(actor=actor, request=request, now=now)
    except DunningError as error:
        raise PortalError(str(error)) from error


def _claim(request: CustomerRequest, *, was: str, **fields) -> None:
    """Move the request on from `was`, or refuse if someone decided it meanwhile."""
    if not CustomerRequest.objects.filter(pk=request.pk, status=was).update(**fields):
        request.refresh_from_db()
        who = request.decided_by
        by = f" by {who.get_full_name() or who.get_username()}" if who else ""
        raise PortalError(
            f"This request was already {request.get_status_display().lower()}{by}: "
            "nothing was changed."
        )
    for name, value in fields.items():
        setattr(request, name, value)


def _greeting(request: CustomerRequest) -> str:
    return f"Dear {request.contact.name or request.customer.name},\n\n"


def _record(*, request: CustomerRequest, action: str, actor, summary: str, data: dict, **extra):
    audit_record(
        action=action,
        actor=actor,
        customer_id=request.customer_id,
        summary=summary,
        data={
            "request_id": request.pk,
            "kind": request.kind,
            # Whose request it was and the link it came by, whoever decides it.
            "contact_id": request.contact_id,
            "link_id": request.link_id,
            **data,
        },
        **extra,
    )
    queue_refresh(customer_ids=[request.customer_id])


@transaction.atomic
def request_approve(
    *, actor, request: CustomerRequest, now: dt.datetime, note: str = ""
) -> CustomerRequest:
    """Approve what the customer asked for, as they asked it."""
    require_change(actor, request.customer)
    _claim(
        request,
        was=Status.PENDING,
        status=Status.APPROVED,
        decided_at=now,
        decided_by=actor,
        decision_note=note,
    )
    made = _apply(actor=actor, request=request, now=now)
    label = request.get_kind_display()
    _record(
        request=request,
        action="portal.request.approved",
        actor=actor,
        summary=f"{label} request approved",
        data={
            "before": {"status": Status.PENDING},
            "after": {"status": Status.APPROVED, "note": note},
            "made_id": getattr(made, "pk", None),
        },
    )
    confirmation_queue(
        contact=request.contact,
        key=f"request-approved:{request.pk}",
        subject=f"Your request is approved: {label.lower()}",
        text=_greeting(request)
        + f"We have approved your request ({label.lower()}):\n\n"
        + offer_words(request, request.proposal)
        + (f"\n\n{note}" if note else "")
        + "\n",
        now=now,
    )
    return request


@transaction.atomic
def request_decline(
    *, actor, request: CustomerRequest, now: dt.datetime, note: str
) -> CustomerRequest:
    """Decline the request; the note (why) is shown to the customer and emailed to them."""
    require_change(actor, request.customer)
    if not note.strip():
        raise PortalError("Say why: the customer reads this note.")
    _claim(
        request,
        was=Status.PENDING,
        status=Status.DECLINED,
        decided_at=now,
        decided_by=actor,
        decision_note=note,
    )
    label = request.get_kind_display()
    _record(
        request=request,
        action="portal.request.declined",
        actor=actor,
        summary=f"{label} request declined",
        data={
            "before": {"status": Status.PENDING},
            "after": {"status": Status.DECLINED, "note": note},
        },
    )
    confirmation_queue(
        contact=request.contact,
        key=f"request-declined:{request.pk}",
        subject=f"Your request: {label.lower()}",
        text=_greeting(request)
        + f"We cannot agree to your request ({label.lower()}):\n\n"
        + offer_words(request, request.proposal)
        + f"\n\nOur reason: {note}\n\nPlease contact us to talk it over.\n",
        now=now,
    )
    return request


@transaction.atomic
def request_counter(
    *, actor, request: CustomerRequest, counter: dict, now: dt.datetime, note: str = ""
) -> CustomerRequest:
    """Answer a plan or promise request with another offer; the customer may accept it on
    their page (request_counter_accept)."""
    require_change(actor, request.customer)
    if request.kind == RequestKind.CONTACT:
        raise PortalError("A change of contact details is approved or declined, not countered.")
    _claim(
        request,
        was=Status.PENDING,
        status=Status.COUNTERED,
        decided_at=now,
        decided_by=actor,
        decision_note=note,
        counter=counter,
    )
    label = request.get_kind_display()
    offered = offer_words(request, counter)
    _record(
        request=request,
        action="portal.request.countered",
        actor=actor,
        summary=f"{label} request answered with another offer",
        data={
            "before": {"status": Status.PENDING, "proposal": request.proposal},
            "after": {"status": Status.COUNTERED, "counter": counter, "note": note},
        },
    )
    confirmation_queue(
        contact=request.contact,
        key=f"request-countered:{request.pk}",
        subject=f"Our answer to your request: {label.lower()}",
        text=_greeting(request)
        + f"We cannot agree to your request ({label.lower()}) as it stands, "
        + "but we can offer this instead:\n\n"
        + offered
        + (f"\n\n{note}" if note else "")
        + "\n\nTo accept it, open your page from the link in our message and choose "
        + '"Accept this offer".\n',
        now=now,
    )
    return request


@transaction.atomic
def request_counter_accept(
    *, link: PortalLink, request: CustomerRequest, now: dt.datetime
) -> CustomerRequest:
    """The customer accepts the collector's counter-offer on their page: it is applied as
    if approved (for a plan, the plan is agreed) and the request becomes approved."""
    if request.customer_id != link.customer_id:
        raise PortalError("This offer is not for this account.")
    _claim(request, was=Status.COUNTERED, status=Status.APPROVED)
    made = _apply(actor=None, request=request, now=now, counter=request.counter)
    label = request.get_kind_display()
    _record(
        request=request,
        action="portal.request.accepted",
        actor=None,
        summary=f"Customer accepted the offer on their {label.lower()} request",
        data={
            **came_from(link),
            "before": {"status": Status.COUNTERED},
            "after": {"status": Status.APPROVED, "counter": request.counter},
            "made_id": getattr(made, "pk", None),
        },
        label="customer page",
    )
    confirmation_queue(
        contact=link.contact,
        key=f"request-accepted:{request.pk}",
        subject=f"You accepted our offer: {label.lower()}",
        text=_greeting(request)
        + "Thank you: you accepted our offer, and it is now agreed:\n\n"
        + offer_words(request, request.counter or {})
        + "\n",
        now=now,
    )
    return request
