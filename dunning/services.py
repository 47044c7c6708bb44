"""The dunning engine's writes besides planning (dunning.planning): delivering touches,
holds (promises, plans, manual holds) and tasks, and the whole cycle. Each writes its
audit events in the same transaction as the change."""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from audit.services import audit_record
from invoices import services as ledger
from invoices.models import Contact, Customer, Dispute, Invoice
from letters.documents import promissory_note_pdf
from letters.models import DocumentKind
from letters.services import document_store, print_queue_add

from . import delivery
from .engine import plan_customer
from .exceptions import DunningError
from .facts import Calendar
from .models import (
    Channel,
    ChaseStatus,
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
from .planning import RunResult, dunning_run
from .queue import queue_refresh
from .selectors import (
    Steps,
    calendar_for,
    facts_load,
    plan_met,
    plan_paid,
    promise_paid,
    settings_load,
    touches_due,
)

MAX_ATTEMPTS = 5
# A touch claimed longer ago than this died mid-send: whether it went out is unknown.
STALE_SENDING = dt.timedelta(minutes=15)
RETRY_BASE = dt.timedelta(minutes=15)


# --- delivery ---------------------------------------------------------------------------


def touches_deliver(
    *, as_of: dt.datetime, customer_ids: Sequence[int] | None = None
) -> list[RunResult]:
    """Send the pending messages that are due, each at most once.

    1. Touches left in "sending" for over 15 minutes died mid-send: failed, never resent.
    2. Claim each due touch by compare-and-set, so two workers never both take one.
    3. Re-plan the customer with fresh facts: cancelled if the step is no longer due
       (paid, disputed, paused), put back if it is not due yet.
    4. Send to the right contact; "sent" only once the backend accepted it. A failure is
       retried later, up to five attempts."""
    results = [_fail_stale(touch_id, as_of) for touch_id in _stale(as_of, customer_ids)]
    calendar = calendar_for(as_of)
    steps = Steps()
    for touch_id in touches_due(as_of=as_of, customer_ids=customer_ids):
        claimed = Touch.objects.filter(pk=touch_id, status=TouchStatus.PENDING).update(
            status=TouchStatus.SENDING, claimed_at=as_of
        )
        if claimed != 1:
            continue  # another worker has it
        try:
            results.append(_deliver(touch_id, as_of=as_of, steps=steps, calendar=calendar))
        except Exception as exc:  # one failing customer never stalls the run
            results.append(_send_failed(touch_id, as_of=as_of, error=exc))
    return [r for r in results if r is not None]


def _stale(as_of: dt.datetime, customer_ids) -> list[int]:
    qs = Touch.objects.filter(status=TouchStatus.SENDING, claimed_at__lt=as_of - STALE_SENDING)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    return list(qs.values_list("id", flat=True))


def _touch_result(touch: Touch, status: str, reason: str) -> RunResult:
    return RunResult(
        customer_id=touch.customer_id,
        customer=touch.customer.external_id,
        name=touch.customer.name,
        step=touch.step.name if touch.step_id else "",
        channel=touch.channel,
        invoices=[inv["number"] for inv in touch.invoices],
        status=status,
        reason=reason,
        due_at=touch.scheduled_for,
        touch_id=touch.pk,
    )


@transaction.atomic
def _fail_stale(touch_id: int, as_of: dt.datetime) -> RunResult | None:
    reason = "outcome unknown: check before resending"
    if not Touch.objects.filter(pk=touch_id, status=TouchStatus.SENDING).update(
        status=TouchStatus.FAILED, last_error=reason
    ):
        return None
    touch = Touch.objects.select_related("customer", "step").get(pk=touch_id)
    audit_record(
        action="dunning.touch.outcome_unknown",
        customer_id=touch.customer_id,
        summary=f"{touch.step.name if touch.step_id else touch.channel}: {reason}",
        data={"touch_id": touch_id, "claimed_at": touch.claimed_at.isoformat()},
    )
    return _touch_result(touch, TouchStatus.FAILED, reason)


def _deliver(touch_id: int, *, as_of, steps: Steps, calendar: Calendar) -> RunResult:
    touch = Touch.objects.select_related("customer", "customer__collector", "step", "chase").get(
        pk=touch_id
    )
    if touch.chase_id and touch.chase.status != ChaseStatus.ACTIVE:
        return _cancel(touch, "the chase has closed")
    item = facts_load(
        [touch.customer_id], as_of=as_of, steps=steps, calendar=calendar, recheck=touch
    )
    if not item:
        return _cancel(touch, "the customer is gone")
    item = item[0]
    plan = plan_customer(item.facts, steps.facts_of(item.customer.version_id), calendar, as_of)
    action = plan.action
    if action is None or action.skip or action.step.id != touch.step_id:
        return _cancel(touch, plan.explanation)
    # A step a collector sent ahead of time (dunning.sending) goes now, not at the engine's
    # time; a consumer's only inside their contact hours.
    brought_forward = not touch.automated and delivery.in_contact_hours(
        touch.customer, as_of, calendar
    )
    if not plan.due(as_of) and not brought_forward:
        Touch.objects.filter(pk=touch.pk).update(
            status=TouchStatus.PENDING, scheduled_for=action.due_at
        )
        return _touch_result(touch, "rescheduled", plan.explanation)
    invoice_ids, total = action.invoice_ids, action.total
    if not touch.automated:
        # What it was recorded for, less what has since been paid, disputed or paused.
        eligible = set(plan.eligible_invoice_ids)
        invoice_ids = tuple(line["id"] for line in touch.invoices if line["id"] in eligible)
        if not invoice_ids:
            return _cancel(touch, "every invoice it was for is paid, disputed or paused")

    step = steps.by_id[touch.step_id]
    contact = delivery.contact_choose(touch.customer, escalation=step.use_escalation_contact)
    posted_only = contact is None and step.fact.channel == Channel.LETTER
    if contact is None and not posted_only:
        return _no_contact(touch, as_of=as_of, escalation=step.use_escalation_contact)
    if posted_only:
        # A letter still goes by post: to the postal address on file.
        contact = delivery.postal_contact(touch.customer, escalation=step.use_escalation_contact)
    invoices = delivery.invoice_lines(item.facts, invoice_ids, as_of=as_of)
    if not touch.automated:
        total = sum((line["balance"] for line in invoices), Decimal("0"))
    message = delivery.message_build(
        customer=touch.customer,
        contact=contact,
        step=step,
        invoices=invoices,
        total=total,
        as_of=as_of,
        calendar=calendar,
    )
    esp_id = "" if posted_only else delivery.message_send(message, touch_id=touch.pk)
    with transaction.atomic():
        # The very bytes that were attached: stored once; letters are queued for posting.
        documents = [
            document_store(
                kind=kind,
                customer_id=touch.customer_id,
                filename=filename,
                content=content,
                template_version=message.template_version if kind == DocumentKind.LETTER else None,
            )
            for kind, filename, content in message.attachments
        ]
        for stored in documents:
            if stored.kind == DocumentKind.LETTER:
                print_queue_add(document=stored)
        where = "by post only (no usable email address)" if posted_only else f"to {message.to}"
        Touch.objects.filter(pk=touch.pk).update(
            template_version=message.template_version,
            document=documents[0] if documents else None,
            status=TouchStatus.SENT,
            sent_at=as_of,
            contact=contact,
            to_email=message.to,
            subject=message.subject[:300],
            body_text=message.text,
            body_html=message.html,
            esp_message_id=esp_id,
            invoices=[
                {k: str(v) for k, v in line.items() if k != "days_overdue"} for line in invoices
            ],
            total=total,
            attempts=F("attempts") + 1,
            last_error="",
        )
        audit_record(
            action=f"dunning.{touch.channel}.sent",
            customer_id=touch.customer_id,
            summary=f"{step.fact.name} sent {where}: {message.subject}",
            data={
                "touch_id": touch.pk,
                "to": message.to,
                "subject": message.subject,
                "invoices": [line["number"] for line in invoices],
                "total": str(total),
                "esp_message_id": esp_id,
                "template_version": message.template_version.pk,
                "documents": {d.filename: d.sha256 for d in documents},
            },
        )
        if posted_only:
            fix_contact_task(
                touch=touch, as_of=as_of, reason="no usable email address: the letter was posted"
            )
    return _touch_result(touch, TouchStatus.SENT, f"sent {where}: {action.reason}")


@transaction.atomic
def _cancel(touch: Touch, reason: str) -> RunResult:
    # The key moves aside: the step may be planned again once the pause ends.
    Touch.objects.filter(pk=touch.pk).update(
        status=TouchStatus.CANCELLED, key=f"{touch.key}~x{touch.pk}", last_error=reason
    )
    audit_record(
        action="dunning.touch.cancelled",
        customer_id=touch.customer_id,
        summary=f"{touch.step.name if touch.step_id else touch.channel} cancelled: {reason}",
        data={"touch_id": touch.pk, "reason": reason},
    )
    return _touch_result(touch, TouchStatus.CANCELLED, reason)


@transaction.atomic
def _no_contact(touch: Touch, *, as_of, escalation: bool) -> RunResult:
    who = "escalation or accounts-payable" if escalation else "accounts-payable"
    reason = f"no usable {who} email address (missing, opted out or bounced)"
    Touch.objects.filter(pk=touch.pk).update(status=TouchStatus.FAILED, last_error=reason)
    fix_contact_task(touch=touch, as_of=as_of, reason=reason)
    audit_record(
        action=f"dunning.{touch.channel}.failed",
        customer_id=touch.customer_id,
        summary=f"{touch.step.name if touch.step_id else touch.channel} not sent: {reason}",
        data={"touch_id": touch.pk, "reason": reason},
    )
    return _touch_result(touch, TouchStatus.FAILED, reason)


def fix_contact_task(*, touch: Touch, as_of: dt.datetime, reason: str) -> Task:
    """Ask the customer's collector for a working address (one open task per customer)."""
    open_task = Task.objects.filter(
        customer_id=touch.customer_id, kind=TaskKind.FIX_CONTACT, status=TaskStatus.OPEN
    ).first()
    if open_task:
        return open_task
    task = Task.objects.create(
        kind=TaskKind.FIX_CONTACT,
        customer_id=touch.customer_id,
        touch=touch,
        assigned_to_id=touch.customer.collector_id,
        title=f"Fix the email contact of {touch.customer.name}",
        detail=reason,
        due_at=as_of,
    )
    audit_record(
        action="dunning.fix_contact_task.created",
        customer_id=touch.customer_id,
        summary=f"Task: fix the email contact ({reason})",
        data={"task_id": task.pk, "touch_id": touch.pk},
    )
    return task


@transaction.atomic
def _send_failed(touch_id: int, *, as_of: dt.datetime, error: Exception) -> RunResult:
    touch = Touch.objects.select_related("customer", "step").get(pk=touch_id)
    attempts = touch.attempts + 1
    text = f"{type(error).__name__}: {error}"[:2000]
    if attempts >= MAX_ATTEMPTS:
        Touch.objects.filter(pk=touch_id).update(
            status=TouchStatus.FAILED, attempts=attempts, last_error=text
        )
        audit_record(
            action=f"dunning.{touch.channel}.failed",
            customer_id=touch.customer_id,
            summary=f"Gave up after {attempts} attempts: {text}"[:300],
            data={"touch_id": touch_id, "error": text},
        )
        return _touch_result(touch, TouchStatus.FAILED, text)
    retry_at = as_of + RETRY_BASE * 2 ** (attempts - 1)
    Touch.objects.filter(pk=touch_id).update(
        status=TouchStatus.PENDING, attempts=attempts, last_error=text, scheduled_for=retry_at
    )
    return _touch_result(touch, "retry", f"attempt {attempts} failed ({text}); retry later")


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
) -> list[RunResult]:
    """What the schedule and `run_dunning` do: settle holds, plan and record, deliver."""
    if dry_run:
        return dunning_run(as_of=as_of, dry_run=True, customer_ids=customer_ids, explain=explain)
    promises_settle(on=as_of.date())
    plans_settle(on=as_of.date())
    results = dunning_run(as_of=as_of, customer_ids=customer_ids, explain=explain)
    return results + touches_deliver(as_of=as_of, customer_ids=customer_ids)


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
) -> PromiseToPay:
    """Record a promise to pay; it pauses dunning (of the named invoices, or the whole
    account) until its date plus the grace days."""
    if amount <= 0:
        raise DunningError("A promise must be for more than zero.")
    if promised_for < made_on:
        raise DunningError("The promised date cannot be before the day it was made.")
    if any(inv.customer_id != customer.pk for inv in invoices):
        raise DunningError("A promise can only name the customer's own invoices.")
    if grace_days is None:
        grace_days = settings_load().promise_grace_days
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
    scope = ", ".join(inv.number for inv in invoices) or "the whole account"
    audit_record(
        action="dunning.promise.recorded",
        actor=actor,
        customer_id=customer.pk,
        invoice_id=invoices[0].pk if len(invoices) == 1 else None,
        summary=f"Promise to pay {amount} {customer.currency} by {promised_for} ({scope})",
        data={
            "promise_id": promise.pk,
            "amount": str(amount),
            "promised_for": promised_for.isoformat(),
            "grace_days": grace_days,
            "invoice_ids": [inv.pk for inv in invoices],
        },
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
        summary=f"Promise of {promise.amount} by {promise.promised_for} cancelled. {note}",
        data={"promise_id": promise.pk, "note": note},
    )
    queue_refresh(customer_ids=[promise.customer_id])


