"""The dunning engine's writes besides planning (dunning.planning) and delivery
(dunning.outbox): bounces, holds (promises, plans, manual holds) and tasks, and the whole
cycle. Each writes its
audit events in the same transaction as the change."""

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from invoices import services as ledger
from invoices.dates import format_day
from invoices.models import Contact, Customer, Dispute, Invoice, InvoiceStatus
from invoices.money import format_money
from letters.documents import promissory_note_pdf
from letters.models import DocumentKind
from letters.services import document_store

from . import delivery
from .exceptions import DunningError
from .models import (
    Acknowledgement,
    DocumentsRequest,
    HoldStatus,
    Instalment,
    PaymentPlan,
    PlanStatus,
    PromiseToPay,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from .outbox import fix_contact_task, touches_deliver
from .planning import RunResult, dunning_run_stream
from .queue import queue_refresh
from .selectors import (
    plan_met,
    plan_paid,
    promise_paid,
    settings_load,
)


def bounce_handle(*, touch_id: int, at: dt.datetime, reason: str = "") -> Touch | None:
    """A message bounced: mark the address bad, and try the next usable contact with a
    fresh touch for the same step, or ask the collector to fix the contact. Returns the
    retry touch, if any."""
    touch = Touch.objects.select_related("customer", "step").get(pk=touch_id)
    with transaction.atomic():
        if touch.contact_id:
            Contact.objects.filter(pk=touch.contact_id, email_bounced_at__isnull=True).update(
                email_bounced_at=at
            )
            audit_record(
                action="ledger.contact.bounced",
                customer_id=touch.customer_id,
                summary=f"Email address {touch.to_email} bounced; automated mail skips it",
                data={"contact_id": touch.contact_id, "touch_id": touch_id, "reason": reason},
            )
        step = touch.step
        escalation = bool(step and step.use_escalation_contact)
        if delivery.contact_choose(touch.customer, escalation=escalation) is None:
            fix_contact_task(
                touch=touch, as_of=at, reason=f"mail to {touch.to_email} bounced: {reason}"
            )
            return None
        retries = Touch.objects.filter(key__startswith=f"{touch.key}:retry").count()
        retry = Touch.objects.create(
            key=f"{touch.key}:retry{retries + 1}",
            customer_id=touch.customer_id,
            chase_id=touch.chase_id,
            step_id=touch.step_id,
            channel=touch.channel,
            status=TouchStatus.PENDING,
            scheduled_for=at,
            reason=f"Resent after {touch.to_email} bounced. {touch.reason}",
            invoices=touch.invoices,
            total=touch.total,
            currency=touch.currency,
        )
        audit_record(
            action="dunning.touch.planned",
            customer_id=touch.customer_id,
            summary=f"{touch.step.name if touch.step_id else touch.channel} to be resent to "
            "the next contact after a bounce",
            data={"touch_id": retry.pk, "bounced_touch_id": touch_id},
        )
    return retry


# --- the whole cycle --------------------------------------------------------------------


def dunning_cycle(
    *,
    as_of: dt.datetime,
    dry_run: bool = False,
    customer_ids: Sequence[int] | None = None,
    explain: bool = False,
    deadline: float | None = None,
) -> list[RunResult]:
    """What the schedule and `run_dunning` do: settle holds, plan and record, deliver
    (until `deadline`, a time.monotonic() value, when given)."""
    return list(
        dunning_cycle_stream(
            as_of=as_of,
            dry_run=dry_run,
            customer_ids=customer_ids,
            explain=explain,
            deadline=deadline,
        )
    )


def dunning_cycle_stream(
    *,
    as_of: dt.datetime,
    dry_run: bool = False,
    customer_ids: Sequence[int] | None = None,
    explain: bool = False,
    deadline: float | None = None,
) -> Iterator[RunResult]:
    """dunning_cycle, its results yielded as each chunk of customers is recorded (then the
    deliveries'), so a run over the whole ledger holds one chunk's at a time."""
    if dry_run:
        yield from dunning_run_stream(
            as_of=as_of, dry_run=True, customer_ids=customer_ids, explain=explain
        )
        return
    promises_settle(on=as_of.date())
    plans_settle(on=as_of.date())
    yield from dunning_run_stream(as_of=as_of, customer_ids=customer_ids, explain=explain)
    yield from touches_deliver(as_of=as_of, customer_ids=customer_ids, deadline=deadline)


# --- holds ------------------------------------------------------------------------------


@transaction.atomic
def promise_record(
    *,
    actor,
    customer: Customer,
    amount: Decimal,
    promised_for: dt.date,
    made_on: dt.date,
    invoices: Sequence[Invoice] = (),
    grace_days: int | None = None,
    note: str = "",
    limit: bool = True,
    label: str | None = None,
    audit_data: dict | None = None,
) -> PromiseToPay:
    """Record a promise to pay; it pauses dunning of the invoices it covers until its date
    plus the grace days. Without named invoices it covers those overdue today, never ones
    not yet due: their reminders still go. A promise is for no more than what those
    invoices have open, and at most the settings' promise_max_days ahead (limit=False: a
    collector agreed a later date the customer asked for on their page). label and
    audit_data carry where it came from onto the audit event."""
    if amount <= 0:
        raise DunningError("A promise must be for more than zero.")
    if promised_for < made_on:
        raise DunningError("The promised date cannot be before the day it was made.")
    if any(inv.customer_id != customer.pk for inv in invoices):
        raise DunningError("A promise can only name the customer's own invoices.")
    dunning_settings = settings_load()
    latest = made_on + dt.timedelta(days=dunning_settings.promise_max_days)
    if limit and promised_for > latest:
        raise DunningError(
            f"A promise can be at most {dunning_settings.promise_max_days} days ahead "
            f"(by {format_day(latest)}). For longer, agree a payment plan."
        )
    invoices = list(invoices) or list(
        Invoice.objects.filter(
            customer=customer,
            status=InvoiceStatus.OPEN,
            due_date__lt=made_on,
            open_balance__gt=0,
        ).order_by("due_date", "id")
    )
    if not invoices:
        raise DunningError("Nothing is overdue: tick the invoices the promise is for.")
    covered = sum((inv.open_balance for inv in invoices), Decimal("0"))
    if amount > covered:
        raise DunningError(
            f"The promise of {format_money(amount, customer.currency)} is more than the "
            f"{format_money(covered, customer.currency)} open on the invoices it covers."
        )
    if grace_days is None:
        grace_days = dunning_settings.promise_grace_days
    promise = PromiseToPay.objects.create(
        customer=customer,
        amount=amount,
        promised_for=promised_for,
        grace_days=grace_days,
        made_on=made_on,
        note=note,
        created_by=actor,
    )
    promise.invoices.set(invoices)
    audit_record(
        action="dunning.promise.recorded",
        actor=actor,
        customer_id=customer.pk,
        invoice_id=invoices[0].pk if len(invoices) == 1 else None,
        summary=(
            f"Promise to pay {format_money(amount, customer.currency)} by "
            f"{format_day(promised_for)} ({', '.join(inv.number for inv in invoices)})"
        ),
        data={
            "promise_id": promise.pk,
            "amount": str(amount),
            "promised_for": promised_for.isoformat(),
            "grace_days": grace_days,
            "invoice_ids": [inv.pk for inv in invoices],
            **(audit_data or {}),
        },
        label=label,
    )
    queue_refresh(customer_ids=[customer.pk])
    return promise


@transaction.atomic
def promise_cancel(*, actor, promise: PromiseToPay, on: dt.date, note: str = "") -> None:
    """Withdraw an open promise; dunning resumes."""
    if not PromiseToPay.objects.filter(pk=promise.pk, status=HoldStatus.OPEN).update(
        status=HoldStatus.CANCELLED, resolved_on=on
    ):
        raise DunningError("Only an open promise can be cancelled.")
    audit_record(
        action="dunning.promise.cancelled",
        actor=actor,
        customer_id=promise.customer_id,
        summary=f"Promise of {format_money(promise.amount, promise.customer.currency)} by "
        f"{format_day(promise.promised_for)} cancelled. {note}",
        data={"promise_id": promise.pk, "note": note},
    )
    queue_refresh(customer_ids=[promise.customer_id])


def promises_settle(*, on: dt.date) -> list[PromiseToPay]:
    """Settle open promises whose date plus grace has passed: kept when payments applied
    since the promise was made cover the amount, else broken (and escalation resumes)."""
    settled = []
    due = (
        PromiseToPay.objects.filter(status=HoldStatus.OPEN, promised_for__lt=on)
        .select_related("customer")
        .order_by("id")
    )
    for promise in due:
        if promise.holds_until >= on:
            continue
        with transaction.atomic():
            invoice_ids = list(promise.invoices.values_list("id", flat=True))
            paid = promise_paid(
                customer_id=promise.customer_id,
                invoice_ids=invoice_ids,
                start=promise.made_on,
                end=promise.holds_until,
            )
            status = HoldStatus.KEPT if paid >= promise.amount else HoldStatus.BROKEN
            if not PromiseToPay.objects.filter(pk=promise.pk, status=HoldStatus.OPEN).update(
                status=status, resolved_on=on
            ):
                continue
            audit_record(
                action=f"dunning.promise.{status}",
                customer_id=promise.customer_id,
                summary=f"Promise of {format_money(promise.amount, promise.customer.currency)} "
                f"by {format_day(promise.promised_for)} {status}: "
                f"{format_money(paid, promise.customer.currency)} paid",
                data={"promise_id": promise.pk, "paid": str(paid), "amount": str(promise.amount)},
            )
            promise.status = status
            settled.append(promise)
    return settled


@transaction.atomic
def plan_create(
    *,
    actor,
    customer: Customer,
    agreed_on: dt.date,
    instalments: Sequence[tuple[dt.date, Decimal]],
    grace_days: int | None = None,
    note: str = "",
    label: str | None = None,
) -> PaymentPlan:
    """Agree a payment plan; dunning pauses while its instalments are met. label names who
    agreed it on the audit event when that is no user (an API token: actor=None)."""
    if not instalments:
        raise DunningError("A payment plan needs at least one instalment.")
    if any(amount <= 0 for _, amount in instalments):
        raise DunningError("Every instalment must be for more than zero.")
    if PaymentPlan.objects.filter(customer=customer, status=PlanStatus.ACTIVE).exists():
        raise DunningError(f"{customer.name} already has an active payment plan.")
    if grace_days is None:
        grace_days = settings_load().plan_grace_days
    plan = PaymentPlan.objects.create(
        customer=customer, agreed_on=agreed_on, grace_days=grace_days, note=note, created_by=actor
    )
    Instalment.objects.bulk_create(
        [Instalment(plan=plan, due_date=due, amount=amount) for due, amount in instalments]
    )
    total = sum((amount for _, amount in instalments), Decimal("0"))
    note_pdf = promissory_note_pdf(
        customer=customer,
        instalments=list(instalments),
        agreed_on=agreed_on,
        grace_days=grace_days,
    )
    plan.promissory_note = document_store(
        kind=DocumentKind.PROMISSORY_NOTE,
        customer_id=customer.pk,
        filename=f"promissory-note-{customer.external_id}-{agreed_on}.pdf",
        content=note_pdf,
        actor=actor,
    )
    plan.save(update_fields=["promissory_note"])
    audit_record(
        action="dunning.plan.created",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Payment plan of {len(instalments)} instalments, "
        f"{format_money(total, customer.currency)}",
        data={
            "plan_id": plan.pk,
            "instalments": [[due.isoformat(), str(amount)] for due, amount in instalments],
            "promissory_note_sha256": plan.promissory_note.sha256,
        },
        label=label,
    )
    queue_refresh(customer_ids=[customer.pk])
    return plan


@transaction.atomic
def plan_cancel(*, actor, plan: PaymentPlan, on: dt.date, note: str = "") -> None:
    """End an active plan by hand; dunning resumes."""
    if not PaymentPlan.objects.filter(pk=plan.pk, status=PlanStatus.ACTIVE).update(
        status=PlanStatus.CANCELLED, ended_on=on
    ):
        raise DunningError("Only an active plan can be cancelled.")
    audit_record(
        action="dunning.plan.cancelled",
        actor=actor,
        customer_id=plan.customer_id,
        summary=f"Payment plan cancelled. {note}",
        data={"plan_id": plan.pk, "note": note},
    )
    queue_refresh(customer_ids=[plan.customer_id])


def plans_settle(*, on: dt.date) -> list[PaymentPlan]:
    """Active plans: broken when payments fall behind the instalments due (after grace),
    completed when everything is paid."""
    changed = []
    active = PaymentPlan.objects.filter(status=PlanStatus.ACTIVE).select_related("customer")
    for plan in active.order_by("id"):
        instalments = list(plan.instalments.values_list("due_date", "amount"))
        paid = plan_paid(customer_id=plan.customer_id, since=plan.agreed_on, until=on)
        total = sum((amount for _, amount in instalments), Decimal("0"))
        if paid >= total:
            status = PlanStatus.COMPLETED
        elif not plan_met(instalments=instalments, paid=paid, grace_days=plan.grace_days, on=on):
            status = PlanStatus.BROKEN
        else:
            continue
        with transaction.atomic():
            if not PaymentPlan.objects.filter(pk=plan.pk, status=PlanStatus.ACTIVE).update(
                status=status, ended_on=on
            ):
                continue
            audit_record(
                action=f"dunning.plan.{status}",
                customer_id=plan.customer_id,
                summary=f"Payment plan {status}: {format_money(paid, plan.customer.currency)} "
                f"of {format_money(total, plan.customer.currency)} paid",
                data={"plan_id": plan.pk, "paid": str(paid), "total": str(total)},
            )
            plan.status = status
            changed.append(plan)
    return changed


def hold_set(*, actor, customer: Customer, reason: str, until: dt.date | None = None) -> dict:
    """Put a customer on a manual hold (open-ended without `until`)."""
    if not reason.strip():
        raise DunningError("Say why the customer is on hold.")
    with transaction.atomic():
        changed = ledger.customer_update(
            actor=actor, customer=customer, on_hold=True, hold_reason=reason, hold_until=until
        )
        if changed:
            audit_record(
                action="dunning.hold.set",
                actor=actor,
                customer_id=customer.pk,
                summary=f"On hold{f' until {format_day(until)}' if until else ''}: {reason}",
                data={"reason": reason, "until": until.isoformat() if until else None},
            )
    queue_refresh(customer_ids=[customer.pk])
    return changed


def hold_release(*, actor, customer: Customer) -> dict:
    """Lift a manual hold; dunning resumes on the next run."""
    with transaction.atomic():
        changed = ledger.customer_update(
            actor=actor, customer=customer, on_hold=False, hold_reason="", hold_until=None
        )
        if changed:
            audit_record(
                action="dunning.hold.released",
                actor=actor,
                customer_id=customer.pk,
                summary="Hold released",
                data={"changes": changed},
            )
    queue_refresh(customer_ids=[customer.pk])
    return changed


# --- tasks ------------------------------------------------------------------------------


def person(actor):
    """The user an actor is, or None for an actor with no row of its own (an API token's:
    the audit event still names it by its label)."""
    return actor if actor is not None and actor.pk is not None else None


@transaction.atomic
def task_complete(
    *, actor, task: Task, at: dt.datetime, outcome: str = "", notes: str = ""
) -> Task:
    """Close a task. A call is logged by dunning.calls.call_log, which also creates the
    follow-up its outcome calls for (a conversation starts the consumer's seven quiet
    days)."""
    if task.kind == TaskKind.CALL:
        # Imported here: dunning.calls builds on this module.
        from .calls import call_log

        return call_log(
            actor=actor, customer=task.customer, at=at, outcome=outcome, notes=notes, task=task
        ).task
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.OPEN:
        raise DunningError("This task is already closed.")
    if task.kind == TaskKind.CHECK_SEND:
        # Closing it must say what happened to the message (dunning.outcomes).
        raise DunningError("Settle this message on the customer's page: sent, or send again.")
    if task.kind == TaskKind.CALL and not outcome:
        raise DunningError("Log the outcome of the call.")
    task.status = TaskStatus.DONE
    task.outcome = outcome
    task.notes = notes
    task.completed_at = at
    task.completed_by = person(actor)
    task.save()
    audit_record(
        action="dunning.call.logged" if task.kind == TaskKind.CALL else "dunning.task.completed",
        actor=actor,
        customer_id=task.customer_id,
        summary=f"{task.title}: {task.get_outcome_display() if outcome else 'done'}"
        + (f" — {notes}" if notes else ""),
        data={"task_id": task.pk, "outcome": outcome, "notes": notes},
    )
    queue_refresh(customer_ids=[task.customer_id])
    return task


@transaction.atomic
def customer_opt_out(*, customer: Customer, came_from: dict | None = None) -> int:
    """The customer used the opt-out link of a message: no more collection email to any of
    their contacts (LEGAL.md: every consumer message carries a simple opt-out).
    From the customer's page, `came_from` (portal.requests.came_from) names the contact and
    link it came from. Returns how many contacts changed."""
    changed = Contact.objects.filter(customer=customer, email_opt_out=False).update(
        email_opt_out=True
    )
    where = "on their customer page" if came_from else "with the link in a message"
    audit_record(
        action="dunning.opt_out",
        label="customer page" if came_from else "customer",
        customer_id=customer.pk,
        summary=f"{customer.name} opted out of collection email {where}",
        data={"contacts_opted_out": changed, **(came_from or {})},
    )
    return changed


# --- disputes, as the workspace opens and resolves them -----------------------------------
# The ledger does not know the queue: these refresh the customer's row in the same
# transaction, so the queue shows the dispute (or its end) at once.


@transaction.atomic
def dispute_open_queued(**kwargs) -> Dispute:
    """invoices.services.dispute_open, then the customer's queue row."""
    dispute = ledger.dispute_open(**kwargs)
    queue_refresh(customer_ids=[dispute.invoice.customer_id])
    return dispute


@transaction.atomic
def dispute_resolve_queued(**kwargs) -> Dispute:
    """invoices.services.dispute_resolve, then the customer's queue row."""
    dispute = ledger.dispute_resolve(**kwargs)
    queue_refresh(customer_ids=[dispute.invoice.customer_id])
    return dispute


# --- written acknowledgements ---------------------------------------------------------------

ACKNOWLEDGEMENT_NOTE_MAX = 500


@transaction.atomic
def acknowledgement_record(
    *,
    actor,
    customer: Customer,
    acknowledged_on: dt.date,
    invoices: Sequence[Invoice] | None = None,
    note: str,
    today: dt.date | None = None,
) -> Acknowledgement:
    """Record that the customer acknowledged their debt in writing on a day: the invoices
    named, or with none named everything they owed that day. Where the jurisdiction says
    so it starts the limitation period again (dunning.limitation). Refuses a date after
    today and another customer's invoices."""
    today = today or timezone.localdate()
    note = (note or "").strip()
    invoices = list(invoices or ())
    if acknowledged_on > today:
        raise DunningError("An acknowledgement cannot be dated after today.")
    if not note:
        raise DunningError("Say what they wrote and where it is kept (a letter, an email).")
    if len(note) > ACKNOWLEDGEMENT_NOTE_MAX:
        raise DunningError(f"Keep the note to {ACKNOWLEDGEMENT_NOTE_MAX} characters.")
    if any(inv.customer_id != customer.pk for inv in invoices):
        raise DunningError("An acknowledgement can only name the customer's own invoices.")
    acknowledgement = Acknowledgement.objects.create(
        customer=customer, acknowledged_on=acknowledged_on, note=note, recorded_by=actor
    )
    acknowledgement.invoices.set(invoices)
    numbers = ", ".join(inv.number for inv in invoices) or "the whole account"
    audit_record(
        action="dunning.acknowledgement.recorded",
        actor=actor,
        customer_id=customer.pk,
        invoice_id=invoices[0].pk if len(invoices) == 1 else None,
        summary=f"Written acknowledgement of {format_day(acknowledged_on)} recorded "
        f"({numbers}): {note}",
        data={
            "acknowledgement_id": acknowledgement.pk,
            "acknowledged_on": acknowledged_on.isoformat(),
            "invoice_ids": [inv.pk for inv in invoices],
            "note": note,
        },
    )
    # It may restart a clock, and so change what the engine plans.
    queue_refresh(customer_ids=[customer.pk])
    return acknowledgement


# --- replies to a Letter of Claim asking for documents --------------------------------------

DOCUMENTS_NOTE_MAX = 500


@transaction.atomic
def documents_request_record(
    *,
    actor,
    customer: Customer,
    requested_on: dt.date,
    note: str,
    today: dt.date | None = None,
) -> DocumentsRequest:
    """Record that the customer replied asking for documents (the agreement, invoices, a
    statement). After a Letter of Claim, the Pre-Action Protocol gives them its reply
    period again from this day before any referral (dunning.engine.reply_deadline).
    Refuses a date after today and a blank note."""
    today = today or timezone.localdate()
    note = (note or "").strip()
    if requested_on > today:
        raise DunningError("Their reply cannot be dated after today.")
    if not note:
        raise DunningError("Say which documents they asked for.")
    if len(note) > DOCUMENTS_NOTE_MAX:
        raise DunningError(f"Keep the note to {DOCUMENTS_NOTE_MAX} characters.")
    request = DocumentsRequest.objects.create(
        customer=customer, requested_on=requested_on, note=note, recorded_by=actor
    )
    audit_record(
        action="dunning.documents.requested",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Reply of {format_day(requested_on)} asking for documents recorded: {note}",
        data={
            "documents_request_id": request.pk,
            "requested_on": requested_on.isoformat(),
            "note": note,
        },
    )
    # It puts off a referral after a Letter of Claim: the queue shows the new date.
    queue_refresh(customer_ids=[customer.pk])
    return request
