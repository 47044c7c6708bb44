"""The satisfaction check's answers: "all in order" is kept as the customer's written
acknowledgement, "there is a problem" opens a dispute. The engine plans the check
(dunning.engine.plan_check); the customer answers on their page (portal.checks)."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction

from audit.services import audit_record
from invoices.dates import format_day
from invoices.models import Contact, Customer, DisputeReason, Invoice, RaisedVia

from .exceptions import DunningError
from .models import CheckAnswer, SatisfactionAnswer, StepKind, Touch, TouchStatus
from .queue import queue_refresh
from .services import acknowledgement_record, dispute_open_queued

# What a check answered "all in order" is kept as (a written acknowledgement).
IN_ORDER_NOTE = "Confirmed on the customer page that invoice {number} was received and is in order"
DETAIL_MAX = 2000
# A check message that may have reached the customer: they can answer it.
ASKED = (
    TouchStatus.SENDING,
    TouchStatus.UNKNOWN,
    TouchStatus.SENT,
    TouchStatus.DELIVERED,
)


class CheckAnswered(DunningError):
    """The invoice's check was answered already: the first answer stands."""

    def __init__(self, answer: SatisfactionAnswer):
        self.answer = answer
        super().__init__(
            f"You already answered for this invoice on {format_day(answer.answered_at.date())}: "
            f"{answer.get_answer_display().lower()}."
        )


def check_touch(customer_id: int, invoice_id: int) -> Touch | None:
    """The latest check message that asked this customer about this invoice, or None."""
    for touch in Touch.objects.filter(
        customer_id=customer_id, step__kind=StepKind.CHECK, status__in=ASKED
    ).order_by("-id"):
        # Ids as numbers when planned, as text once sent (dunning.outbox._record_sent).
        if any(str(line.get("id")) == str(invoice_id) for line in touch.invoices):
            return touch
    return None


@transaction.atomic
def satisfaction_answer_record(
    *,
    customer: Customer,
    invoice: Invoice,
    answer: str,
    contact: Contact | None,
    link_data: dict,
    now: dt.datetime,
    reason: str | None = None,
    detail: str = "",
) -> SatisfactionAnswer:
    """Record the customer's answer to the satisfaction check for one of their invoices.

    in_order: a written acknowledgement of the invoice (where the law says so it restarts
    the limitation clock: dunning.limitation), kept with the answer. problem: a dispute
    (raised via the check) with the reason and detail given; the invoice leaves dunning.
    The first answer stands: a second raises CheckAnswered with it. link_data
    (portal.requests.came_from) goes on the audit event."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.customer_id != customer.pk:
        raise DunningError("That invoice is not this customer's.")
    earlier = SatisfactionAnswer.objects.filter(invoice=invoice).first()
    if earlier is not None:
        raise CheckAnswered(earlier)
    if answer not in CheckAnswer.values:
        raise DunningError("Choose one of the two answers.")
    detail = (detail or "").strip()
    if len(detail) > DETAIL_MAX:
        raise DunningError(f"Keep what you tell us to {DETAIL_MAX} characters.")
    today = now.astimezone(ZoneInfo(customer.timezone)).date()
    before_due = today < invoice.due_date
    acknowledgement = dispute = None
    if answer == CheckAnswer.ALL_IN_ORDER:
        acknowledgement = acknowledgement_record(
            actor=None,
            customer=customer,
            acknowledged_on=today,
            invoices=[invoice],
            note=IN_ORDER_NOTE.format(number=invoice.number),
            today=today,
        )
    else:
        if reason not in DisputeReason.values:
            raise DunningError("Choose what the problem is.")
        # A DisputeError (settled, or a dispute already open) leaves nothing recorded.
        dispute = dispute_open_queued(
            actor=None,
            invoice=invoice,
            reason=reason,
            opened_on=today,
            detail=detail,
            raised_via=RaisedVia.CHECK,
            label="customer page",
            audit_data=link_data,
        )
    touch = check_touch(customer.pk, invoice.pk)
    recorded = SatisfactionAnswer.objects.create(
        customer=customer,
        invoice=invoice,
        touch=touch,
        contact=contact,
        answer=answer,
        answered_at=now,
        before_due=before_due,
        acknowledgement=acknowledgement,
        dispute=dispute,
    )
    said = CheckAnswer(answer).label.lower()
    audit_record(
        action="dunning.check.answered",
        customer_id=customer.pk,
        invoice_id=invoice.pk,
        label="customer page",
        summary=f"Satisfaction check answered for {invoice.number}: {said}"
        + ("" if before_due else " (after the due date)"),
        data={
            **link_data,
            "answer_id": recorded.pk,
            "answer": answer,
            "invoice": invoice.number,
            "before_due": before_due,
            "touch_id": touch.pk if touch else None,
            "acknowledgement_id": acknowledgement.pk if acknowledgement else None,
            "dispute_id": dispute.pk if dispute else None,
            "reason": reason or "",
            "detail": detail,
        },
    )
    queue_refresh(customer_ids=[customer.pk])
    return recorded