def promises_settle(*, on: dt.date) -> list[PromiseToPay]:
    """Settle open promises whose date plus grace has passed: kept when payments applied
    since the promise was made cover the amount, else broken (and escalation resumes)."""
    settled = []
    due = PromiseToPay.objects.filter(status=HoldStatus.OPEN, promised_for__lt=on).order_by("id")
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
                summary=f"Promise of {promise.amount} by {promise.promised_for} {status}: "
                f"{paid} paid",
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
) -> PaymentPlan:
    """Agree a payment plan; dunning pauses while its instalments are met."""
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
        summary=f"Payment plan of {len(instalments)} instalments, {total} {customer.currency}",
        data={
            "plan_id": plan.pk,
            "instalments": [[due.isoformat(), str(amount)] for due, amount in instalments],
            "promissory_note_sha256": plan.promissory_note.sha256,
        },
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
    for plan in PaymentPlan.objects.filter(status=PlanStatus.ACTIVE).order_by("id"):
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
                summary=f"Payment plan {status}: {paid} of {total} paid",
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
                summary=f"On hold{f' until {until}' if until else ''}: {reason}",
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
    if task.kind == TaskKind.CALL and not outcome:
        raise DunningError("Log the outcome of the call.")
    task.status = TaskStatus.DONE
    task.outcome = outcome
    task.notes = notes
    task.completed_at = at
    task.completed_by = actor
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
def customer_opt_out(*, customer: Customer) -> int:
    """The customer used the opt-out link of a message: no more collection email to any of
    their contacts (LEGAL.md: every consumer message carries a simple opt-out).
    Returns how many contacts changed."""
    changed = Contact.objects.filter(customer=customer, email_opt_out=False).update(
        email_opt_out=True
    )
    audit_record(
        action="dunning.opt_out",
        label="customer",
        customer_id=customer.pk,
        summary=f"{customer.name} opted out of collection email with the link in a message",
        data={"contacts_opted_out": changed},
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
