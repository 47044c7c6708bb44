"""Phone calls: logging a call with the follow-up its outcome calls for (call_log), and the
rules that say when a customer may be called. The calls page is in the workspace app.

Every follow-up is written in the transaction that logs the call, so a call is never
logged without it, nor it without the call."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.services import audit_record
from invoices.dates import format_day, format_moment, format_time_of_day
from invoices.exceptions import LedgerError
from invoices.models import (
    Contact,
    Customer,
    DebtorType,
    DisputeReason,
    Invoice,
)
from invoices.money import format_money
from invoices.services import dispute_open

from . import services
from .calendar import is_business_day, local_to_utc, next_allowed, zone
from .engine import CONSUMER_CALL_CAP, CONSUMER_CALL_PERIOD, CONSUMER_QUIET_AFTER_CONVERSATION
from .exceptions import DunningError
from .facts import Calendar
from .models import CONVERSATION_OUTCOMES, CallOutcome, Task, TaskKind, TaskStatus
from .queue import queue_refresh
from .selectors import calendar_for

SEARCH_DAYS = 400  # a calendar with no business day in over a year is a configuration error


@dataclass
class CallLogged:
    task: Task  # the call task, now done (an ad-hoc call gets a new done task)
    follow_ups: list[str]  # what was created, in words, for the message shown to the collector


@transaction.atomic
def call_log(
    *,
    actor,
    customer: Customer,
    at: dt.datetime,
    outcome: str,
    notes: str = "",
    task: Task | None = None,
    contact: Contact | None = None,
    promise_amount: Decimal | None = None,
    promise_date: dt.date | None = None,
    promise_invoices: Sequence[Invoice] = (),
    dispute_invoice: Invoice | None = None,
    dispute_reason: str = "",
    dispute_amount: Decimal | None = None,
    call_back_at: dt.datetime | None = None,
) -> CallLogged:
    """Log a call to a customer: close its open call task (or record an ad-hoc call as a
    done one) and create the follow-up the outcome calls for:

    promise        a promise to pay (dunning pauses until its date plus grace)
    dispute        a dispute on the invoice (that invoice leaves dunning)
    plan_requested a task for the caller to set up the plan, due the next business day
    no_answer      a retry call the next business day at the same local time, unless a
                   consumer's call limits (LEGAL.md) forbid it: then none, and why
    wrong_number   a task to fix the contact's phone number
    call_back      a call at the time they asked for, for the caller

    Follow-up data an outcome does not use is ignored. Missing or invalid data raises
    DunningError and nothing is written."""
    notes = notes.strip()
    local_today = at.astimezone(zone(customer.timezone)).date()
    if task is not None:
        task = Task.objects.select_for_update().get(pk=task.pk)
    _check(
        customer=customer,
        at=at,
        outcome=outcome,
        task=task,
        contact=contact,
        today=local_today,
        promise_amount=promise_amount,
        promise_date=promise_date,
        promise_invoices=promise_invoices,
        dispute_invoice=dispute_invoice,
        dispute_reason=dispute_reason,
        call_back_at=call_back_at,
    )
    task = _close(actor=actor, customer=customer, task=task, at=at, outcome=outcome, notes=notes)
    audit_record(
        action="dunning.call.logged",
        actor=actor,
        customer_id=customer.pk,
        summary=f"{task.title}: {task.get_outcome_display()}" + (f" — {notes}" if notes else ""),
        data={
            "task_id": task.pk,
            "outcome": outcome,
            "notes": notes,
            "contact_id": contact.pk if contact else None,
        },
    )
    calendar = calendar_for(at)
    follow_ups = []
    if outcome == CallOutcome.PROMISE:
        promise = services.promise_record(
            actor=actor,
            customer=customer,
            amount=promise_amount,
            promised_for=promise_date,
            made_on=local_today,
            invoices=list(promise_invoices),
            note=notes,
        )
        follow_ups.append(
            f"promise of {format_money(promise.amount, customer.currency)} by "
            f"{format_day(promise.promised_for)} recorded; chasing pauses until "
            f"{format_day(promise.holds_until)}"
        )
    elif outcome == CallOutcome.DISPUTE:
        try:
            dispute = dispute_open(
                actor=actor,
                invoice=dispute_invoice,
                reason=dispute_reason,
                opened_on=local_today,
                detail=notes,
                amount=dispute_amount,
            )
        except LedgerError as error:
            raise DunningError(str(error)) from None
        follow_ups.append(
            f"dispute opened on {dispute_invoice.number} "
            f"({dispute.get_reason_display().lower()}); that invoice is no longer chased"
        )
    elif outcome == CallOutcome.PLAN_REQUESTED:
        follow_ups.append(
            _plan_task(actor=actor, customer=customer, task=task, at=at, cal=calendar)
        )
    elif outcome == CallOutcome.NO_ANSWER:
        follow_ups.append(_retry(actor=actor, customer=customer, task=task, at=at, cal=calendar))
    elif outcome == CallOutcome.WRONG_NUMBER:
        follow_ups.append(_fix_number(actor=actor, customer=customer, task=task, contact=contact))
    elif outcome == CallOutcome.CALL_BACK:
        follow_ups.append(
            _call_back(actor=actor, customer=customer, task=task, at=call_back_at, cal=calendar)
        )
    queue_refresh(customer_ids=[customer.pk], as_of=at)
    return CallLogged(task=task, follow_ups=follow_ups)


def _check(
    *,
    customer: Customer,
    at: dt.datetime,
    outcome: str,
    task: Task | None,
    contact: Contact | None,
    today: dt.date,
    promise_amount,
    promise_date,
    promise_invoices,
    dispute_invoice,
    dispute_reason,
    call_back_at,
) -> None:
    if not outcome:
        raise DunningError("Log the outcome of the call.")
    if outcome not in CallOutcome.values:
        raise DunningError(f"{outcome!r} is not an outcome of a call.")
    if task is not None:
        if task.customer_id != customer.pk:
            raise DunningError("This call task is for another customer.")
        if task.kind != TaskKind.CALL:
            raise DunningError("This task is not a phone call.")
        if task.status != TaskStatus.OPEN:
            raise DunningError("This call has already been logged or cancelled.")
    if contact is not None and contact.customer_id != customer.pk:
        raise DunningError("That contact belongs to another customer.")
    if outcome == CallOutcome.PROMISE:
        if promise_amount is None or promise_date is None:
            raise DunningError("For a promise, say how much they promised and by when.")
        if promise_amount <= 0:
            raise DunningError("A promise must be for more than zero.")
        if promise_date < today:
            raise DunningError("The promised date has passed: a promise is for today or later.")
        if any(inv.customer_id != customer.pk for inv in promise_invoices):
            raise DunningError("A promise can only name the customer's own invoices.")
    elif outcome == CallOutcome.DISPUTE:
        if dispute_invoice is None or not dispute_reason:
            raise DunningError("For a dispute, choose the invoice and the reason.")
        if dispute_invoice.customer_id != customer.pk:
            raise DunningError(f"Invoice {dispute_invoice.number} is another customer's.")
        if dispute_reason not in DisputeReason.values:
            raise DunningError(f"{dispute_reason!r} is not a reason for a dispute.")
    elif outcome == CallOutcome.CALL_BACK:
        _check_call_back(customer=customer, at=at, call_back_at=call_back_at)


def _check_call_back(*, customer: Customer, at: dt.datetime, call_back_at) -> None:
    if call_back_at is None:
        raise DunningError("Say when to call them back.")
    if call_back_at <= at:
        raise DunningError("The time to call back must be in the future.")
    if customer.debtor_type == DebtorType.CONSUMER:
        cal = calendar_for(call_back_at)
        tz = zone(customer.timezone)
        local = call_back_at.astimezone(tz)
        if not cal.phone_start <= local.time() < cal.phone_end:
            raise DunningError(
                f"{customer.name} is a consumer: calls only between "
                f"{format_time_of_day(cal.phone_start)} and {format_time_of_day(cal.phone_end)} "
                f"their time, and {_moment(call_back_at, tz)} is outside those hours."
            )


def _close(*, actor, customer: Customer, task: Task | None, at, outcome: str, notes: str) -> Task:
    if task is None:
        # An ad-hoc call (the collector rang, or the customer did) is recorded as a done
        # task, so it counts towards a consumer's call limits like any other.
        task = Task(
            kind=TaskKind.CALL,
            customer=customer,
            assigned_to=services.person(actor) or customer.collector,
            title=f"Call {customer.name}"[:200],
            due_at=at,
        )
    task.status = TaskStatus.DONE
    task.outcome = outcome
    task.notes = notes
    task.completed_at = at
    task.completed_by = services.person(actor)
    task.save()
    return task


# --- follow-ups -------------------------------------------------------------------------


def _task_created(*, actor, task: Task, call: Task, action: str, summary: str) -> None:
    audit_record(
        action=action,
        actor=actor,
        customer_id=task.customer_id,
        summary=summary,
        data={"task_id": task.pk, "call_task_id": call.pk, "due_at": task.due_at.isoformat()},
    )


def _plan_task(*, actor, customer: Customer, task: Task, at: dt.datetime, cal: Calendar) -> str:
    # An internal task: the caller's own working day, in the organisation's time zone.
    here = timezone.get_current_timezone()
    day = next_business_day(at.astimezone(here).date(), cal)
    plan_task = Task.objects.create(
        kind=TaskKind.INTERNAL,
        customer=customer,
        touch=task.touch,
        assigned_to=services.person(actor) or customer.collector,
        title=f"Set up the payment plan {customer.name} asked for"[:200],
        detail=task.notes,
        due_at=local_to_utc(day, cal.window_start, here),
    )
    _task_created(
        actor=actor,
        task=plan_task,
        call=task,
        action="dunning.task.created",
        summary=f"Task: set up the payment plan they asked for, by {format_day(day)}",
    )
    return f"task to set up the payment plan, due {format_day(day)}"


def _retry(*, actor, customer: Customer, task: Task, at: dt.datetime, cal: Calendar) -> str:
    tz = zone(customer.timezone)
    local = at.astimezone(tz)
    day = next_business_day(local.date(), cal)
    wanted = local_to_utc(day, local.time().replace(second=0, microsecond=0), tz)
    # Never outside the phone hours (PRODUCT.md rule 4): a late call retries at the next
    # opening instead.
    slot = next_allowed(
        wanted, tz, cal, window=(cal.phone_start, cal.phone_end), business_days_only=True
    )
    why_not = ""
    if customer.do_not_contact:
        why_not = f"{customer.name} is marked do not contact"
    elif customer.insolvent:
        why_not = f"{customer.name} is insolvent"
    elif slot.at is None:
        why_not = "the business calendar has no open day within a year"
    elif customer.debtor_type == DebtorType.CONSUMER:
        why_not = consumer_call_limit(customer, slot.at)
    if why_not:
        return f"no retry call booked: {why_not}"
    retry = Task.objects.create(
        kind=TaskKind.CALL,
        customer=customer,
        touch=task.touch,
        assigned_to_id=task.assigned_to_id or getattr(actor, "pk", None),
        title=f"Call {customer.name} again (no answer on {format_day(local.date())})"[:200],
        detail=task.detail,
        due_at=slot.at,
        window_end=local_to_utc(slot.at.astimezone(tz).date(), cal.phone_end, tz),
    )
    when = _moment(slot.at, tz)
    _task_created(
        actor=actor,
        task=retry,
        call=task,
        action="dunning.phone_task.created",
        summary=f"Retry call booked for {when} after no answer",
    )
    return f"retry call booked for {when}"


def _fix_number(*, actor, customer: Customer, task: Task, contact: Contact | None) -> str:
    if contact is not None:
        who = f"{contact}" + (f" ({contact.phone})" if contact.phone else "")
        title = f"Fix the phone number of {who} at {customer.name}"
    else:
        title = f"Fix the phone number of {customer.name}"
    title = title[:200]
    # One open task per wrong number: logging the same wrong number twice adds nothing.
    existing = Task.objects.filter(
        customer=customer, kind=TaskKind.FIX_CONTACT, status=TaskStatus.OPEN, title=title
    ).first()
    if existing:
        return f"the task to fix the number is already open: {existing.title}"
    fix = Task.objects.create(
        kind=TaskKind.FIX_CONTACT,
        customer=customer,
        touch=task.touch,
        assigned_to_id=customer.collector_id or getattr(actor, "pk", None),
        title=title,
        detail="Wrong number" + (f": {task.notes}" if task.notes else ""),
        due_at=task.completed_at,
    )
    _task_created(
        actor=actor,
        task=fix,
        call=task,
        action="dunning.fix_contact_task.created",
        summary=f"Task: {title} (wrong number)",
    )
    return f"task to {title[0].lower()}{title[1:]}"


def _call_back(*, actor, customer: Customer, task: Task, at: dt.datetime, cal: Calendar) -> str:
    tz = zone(customer.timezone)
    call = Task.objects.create(
        kind=TaskKind.CALL,
        customer=customer,
        touch=task.touch,
        assigned_to=services.person(actor) or customer.collector,
        title=f"Call {customer.name} back, as they asked"[:200],
        detail=task.notes,
        due_at=at,
    )
    when = _moment(at, tz)
    _task_created(
        actor=actor,
        task=call,
        call=task,
        action="dunning.phone_task.created",
        summary=f"Call back booked for {when}, as they asked",
    )
    return f"call back booked for {when}"


def next_business_day(day: dt.date, calendar: Calendar) -> dt.date:
    """The first business day after `day`."""
    for _ in range(SEARCH_DAYS):
        day += dt.timedelta(days=1)
        if is_business_day(day, calendar):
            return day
    return day


def consumer_call_limit(customer: Customer, moment: dt.datetime) -> str:
    """Why a call to a consumer at this moment would break Regulation F's limits (at most
    seven calls in seven days; none for seven days after a conversation), or ""."""
    calls = Task.objects.filter(customer=customer, kind=TaskKind.CALL).exclude(
        status=TaskStatus.CANCELLED
    )
    spoke = calls.filter(outcome__in=CONVERSATION_OUTCOMES, completed_at__isnull=False).aggregate(
        last=Max("completed_at")
    )["last"]
    tz = zone(customer.timezone)
    if spoke and moment < spoke + CONSUMER_QUIET_AFTER_CONVERSATION:
        return (
            f"we spoke with them on {_moment(spoke, tz)} and a consumer gets no calls for "
            "7 days after a conversation"
        )
    # A call made counts when it was made, a booked one when it is due.
    near = sorted(
        calls.annotate(when=Coalesce("completed_at", "due_at"))
        .filter(when__gt=moment - CONSUMER_CALL_PERIOD, when__lt=moment + CONSUMER_CALL_PERIOD)
        .values_list("when", flat=True)
    )
    times = sorted([*near, moment])
    # Every seven-day period holding the new call starts at one of these calls.
    for start in (t for t in times if t <= moment):
        if sum(1 for t in times if start <= t < start + CONSUMER_CALL_PERIOD) > CONSUMER_CALL_CAP:
            return (
                f"it would be more than {CONSUMER_CALL_CAP} calls in 7 days, the most a "
                "consumer may get"
            )
    return ""


def _moment(moment: dt.datetime, tz) -> str:
    """A moment in the customer's zone, named: "16 Mar 2026, 09:00 (Europe/London)"."""
    return f"{format_moment(moment, tz=tz)} ({tz.key})"
