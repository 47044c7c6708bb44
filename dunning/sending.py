"""The customer's next step, brought forward by a collector: previewed exactly as it would
go out, and sent now rather than when the engine would send it.

Sending records the step through the run's own machinery (planning.plans_record: the same
chase, the same unique touch key) and delivers it through touches_deliver, so the run that
comes later finds the step done and never sends it twice."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from audit.services import audit_record
from invoices.dates import format_moment, format_time_of_day
from invoices.models import Customer
from letters.exceptions import LetterError
from letters.render import Parts, letter_page, message_render
from letters.selectors import language_of, template_version_current

from . import delivery, services
from .calendar import zone
from .engine import plan_customer
from .exceptions import DunningError
from .facts import Calendar, CustomerPlan
from .models import Channel, Touch, TouchStatus
from .planning import plans_record
from .queue import queue_refresh
from .selectors import MESSAGE_CHANNELS, Loaded, StepRow, Steps, calendar_for, facts_load

NOT_A_MESSAGE = {
    Channel.PHONE: "it is a phone call: make it from the phone tasks page",
    Channel.TASK: "it is an internal task, not a message",
    Channel.LEGAL: "it is a legal referral, which a manager approves",
}


@dataclass
class NextStep:
    step_name: str
    channel: str
    due_at: dt.datetime  # when the engine would take it (UTC)
    reason: str
    invoice_numbers: list[str]  # what a message sent now covers, oldest first
    total: Decimal
    currency: str
    # Rendered exactly as it would be sent now (email and letter steps); "" otherwise.
    subject: str
    body_text: str
    body_html: str
    can_send_now: bool
    why_not: str  # why it cannot be sent now, in words ("" when it can)
    letter_html: str = ""  # a letter step's letter, as the page its PDF is made from


@dataclass(frozen=True)
class _Found:
    """The engine's next action for a customer, with what preview and send share."""

    item: Loaded
    plan: CustomerPlan  # with an action
    step: StepRow
    invoice_ids: tuple[int, ...]  # what sending now covers
    steps: Steps
    calendar: Calendar

    @property
    def total(self) -> Decimal:
        chosen = set(self.invoice_ids)
        invoices = self.item.facts.invoices
        return sum((inv.balance for inv in invoices if inv.id in chosen), Decimal("0"))


def next_step_preview(*, customer: Customer, as_of: dt.datetime) -> NextStep | None:
    """The engine's next step for the customer and, for a message or letter, its text as it
    would go out if sent now. None when nothing is planned (paused, or nothing to chase)."""
    found = _next(customer, as_of=as_of)
    if isinstance(found, str):
        return None
    action = found.plan.action
    why_not = _why_not(customer, found, as_of=as_of)
    rendered = {"subject": "", "body_text": "", "body_html": "", "letter_html": ""}
    if action.step.channel in MESSAGE_CHANNELS:
        try:
            rendered = _render(customer, found, as_of=as_of)
        except LetterError as error:
            why_not = why_not or str(error)
    numbers = {inv.id: inv.number for inv in found.item.facts.invoices}
    return NextStep(
        step_name=action.step.name,
        channel=action.step.channel,
        due_at=action.due_at,
        reason=found.plan.explanation,
        invoice_numbers=[numbers[i] for i in found.invoice_ids],
        total=found.total,
        currency=found.item.facts.currency,
        can_send_now=not why_not,
        why_not=why_not,
        **rendered,
    )


def next_step_send_now(*, actor, customer: Customer, as_of: dt.datetime) -> Touch:
    """Send the customer's next step now, even if the engine would send it later.

    1. Check it may go now (DunningError, nothing written, if not): a message or letter,
       not paused, contactable, and for a consumer inside their contact hours.
    2. In one transaction: record its touch as the run would (same unique key), by the
       actor and not automated, and audit who brought it forward.
    3. Deliver it (touches_deliver for this customer), which audits the send and rewrites
       the customer's queue row: its last touch is this step, its next step the one after.
    The record commits before the send, as in a run: a crash mid-send leaves the touch
    claimed, never sent twice. Returns the touch as delivery left it."""
    found = _next(customer, as_of=as_of)
    if isinstance(found, str):
        raise DunningError(found)
    why_not = _why_not(customer, found, as_of=as_of)
    if why_not:
        raise DunningError(f"The next step cannot be sent now: {why_not}")
    if found.step.fact.channel in MESSAGE_CHANNELS:
        try:
            _render(customer, found, as_of=as_of)  # a template that cannot render stops here
        except LetterError as error:
            raise DunningError(f"The next step cannot be sent now: {error}") from None
    action = found.plan.action
    planned_for = action.due_at
    brought = action._replace(
        due_at=as_of,
        invoice_ids=found.invoice_ids,
        total=found.total,
        reason=f"Sent now by {_who(actor)}. {action.reason}"
        if planned_for <= as_of
        else f"Brought forward by {_who(actor)} from {_moment(planned_for, customer)}. "
        f"{action.reason}",
    )
    with transaction.atomic():
        [result] = plans_record(
            [(found.item, found.plan._replace(action=brought))],
            as_of=as_of,
            steps=found.steps,
            calendar=found.calendar,
        )
        if result.touch_id is None:
            raise DunningError(
                f"{action.step.name} has just been planned by the scheduled run; it goes out "
                "in a moment."
            )
        Touch.objects.filter(pk=result.touch_id).update(automated=False, created_by=actor)
        audit_record(
            action="dunning.touch.sent_now",
            actor=actor,
            customer_id=customer.pk,
            summary=f"{action.step.name} sent now by {_who(actor)}"
            + (f", ahead of {_moment(planned_for, customer)}" if planned_for > as_of else ""),
            data={
                "touch_id": result.touch_id,
                "step": action.step.name,
                "channel": action.step.channel,
                "planned_for": planned_for.isoformat(),
                "invoice_ids": list(brought.invoice_ids),
                "total": str(brought.total),
            },
        )
    delivered = services.touches_deliver(as_of=as_of, customer_ids=[customer.pk])
    if not any(result.customer_id == customer.pk for result in delivered):
        # Nothing moved (another worker has it): the row still shows the step recorded.
        queue_refresh(customer_ids=[customer.pk], as_of=as_of)
    return Touch.objects.select_related("step").get(pk=result.touch_id)


