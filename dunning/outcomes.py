"""Messages a person has to settle: a touch whose outcome is unknown (the hand-off to the
mail server began and no answer came back) and one that could not be sent after every
retry. Neither is "step done": the customer's chasing waits (dunning.selectors reads the
open check task or the unknown touch) and a task asks the collector to choose.

- unknown: "It was sent" (the step counts as done) or "Send it again" (the same touch, the
  same Message-ID, goes out with the next delivery). A delivery event for its Message-ID
  settles it by itself (dunning.webhooks).
- failed: "Send it again" (with fresh attempts) or "Skip this step" (the chase moves on).
An unknown touch counts as a contact for pacing from the moment of its hand-off."""

import datetime as dt

from django.db import transaction

from audit.services import audit_record

from .exceptions import DunningError
from .models import Task, TaskKind, TaskStatus, Touch, TouchStatus
from .planning import RunResult
from .queue import queue_refresh

SENT = "sent"
AGAIN = "again"
SKIP = "skip"
CHOICES = {
    TouchStatus.UNKNOWN: ((SENT, "It was sent"), (AGAIN, "Send it again")),
    TouchStatus.FAILED: ((AGAIN, "Send it again"), (SKIP, "Skip this step")),
}


@transaction.atomic
def outcome_unknown(*, touch_id: int, claim: int, at: dt.datetime, reason: str) -> RunResult | None:
    """The claim `claim` of a touch ended without an answer from the mail server: mark it
    unknown and ask its collector. None when the claim is no longer this caller's."""
    if not Touch.objects.filter(pk=touch_id, status=TouchStatus.SENDING, claims=claim).update(
        status=TouchStatus.UNKNOWN, last_error=reason[:2000]
    ):
        return None
    touch = Touch.objects.select_related("customer", "step").get(pk=touch_id)
    name = _name(touch)
    task = _task(
        touch,
        at=at,
        title=f"Check whether the {name} reached {touch.customer.name}",
        detail=f"Outcome unknown: {reason}. Chasing {touch.customer.name} waits until you "
        "choose: if it went (the customer has it, or the mail server's log shows it), choose "
        "“It was sent”; if it did not, “Send it again”.",
    )
    audit_record(
        action="dunning.touch.outcome_unknown",
        customer_id=touch.customer_id,
        summary=f"{name}: outcome unknown ({reason}); a collector checks",
        data={"touch_id": touch_id, "task_id": task.pk, "message_id": touch.message_id},
    )
    queue_refresh(customer_ids=[touch.customer_id], as_of=at)
    return RunResult.of_touch(touch, TouchStatus.UNKNOWN, f"outcome unknown: {reason}")


def send_failed_task(
    *, touch: Touch, at: dt.datetime, error: str, attempts: int, refused: bool = False
) -> Task:
    """Every retry of a touch failed, or the consequence check refused what it would say
    (`refused`): ask its collector (in the caller's transaction)."""
    if refused:
        title = f"The {_name(touch)} to {touch.customer.name} was not sent"
        detail = (
            f"{error}. Chasing {touch.customer.name} waits until you choose “Skip this step”, "
            "or “Send it again” once it may be said (a part-payment or a written "
            "acknowledgement restarts the limitation clock)."
        )
    else:
        title = f"The {_name(touch)} to {touch.customer.name} could not be sent"
        detail = (
            f"{attempts} attempt{'s' if attempts > 1 else ''} failed; the last: {error}. "
            f"Chasing {touch.customer.name} waits until you choose “Send it again” (once the "
            "mail server or the template is fixed) or “Skip this step”."
        )
    task = _task(touch, at=at, title=title, detail=detail)
    queue_refresh(customer_ids=[touch.customer_id], as_of=at)
    return task


