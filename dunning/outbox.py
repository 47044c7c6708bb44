"""Delivering planned messages, each handed to the mail server at most once.

The states of a message touch (email or letter) and what moves it:

    pending --claim--> sending --re-plan--> cancelled | pending (not due yet) | failed (no address)
    sending --handoff_at committed, then the hand-off-->
        taken by the server ............ sent (recorded with its documents and audit event)
        refused, certainly not taken ... pending with back-off; after 5 attempts failed + task
        no answer once the body went ... unknown + task
    unknown --a person: "it was sent"------> sent
            --a person: "send it again"----> pending (the same Message-ID)
            --a delivery event from the ESP-> delivered | sent | bounced | complained

The rules that make it exactly once:
1. A claim is a compare-and-set (pending -> sending, claims + 1), so two workers never
   take the same touch.
2. handoff_at is committed, by a compare-and-set on the same claim, before the message
   goes out. A worker whose claim was taken from it cannot hand off.
3. Only an error raised by the hand-off itself, and only one that proves the server did not
   take the message (dunning.handoff.HandoffFailed), puts a touch back for another try.
   Whatever goes wrong after the hand-off (the database fails while recording, the worker
   dies) never leads to a second hand-off: the touch is "unknown" and a person decides.
4. A claim left behind by a dead worker (older than STALE_CLAIM) is recovered by the next
   run: back to pending if handoff_at is empty (nothing left the building), else unknown.
5. An unknown touch counts as a contact for pacing, and the customer's chasing waits
   until it is settled (dunning.outcomes).
6. Every attempt carries the touch's one Message-ID (Touch.message_id); ESP metadata
   carries its unguessable ref, so delivery events find it and nobody can forge one."""

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F

from audit.services import audit_record
from invoice_copies.selectors import copy_on_file
from invoices.models import Contact
from letters.exceptions import ConsequenceRefused, LetterError
from letters.models import DocumentKind
from letters.services import document_store, print_queue_add

