"""Emails confirming to a contact what they did on their page, each handed over once.

`confirmation_queue` is called inside the action's transaction: the row commits with the
action or not at all. Delivery claims a row (pending -> sending) by compare-and-set, commits
handoff_at before the message goes (dunning.handoff), and records the result:
- taken by the server: sent;
- certainly not taken: pending again, failed after MAX_ATTEMPTS;
- perhaps taken (no answer once the body went, or the worker died after handoff_at): unknown,
  never sent again; the collector gets a task to check it, as for a dunning message.
A confirmation that failed for good also becomes a task: nothing is lost silently."""

import datetime as dt
import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from dunning.handoff import HandoffFailed, HandoffUnclear, HandoffWithdrawn, handoff
from dunning.models import Task, TaskKind
from invoices.models import Contact

from .models import Confirmation, ConfirmationStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STALE_CLAIM = dt.timedelta(minutes=10)
Status = ConfirmationStatus


def confirmation_queue(
    *, contact: Contact, key: str, subject: str, text: str, now: dt.datetime
) -> Confirmation | None:
    """Queue the confirmation `key` (e.g. "dispute:12") to the contact; None when the contact
    has no email address or it was queued already. Sent after the caller's commit."""
    if not contact.email:
        return None
    confirmation, made = Confirmation.objects.get_or_create(
        key=key,
        defaults={
            "customer_id": contact.customer_id,
            "contact": contact,
            "to_email": contact.email,
            "subject": subject[:300],
            "body_text": text,
            "created_at": now,
        },
    )
    if not made:
        return None
    transaction.on_commit(lambda: _deliver_later(confirmation.pk))
    return confirmation


def _deliver_later(pk: int) -> None:
    from django_q.tasks import async_task

    try:
        async_task("portal.tasks.confirmation_deliver_task", pk)
    except Exception:  # the sweep (portal.schedule) sends it
        log.warning("queueing confirmation %s failed", pk, exc_info=True)


def confirmation_deliver(pk: int, *, now: dt.datetime | None = None) -> str:
    """Deliver one pending confirmation; returns its status afterwards."""
    now = now or timezone.now()
    claimed = Confirmation.objects.filter(pk=pk, status=Status.PENDING).update(
        status=Status.SENDING, attempts=F("attempts") + 1, handoff_at=None
    )
    confirmation = Confirmation.objects.get(pk=pk)
    if not claimed:
        return confirmation.status

    def commit() -> bool:
        return bool(
            Confirmation.objects.filter(
                pk=pk, status=Status.SENDING, handoff_at__isnull=True
            ).update(handoff_at=timezone.now())
        )

    email = EmailMessage(
        subject=confirmation.subject,
        body=confirmation.body_text,
        to=[confirmation.to_email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.tags = ["confirmation"]
    try:
        handoff(email, commit=commit)
    except HandoffFailed as error:
        status = Status.FAILED if confirmation.attempts >= MAX_ATTEMPTS else Status.PENDING
        return _settle(pk, status, str(error))
    except HandoffUnclear as error:
        return _settle(pk, Status.UNKNOWN, str(error))
    except HandoffWithdrawn:
        return Confirmation.objects.get(pk=pk).status
    return _settle(pk, Status.SENT, "", sent_at=timezone.now())


def _settle(pk: int, status: str, error: str, sent_at=None) -> str:
    fields = {"status": status, "last_error": error[:2000]}
    if sent_at:
        fields["sent_at"] = sent_at
    if status == Status.PENDING:
        fields["handoff_at"] = None
    with transaction.atomic():
        settled = Confirmation.objects.filter(pk=pk, status=Status.SENDING).update(**fields)
        if settled and status in (Status.UNKNOWN, Status.FAILED):
            _task_for(Confirmation.objects.get(pk=pk), at=timezone.now())
    return status


def _task_for(confirmation: Confirmation, *, at: dt.datetime) -> Task:
    """A person settles a confirmation that may or may not have gone, or could not go."""
    unknown = confirmation.status == Status.UNKNOWN
    title = (
        f"Check whether the confirmation to {confirmation.to_email} went"
        if unknown
        else f"Confirmation to {confirmation.to_email} could not be sent"
    )
    task = Task.objects.create(
        kind=TaskKind.CHECK_SEND if unknown else TaskKind.INTERNAL,
        customer_id=confirmation.customer_id,
        assigned_to_id=confirmation.customer.collector_id,
        title=title[:200],
        detail=f"{confirmation.subject}\n\n{confirmation.last_error}".strip(),
        due_at=at,
    )
    audit_record(
        action="dunning.check_task.created",
        customer_id=confirmation.customer_id,
        summary=f"Task: {title}",
        data={"task_id": task.pk, "confirmation_id": confirmation.pk},
    )
    return task


def confirmations_sweep(*, now: dt.datetime) -> int:
    """Recover claims left by dead workers, then send what waits; returns how many went."""
    sending = Confirmation.objects.filter(status=Status.SENDING)
    # A worker between its claim and handoff_at cannot hand off once put back (commit()).
    sending.filter(handoff_at__isnull=True, created_at__lt=now - STALE_CLAIM).update(
        status=Status.PENDING
    )
    for confirmation in sending.filter(handoff_at__lt=now - STALE_CLAIM):
        with transaction.atomic():
            if Confirmation.objects.filter(pk=confirmation.pk, status=Status.SENDING).update(
                status=Status.UNKNOWN, last_error="The worker stopped while handing it over."
            ):
                confirmation.refresh_from_db()
                _task_for(confirmation, at=now)
    waiting = Confirmation.objects.filter(status=Status.PENDING).order_by("id")
    ids = list(waiting.values_list("pk", flat=True)[:500])
    return sum(confirmation_deliver(pk, now=now) == Status.SENT for pk in ids)