def outcome_settle(*, actor, task: Task, choice: str, at: dt.datetime) -> Touch:
    """A collector's answer to a check task. Raises DunningError when the choice does not
    fit the touch (or someone settled it first)."""
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",)).select_related("customer").get(pk=task.pk)
        )
        if task.kind != TaskKind.CHECK_SEND or task.status != TaskStatus.OPEN:
            raise DunningError("This has already been settled.")
        touch = (
            Touch.objects.select_for_update(of=("self",))
            .select_related("step")
            .get(pk=task.touch_id)
        )
        allowed = dict(CHOICES.get(touch.status, ()))
        if choice not in allowed:
            raise DunningError(f"“{choice}” is not a choice for a message that is {touch.status}.")
        name = _name(touch)
        if choice == SENT:
            Touch.objects.filter(pk=touch.pk).update(
                status=TouchStatus.SENT, sent_at=touch.handoff_at or touch.claimed_at or at
            )
            summary = f"{name}: confirmed sent by {_who(actor)}"
        elif choice == AGAIN:
            fields = {"status": TouchStatus.PENDING, "scheduled_for": at, "handoff_at": None}
            if touch.status == TouchStatus.FAILED:
                fields["attempts"] = 0
            Touch.objects.filter(pk=touch.pk).update(**fields)
            summary = f"{name}: {_who(actor)} chose to send it again"
        else:
            summary = f"{name}: skipped by {_who(actor)}; the chase moves on"
        _close(task, actor=actor, at=at, notes=allowed[choice])
        audit_record(
            action=f"dunning.touch.settled_{choice}",
            actor=actor,
            customer_id=touch.customer_id,
            summary=summary,
            data={"touch_id": touch.pk, "task_id": task.pk, "was": touch.status},
        )
        queue_refresh(customer_ids=[touch.customer_id], as_of=at)
    if choice == AGAIN:
        from .outbox import touches_deliver  # the outbox builds on this module

        touches_deliver(as_of=at, customer_ids=[touch.customer_id])
    touch.refresh_from_db()
    return touch


def outcome_settled_by_event(*, touch_id: int, status: str, at: dt.datetime, event_key: str):
    """A delivery event has just moved a touch out of "unknown" (dunning.webhooks, in its
    transaction): the server had it after all. Close the check task, audited."""
    touch = Touch.objects.select_related("step").get(pk=touch_id)
    if touch.sent_at is None:
        Touch.objects.filter(pk=touch_id).update(sent_at=touch.handoff_at or at)
    for task in Task.objects.filter(
        touch_id=touch_id, kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN
    ):
        _close(task, actor=None, at=at, notes=f"Settled by the mail service: {status}.")
    audit_record(
        action="dunning.touch.settled_by_event",
        customer_id=touch.customer_id,
        summary=f"{_name(touch)}: outcome settled by a delivery event ({status})",
        data={"touch_id": touch_id, "event_id": event_key, "status": status},
    )
    queue_refresh(customer_ids=[touch.customer_id], as_of=at)


def _task(touch: Touch, *, at: dt.datetime, title: str, detail: str) -> Task:
    existing = Task.objects.filter(
        touch=touch, kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN
    ).first()
    return existing or touch_task_create(
        touch,
        kind=TaskKind.CHECK_SEND,
        at=at,
        title=title,
        detail=detail,
        action="dunning.check_task.created",
        summary=f"Task: {title}",
    )


def touch_task_create(
    touch: Touch, *, kind: str, at: dt.datetime, title: str, detail: str, action: str, summary: str
) -> Task:
    """A task about a touch for the customer's collector, audited (in the caller's
    transaction)."""
    task = Task.objects.create(
        kind=kind,
        customer_id=touch.customer_id,
        touch=touch,
        assigned_to_id=touch.customer.collector_id,
        title=title[:200],
        detail=detail,
        due_at=at,
    )
    audit_record(
        action=action,
        customer_id=touch.customer_id,
        summary=summary,
        data={"task_id": task.pk, "touch_id": touch.pk},
    )
    return task


def _close(task: Task, *, actor, at: dt.datetime, notes: str) -> None:
    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.DONE, completed_at=at, completed_by=actor, notes=notes
    )


def _name(touch: Touch) -> str:
    return touch.step.name if touch.step_id else touch.get_channel_display()


def _who(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "the system"