from . import delivery
from .engine import plan_customer
from .facts import Calendar
from .handoff import HandoffFailed, HandoffUnclear, HandoffWithdrawn
from .models import (
    Channel,
    ChaseStatus,
    StepKind,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from .outcomes import outcome_unknown, send_failed_task, touch_task_create
from .planning import RunResult
from .queue import queue_refresh, queue_touched, touch_label
from .selectors import Steps, calendar_for, chunks, facts_load, touches_due

log = logging.getLogger(__name__)

CHECK_GONE = (
    "the satisfaction check is no longer due: its invoices are paid, disputed, answered or "
    "due, or the customer is paused"
)
MAX_ATTEMPTS = 5
RETRY_BASE = dt.timedelta(minutes=15)
# Longer than a live worker can hold a claim: a render (TEMPLATE_RENDER_SECONDS per part)
# and a hand-off (EMAIL_HANDOFF_SECONDS) each have a deadline of their own.
STALE_CLAIM = dt.timedelta(minutes=5)


def touches_deliver(
    *,
    as_of: dt.datetime,
    customer_ids: Sequence[int] | None = None,
    deadline: float | None = None,
) -> list[RunResult]:
    """Send the pending messages that are due, each at most once (see the module's rules).

    1. Recover claims left by dead workers.
    2. Claim each due touch by compare-and-set; stop claiming once `deadline`
       (time.monotonic()) has passed or the mail server is down: the rest wait, untouched,
       for the next run.
    3. Re-plan the customer with fresh facts: cancelled if the step is no longer due
       (paid, disputed, paused), put back if it is not due yet.
    4. Commit handoff_at, hand the message off, record it as sent (and, in the same
       transaction, make it the queue row's last touch).
    5. Rewrite the queue rows of the customers whose messages moved, in one pass: their
       next step was planned before the message went."""
    started = time.monotonic()
    results = _recover_stale(as_of, customer_ids)
    calendar = calendar_for(as_of)
    steps = Steps()
    due = touches_due(as_of=as_of, customer_ids=customer_ids)
    for done, (touch_id, claims) in enumerate(due):
        if deadline is not None and time.monotonic() > deadline:
            log.warning("delivery stopped at its time limit: %d messages wait", len(due) - done)
            break
        # A long delivery claims late in its run: the claim's time moves on with the clock,
        # so another run does not take a live claim for a dead one.
        claimed_at = as_of + dt.timedelta(seconds=time.monotonic() - started)
        claim = claims + 1
        if not Touch.objects.filter(pk=touch_id, status=TouchStatus.PENDING, claims=claims).update(
            status=TouchStatus.SENDING, claimed_at=claimed_at, handoff_at=None, claims=claim
        ):
            continue  # another worker has it
        try:
            results.append(_deliver(touch_id, claim, as_of=as_of, steps=steps, calendar=calendar))
        except HandoffFailed as exc:  # the hand-off's own proof that nothing went
            results.append(_failed_attempt(touch_id, claim, as_of=as_of, error=exc, proven=True))
            if exc.server_down:
                log.warning(
                    "the mail server is unavailable (%s): %d messages wait for the next run",
                    exc,
                    len(due) - done - 1,
                )
                break
        except LetterError as exc:  # a template that cannot render will not by waiting
            results.append(_failed_attempt(touch_id, claim, as_of=as_of, error=exc, final=True))
        except Exception as exc:  # before the hand-off: one bad customer never stalls a run
            log.exception("delivering touch %s failed before the hand-off", touch_id)
            _reset_broken_connection()
            results.append(_failed_attempt(touch_id, claim, as_of=as_of, error=exc))
    results = [r for r in results if r is not None]
    _refresh_queue(sorted({r.customer_id for r in results}), as_of=as_of)
    return results


def _refresh_queue(customer_ids: list[int], *, as_of: dt.datetime) -> None:
    # The rows are derived data the next run rewrites anyway: a failure here must not
    # fail a delivery that has already happened.
    for chunk in chunks(customer_ids):
        try:
            queue_refresh(customer_ids=chunk, as_of=as_of)
        except Exception:
            log.exception("refreshing the queue rows after delivery failed")
            _reset_broken_connection()


def _mine(touch_id: int, claim: int):
    return Touch.objects.filter(pk=touch_id, status=TouchStatus.SENDING, claims=claim)


def _reset_broken_connection() -> None:
    # A connection the database dropped stays broken until closed; outside a transaction
    # the next query then opens a fresh one, so the run goes on with the next touch.
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


# --- stale claims -------------------------------------------------------------------------


def _recover_stale(as_of: dt.datetime, customer_ids) -> list[RunResult]:
    stale = Touch.objects.filter(status=TouchStatus.SENDING, claimed_at__lt=as_of - STALE_CLAIM)
    if customer_ids is not None:
        stale = stale.filter(customer_id__in=customer_ids)
    results = []
    for touch_id, claim, handoff_at in stale.values_list("id", "claims", "handoff_at"):
        if handoff_at is None:
            results.append(_release(touch_id, claim))
        else:
            results.append(
                outcome_unknown(
                    touch_id=touch_id,
                    claim=claim,
                    at=as_of,
                    reason="the worker sending it stopped during the hand-off to the mail "
                    "server, so nobody knows whether it went",
                )
            )
    return results


@transaction.atomic
def _release(touch_id: int, claim: int) -> RunResult | None:
    """A dead worker's claim that never reached the hand-off: nothing was sent."""
    if not _mine(touch_id, claim).update(status=TouchStatus.PENDING):
        return None
    touch = Touch.objects.select_related("customer", "step").get(pk=touch_id)
    audit_record(
        action="dunning.touch.claim_released",
        customer_id=touch.customer_id,
        summary=f"{_name(touch)}: the worker sending it stopped before the hand-off; "
        "it goes out with the next run",
        data={"touch_id": touch_id, "claimed_at": touch.claimed_at.isoformat()},
    )
    return RunResult.of_touch(
        touch, TouchStatus.PENDING, "put back: its worker stopped before sending"
    )


# --- one touch ----------------------------------------------------------------------------


def _deliver(touch_id: int, claim: int, *, as_of, steps: Steps, calendar: Calendar) -> RunResult:
    touch = Touch.objects.select_related("customer", "customer__collector", "step", "chase").get(
        pk=touch_id
    )
    if touch.chase_id and touch.chase.status != ChaseStatus.ACTIVE:
        return _cancel(touch, claim, "the chase has closed")
    item = facts_load(
        [touch.customer_id], as_of=as_of, steps=steps, calendar=calendar, recheck=touch
    )
    if not item:
        return _cancel(touch, claim, "the customer is gone")
    item = item[0]
    plan = plan_customer(item.facts, steps.facts_of(item.customer.version_id), calendar, as_of)
    # A satisfaction check is re-planned as the plan's check, not as its chase step.
    check = touch.step_id is not None and touch.step.kind == StepKind.CHECK
    action = plan.check if check else plan.action
    if action is None or action.skip or action.step.id != touch.step_id:
        if check:
            return _cancel(touch, claim, CHECK_GONE)
        return _cancel(touch, claim, plan.explanation)
    # A step a collector sent ahead of time (dunning.sending) goes now, not at the engine's
    # time; a consumer's only inside their contact hours.
    brought_forward = not touch.automated and delivery.in_contact_hours(
        touch.customer, as_of, calendar
    )
    if action.due_at > as_of and not brought_forward:
        _mine(touch.pk, claim).update(status=TouchStatus.PENDING, scheduled_for=action.due_at)
        return RunResult.of_touch(
            touch, "rescheduled", action.reason if check else plan.explanation
        )
    invoice_ids, total = action.invoice_ids, action.total
    if check:
        # It asks about the invoices it was planned for (those it names are not asked
        # again), less any since paid, disputed or fallen due.
        still = set(invoice_ids)
        listed = (int(line["id"]) for line in touch.invoices)  # text once sent
        invoice_ids = tuple(i for i in listed if i in still)
        if not invoice_ids:
            return _cancel(touch, claim, CHECK_GONE)
        total = sum(
            (inv.balance for inv in item.facts.invoices if inv.id in invoice_ids), Decimal("0")
        )
    if not touch.automated:
        # What it was recorded for, less what has since been paid, disputed or paused.
        eligible = set(plan.eligible_invoice_ids)
        invoice_ids = tuple(line["id"] for line in touch.invoices if line["id"] in eligible)
        if not invoice_ids:
            return _cancel(touch, claim, "every invoice it was for is paid, disputed or paused")

    step = steps.by_id[touch.step_id]
    contact = delivery.contact_choose(touch.customer, escalation=step.use_escalation_contact)
    posted_only = contact is None and step.fact.channel == Channel.LETTER
    if contact is None and not posted_only:
        return _no_contact(touch, claim, as_of=as_of, escalation=step.use_escalation_contact)
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

    def commit() -> bool:
        # Rule 2: recorded (in its own commit) before anything leaves, and only while the
        # claim is still this worker's.
        return bool(_mine(touch.pk, claim).filter(handoff_at__isnull=True).update(handoff_at=as_of))

    try:
        if posted_only and not commit():
            raise HandoffWithdrawn("taken over")
        esp_id = "" if posted_only else delivery.message_send(message, touch=touch, commit=commit)
    except HandoffWithdrawn:
        return RunResult.of_touch(touch, "skipped", "another worker took it over")
    except HandoffUnclear as exc:
        return outcome_unknown(touch_id=touch.pk, claim=claim, at=as_of, reason=str(exc))
    sent = Sent(touch, claim, message, contact, invoices, total, esp_id, posted_only)
    # Taken by the server: from here on, never a second hand-off (rule 3). A dropped
    # connection gets one more try on a fresh one; then the outcome is left to a person.
    error = None
    for _try in range(2):
        try:
            return _record_sent(sent, as_of=as_of, step=step, reason=action.reason)
        except Exception as exc:
            log.exception("touch %s was sent but recording it failed", touch.pk)
            _reset_broken_connection()
            error = exc
    return _sent_unrecorded(sent, as_of=as_of, error=error)


@dataclass(frozen=True)
class Sent:
    """A message the server has taken, waiting to be recorded."""

    touch: Touch
    claim: int
    message: delivery.Message
    contact: Contact | None
    invoices: list[dict]
    total: Decimal
    esp_id: str
    posted_only: bool

    @property
    def where(self) -> str:
        if self.posted_only:
            return "by post only (no usable email address)"
        return f"to {self.message.to}"


@transaction.atomic
def _record_sent(sent: Sent, *, as_of, step, reason: str) -> RunResult:
    touch, message = sent.touch, sent.message
    # The very bytes that were attached: stored once (an invoice copy is on file already);
    # letters are queued for posting.
    documents = [
        (
            kind == DocumentKind.INVOICE_COPY
            and copy_on_file(customer_id=touch.customer_id, content=content)
        )
        or document_store(
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
    # Still ours, or turned "unknown" by a run that thought this worker dead: either way it
    # was sent, and this is the answer (the check task closes).
    updated = Touch.objects.filter(
        pk=touch.pk, claims=sent.claim, status__in=(TouchStatus.SENDING, TouchStatus.UNKNOWN)
    ).update(
        template_version=message.template_version,
        document=documents[0] if documents else None,
        status=TouchStatus.SENT,
        sent_at=as_of,
        contact=sent.contact,
        to_email=message.to,
        subject=message.subject[:300],
        body_text=message.text,
        body_html=message.html,
        esp_message_id=sent.esp_id,
        invoices=[
            {k: str(v) for k, v in line.items() if k != "days_overdue"} for line in sent.invoices
        ],
        total=sent.total,
        attempts=F("attempts") + 1,
        last_error="",
    )
    if not updated:
        raise RuntimeError(f"touch {touch.pk} changed hands while it was being sent")
    Task.objects.filter(touch_id=touch.pk, kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED, notes="The worker's answer came: it was sent."
    )
    queue_touched(
        customer_id=touch.customer_id, at=as_of, label=touch_label(step.fact.name, touch.channel)
    )
    audit_record(
        action=f"dunning.{touch.channel}.sent",
        customer_id=touch.customer_id,
        summary=f"{step.fact.name} sent {sent.where}: {message.subject}",
        data={
            "touch_id": touch.pk,
            "message_id": touch.message_id,
            "to": message.to,
            "subject": message.subject,
            "invoices": [line["number"] for line in sent.invoices],
            "total": str(sent.total),
            "esp_message_id": sent.esp_id,
            "template_version": message.template_version.pk,
            "documents": {d.filename: d.sha256 for d in documents},
        },
    )
    if sent.posted_only:
        fix_contact_task(
            touch=touch, as_of=as_of, reason="no usable email address: the letter was posted"
        )
    return RunResult.of_touch(touch, TouchStatus.SENT, f"sent {sent.where}: {reason}")


def _sent_unrecorded(sent: Sent, *, as_of, error: Exception) -> RunResult | None:
    """The server took it and the database would not record it. Try to say so (unknown,
    with a task that tells the person it almost certainly went); if the database cannot
    take even that, the claim goes stale and the next run does the same."""
    text = f"{type(error).__name__}: {error}"[:500]
    try:
        return outcome_unknown(
            touch_id=sent.touch.pk,
            claim=sent.claim,
            at=as_of,
            reason=f"the mail server took it {sent.where} (Message-ID {sent.touch.message_id}) "
            f"but recording it failed ({text}); it almost certainly went",
        )
    except Exception:
        log.exception("touch %s: could not record its unknown outcome either", sent.touch.pk)
        _reset_broken_connection()
        return None


# --- the ways a touch ends without a hand-off ---------------------------------------------------


@transaction.atomic
def _cancel(touch: Touch, claim: int, reason: str) -> RunResult:
    # The key moves aside: the step may be planned again once the pause ends.
    if not _mine(touch.pk, claim).update(
        status=TouchStatus.CANCELLED, key=f"{touch.key}~x{touch.pk}", last_error=reason
    ):
        return RunResult.of_touch(touch, "skipped", "another worker took it over")
    audit_record(
        action="dunning.touch.cancelled",
        customer_id=touch.customer_id,
        summary=f"{_name(touch)} cancelled: {reason}",
        data={"touch_id": touch.pk, "reason": reason},
    )
    return RunResult.of_touch(touch, TouchStatus.CANCELLED, reason)


@transaction.atomic
def _no_contact(touch: Touch, claim: int, *, as_of, escalation: bool) -> RunResult:
    who = "escalation or accounts-payable" if escalation else "accounts-payable"
    reason = f"no usable {who} email address (missing, opted out or bounced)"
    if not _mine(touch.pk, claim).update(status=TouchStatus.FAILED, last_error=reason):
        return RunResult.of_touch(touch, "skipped", "another worker took it over")
    fix_contact_task(touch=touch, as_of=as_of, reason=reason)
    audit_record(
        action=f"dunning.{touch.channel}.failed",
        customer_id=touch.customer_id,
        summary=f"{_name(touch)} not sent: {reason}",
        data={"touch_id": touch.pk, "reason": reason},
    )
    return RunResult.of_touch(touch, TouchStatus.FAILED, reason)


def _failed_attempt(
    touch_id: int, claim: int, *, as_of, error: Exception, proven: bool = False, final=False
) -> RunResult | None:
    """A failure before the hand-off, or one the hand-off proves sent nothing (`proven`):
    try again later, and after MAX_ATTEMPTS ask a person (the chase waits for them). Any
    other failure once the hand-off has begun is left alone: its claim goes stale and the
    next run makes it "unknown". If even this cannot be written, the same happens."""
    try:
        return _retry_or_give_up(
            touch_id, claim, as_of=as_of, error=error, proven=proven, final=final
        )
    except Exception:
        log.exception("touch %s: recording a failed attempt failed", touch_id)
        _reset_broken_connection()
        return None


@transaction.atomic
def _retry_or_give_up(
    touch_id: int, claim: int, *, as_of, error: Exception, proven: bool, final: bool
) -> RunResult | None:
    touch = Touch.objects.select_related("customer", "step").get(pk=touch_id)
    if touch.status != TouchStatus.SENDING or touch.claims != claim:
        return None
    if touch.handoff_at is not None and not proven:
        return None
    attempts = touch.attempts + 1
    # A refusal of the consequence check is a reason for a person, not a fault: its words alone.
    refused = isinstance(error, ConsequenceRefused)
    text = (str(error) if refused else f"{type(error).__name__}: {error}")[:2000]
    if attempts >= MAX_ATTEMPTS or final:
        _mine(touch_id, claim).update(
            status=TouchStatus.FAILED, attempts=attempts, last_error=text, handoff_at=None
        )
        audit_record(
            action=f"dunning.{touch.channel}.failed",
            customer_id=touch.customer_id,
            summary=(
                f"{text}; a collector decides"
                if refused
                else f"Not sent after {attempts} attempt{'s' if attempts > 1 else ''}, "
                f"a collector decides: {text}"
            )[:300],
            data={"touch_id": touch_id, "error": text},
        )
        send_failed_task(touch=touch, at=as_of, error=text, attempts=attempts, refused=refused)
        return RunResult.of_touch(touch, TouchStatus.FAILED, text)
    retry_at = as_of + RETRY_BASE * 2 ** (attempts - 1)
    _mine(touch_id, claim).update(
        status=TouchStatus.PENDING,
        attempts=attempts,
        last_error=text,
        scheduled_for=retry_at,
        handoff_at=None,
    )
    return RunResult.of_touch(touch, "retry", f"attempt {attempts} failed ({text}); retry later")


def fix_contact_task(*, touch: Touch, as_of: dt.datetime, reason: str) -> Task:
    """Ask the customer's collector for a working address (one open task per customer)."""
    open_task = Task.objects.filter(
        customer_id=touch.customer_id, kind=TaskKind.FIX_CONTACT, status=TaskStatus.OPEN
    ).first()
    return open_task or touch_task_create(
        touch,
        kind=TaskKind.FIX_CONTACT,
        at=as_of,
        title=f"Fix the email contact of {touch.customer.name}",
        detail=reason,
        action="dunning.fix_contact_task.created",
        summary=f"Task: fix the email contact ({reason})",
    )


def _name(touch: Touch) -> str:
    return touch.step.name if touch.step_id else touch.get_channel_display()