# --- shared by preview and send ---------------------------------------------------------


def _next(customer: Customer, *, as_of: dt.datetime) -> _Found | str:
    """The engine's next action for the customer, or why there is none, in words."""
    if customer.do_not_contact:
        return f"{customer.name} is marked do not contact."
    if customer.insolvent:
        return f"{customer.name} is insolvent: nothing is sent to them."
    steps = Steps()
    calendar = calendar_for(as_of)
    loaded = facts_load([customer.pk], as_of=as_of, steps=steps, calendar=calendar)
    if not loaded:
        return f"Nothing to send: {customer.name} has no open invoices."
    item = loaded[0]
    plan = plan_customer(item.facts, steps.facts_of(item.customer.version_id), calendar, as_of)
    if plan.action is None:
        return f"Nothing to send. {plan.explanation}"
    return _Found(
        item=item,
        plan=plan,
        step=steps.by_id[plan.action.step.id],
        invoice_ids=_covered_now(item, plan, as_of),
        steps=steps,
        calendar=calendar,
    )


def _covered_now(item: Loaded, plan: CustomerPlan, as_of: dt.datetime) -> tuple[int, ...]:
    """The engine chose the invoices for the day the step is due; sent today, the message
    covers those already as late as the step expects (the driving invoice always)."""
    action = plan.action
    today = as_of.astimezone(zone(item.facts.timezone)).date()
    threshold = min(action.step.offset_days, 1)
    due = {inv.id: inv.due_date for inv in item.facts.invoices}
    ready = tuple(i for i in action.invoice_ids if (today - due[i]).days >= threshold)
    return ready or action.invoice_ids[:1]


def _why_not(customer: Customer, found: _Found, *, as_of: dt.datetime) -> str:
    action = found.plan.action
    channel = action.step.channel
    if action.skip:
        return f"{action.step.name} would be skipped. {action.reason}"
    if channel not in MESSAGE_CHANNELS:
        return f"{action.step.name} is not a message to send: {NOT_A_MESSAGE[channel]}."
    waiting = (
        Touch.objects.filter(
            customer=customer,
            channel__in=MESSAGE_CHANNELS,
            status__in=(TouchStatus.PENDING, TouchStatus.SENDING),
        )
        .select_related("step")
        .first()
    )
    if waiting is not None:
        name = waiting.step.name if waiting.step_id else "A message"
        return (
            f"{name} is already waiting to go out "
            f"({_moment(waiting.scheduled_for, customer)}); it has to go first."
        )
    escalation = found.step.use_escalation_contact
    if (
        channel == Channel.EMAIL
        and delivery.contact_choose(customer, escalation=escalation) is None
    ):
        return "there is no usable email address (missing, opted out or bounced): fix it first."
    if not delivery.in_contact_hours(customer, as_of, found.calendar):
        cal = found.calendar
        return (
            f"it is {_moment(as_of, customer)} for {customer.name}, and a consumer may be "
            f"contacted only between {format_time_of_day(cal.phone_start)} and "
            f"{format_time_of_day(cal.phone_end)} their time."
        )
    return ""


def _render(customer: Customer, found: _Found, *, as_of: dt.datetime) -> dict:
    """The message (and a letter step's letter) as delivery would render it now: the same
    template version, context and renderers (delivery.message_build), without the PDFs."""
    step = found.step.for_customer(customer)
    contact = delivery.contact_choose(customer, escalation=step.use_escalation_contact)
    if contact is None and step.fact.channel == Channel.LETTER:
        contact = delivery.postal_contact(customer, escalation=step.use_escalation_contact)
    version = template_version_current(
        step.template, language_of(customer.country, customer.language)
    )
    if version is None:
        raise LetterError(f"There is no template {step.template!r} for the step {step.fact.name}.")
    parts = Parts.of(version)
    context = delivery.message_context(
        customer=customer,
        contact=contact,
        step=step,
        invoices=delivery.invoice_lines(found.item.facts, found.invoice_ids, as_of=as_of),
        as_of=as_of,
        calendar=found.calendar,
    )
    message = message_render(parts, context)
    letter = ""
    if step.fact.channel == Channel.LETTER and parts.letter_html.strip():
        letter = letter_page(parts, context)
    return {
        "subject": message.subject,
        "body_text": message.text,
        "body_html": message.html,
        "letter_html": letter,
    }


def _who(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "the system"


def _moment(moment: dt.datetime, customer: Customer) -> str:
    tz = zone(customer.timezone)
    return f"{format_moment(moment, tz=tz)} ({tz.key})"
