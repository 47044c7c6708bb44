"""Emails confirming to a contact what they did on their page, each handed over once.

`confirmation_queue` is called inside the action's transaction: the row commits with the
action or not at all. Delivery claims a row (pending -> sending) by compare-and-set, commits
handoff_at before the message goes (dunning.handoff), and records the result:
- taken by the server: sent;
- certainly not taken: pending again, failed after MAX_ATTEMPTS;
- perhaps taken (no answer once the body went, or the worker died after handoff_at): unknown,
  never sent again. A confirmation is a courtesy copy of what the page already showed, so
  an unknown one is listed for staff rather than risking a second copy."""

import datetime as dt
import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dunning.handoff import HandoffFailed, HandoffUnclear, HandoffWithdrawn, handoff
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
    Confirmation.objects.filter(pk=pk, status=Status.SENDING).update(**fields)
    return status


def confirmations_sweep(*, now: dt.datetime) -> int:
    """Recover claims left by dead workers, then send what waits; returns how many went."""
    sending = Confirmation.objects.filter(status=Status.SENDING)
    # A worker between its claim and handoff_at cannot hand off once put back (commit()).
    sending.filter(handoff_at__isnull=True, created_at__lt=now - STALE_CLAIM).update(
        status=Status.PENDING
    )
    sending.filter(handoff_at__lt=now - STALE_CLAIM).update(
        status=Status.UNKNOWN, last_error="The worker stopped while handing it over."
    )
    waiting = Confirmation.objects.filter(status=Status.PENDING).order_by("id")
    ids = list(waiting.values_list("pk", flat=True)[:500])
    return sum(confirmation_deliver(pk, now=now) == Status.SENT for pk in ids)
