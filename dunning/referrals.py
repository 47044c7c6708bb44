"""Legal referrals: the engine proposes one (a task for managers) once the final demand's
deadline has passed and the balance is above the step's threshold; a manager approves or
declines it here. Approval builds the pack and puts the customer in legal, which stops all
automated contact. A referral is refused when an invoice has passed its limitation date.

A referral covers only invoices that a final demand sent in the chase demanded: an invoice
that fell due after the letter (1 or 21 days overdue when the referral is proposed) was
never given the letter's deadline, so it is left out and stays with the ladder."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Prefetch
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.services import audit_record
from invoices.models import Allocation, Dispute, Invoice, InvoiceStatus, Payment
from invoices.money import format_money
from letters.models import DocumentKind
from letters.services import document_store

from .calendar import zone
from .exceptions import DunningError
from .facts import Calendar
from .limitation import limitation_state
from .models import (
    Channel,
    PromiseToPay,
    Referral,
    ReferralStatus,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from .pack import Case, FinalDemand, pack_build
from .queue import queue_refresh
from .selectors import calendar_for, letter_deadline, referral_wait

REASON_MAX = 1000  # a decision's reason; longer notes belong on the customer
RECENT = 10  # rows of each kind of history on the decision page
REFERABLE = (InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
# A letter that went out: a bounce or complaint afterwards does not unsend the posted copy.
LETTER_WENT = (
    TouchStatus.SENT,
    TouchStatus.DELIVERED,
    TouchStatus.BOUNCED,
    TouchStatus.COMPLAINED,
)
# Touches that reached (or tried to reach) the customer or recorded a collector's action.
CONTACT_STATUSES = (
    TouchStatus.SENT,
    TouchStatus.DELIVERED,
    TouchStatus.BOUNCED,
    TouchStatus.COMPLAINED,
    TouchStatus.FAILED,
    TouchStatus.UNKNOWN,
    TouchStatus.DONE,
)
NOT_IN_DEMAND = "not in the final demand"
NO_DEMAND = "no final demand on record"
NOT_PROPOSED = "not in the proposal (on hold when it was made)"


# --- reads ---------------------------------------------------------------------------------


def _demand_letters(customer_ids: Iterable[int]):
    """Final demands (letters with a deadline to pay) that went out, oldest first, without
    the bytes of their PDFs or bodies."""
    return (
        Touch.objects.filter(
            customer_id__in=list(customer_ids),
            channel=Channel.LETTER,
            status__in=LETTER_WENT,
            step__response_deadline_days__isnull=False,
        )
        .select_related("step", "document")
        .defer("body_text", "body_html", "document__content")
        .order_by(Coalesce("sent_at", "scheduled_for"), "id")
    )


def _of_task(task: Task, letters: list[Touch]) -> list[Touch]:
    """The letters of the task's chase; any of the customer's for a task made by hand."""
    if not task.touch_id:
        return letters
    return [letter for letter in letters if letter.chase_id == task.touch.chase_id]


def _final_demand(
    letter: Touch, invoices: list[Invoice], customer, calendar: Calendar | None
) -> FinalDemand:
    sent_on = (letter.sent_at or letter.scheduled_for).astimezone(zone(customer.timezone)).date()
    if letter.invoices:
        numbers = frozenset(line["number"] for line in letter.invoices)
    else:
        # A letter recorded without its lines (older data): the engine's rule for a letter
        # step, every invoice already overdue on the day it went.
        numbers = frozenset(inv.number for inv in invoices if inv.due_date < sent_on)
    deadline = None
    if calendar is not None:
        # A final demand's business days, or a Letter of Claim's 30 days (and 30 more after
        # a request for documents): what the engine waits for.
        found = letter_deadline(customer=customer, letter=letter, calendar=calendar)
        deadline = found.deadline
    return FinalDemand(touch=letter, deadline=deadline, numbers=numbers)


def _proposed_numbers(task: Task) -> set[str] | None:
    """The invoices the engine listed when it proposed the referral (None: not known)."""
    if not task.touch_id or not task.touch.invoices:
        return None
    return {line["number"] for line in task.touch.invoices}


def _select(
    task: Task, invoices: list[Invoice], demands: list[FinalDemand]
) -> tuple[list[Invoice], list[tuple[Invoice, str]]]:
    """Split the customer's open invoices (oldest first) into those the referral covers and
    those it leaves out, with why."""
    demanded = frozenset().union(*(demand.numbers for demand in demands))
    proposed = _proposed_numbers(task)
    referred, left_out = [], []
    for inv in invoices:
        if inv.number not in demanded:
            left_out.append((inv, NOT_IN_DEMAND if demands else NO_DEMAND))
        elif proposed is not None and inv.number not in proposed:
            left_out.append((inv, NOT_PROPOSED))
        else:
            referred.append(inv)
    return referred, left_out


def _open_invoices(customer_ids: Iterable[int]):
    return Invoice.objects.filter(
        customer_id__in=list(customer_ids), status__in=REFERABLE
    ).order_by("due_date", "number")


def referral_case(
    task: Task, *, today: dt.date | None = None, calendar: Calendar | None = None
) -> Case:
    """What a referral task would refer now: the open invoices that both the engine's
    proposal and a final demand sent in the chase listed, at their current balances, with
    their limitation dates; the final demands; and the open invoices left out, with why.
    A fixed number of queries."""
    today = today or timezone.localdate()
    calendar = calendar or calendar_for(timezone.now())
    customer = task.customer
    invoices = list(_open_invoices([customer.pk]))
    demands = [
        _final_demand(letter, invoices, customer, calendar)
        for letter in _of_task(task, list(_demand_letters([customer.pk])))
    ]
    referred, left_out = _select(task, invoices, demands)
    # Restarts by part-payments and acknowledgements count: the clock, not the due date.
    clock = limitation_state(customer=customer, invoices=referred, today=today)
    lines = [
        {
            "id": inv.pk,
            "number": inv.number,
            "issue_date": inv.issue_date,
            "due_date": inv.due_date,
            "days_overdue": max(0, (today - inv.due_date).days),
            "balance": inv.open_balance,
            "limitation": clock.clock(inv.number).last_day,
            "disputed": inv.status == InvoiceStatus.IN_DISPUTE,
        }
        for inv in referred
    ]
    barred, warnings = clock.in_words()
    if clock.said or clock.unknown:
        # How sure the dates are belongs beside them: a guessed period, or none at all.
        note = clock.said or clock.unknown
        warnings.insert(0, note[0].upper() + note[1:] + ".")
    return Case(
        customer=customer,
        invoices=lines,
        total=sum((line["balance"] for line in lines), Decimal("0.00")),
        currency=customer.currency,
        years=clock.years,
        barred=barred,
        warnings=warnings,
        final_demands=demands,
        left_out=[
            {
                "id": inv.pk,
                "number": inv.number,
                "due_date": inv.due_date,
                "days_overdue": max(0, (today - inv.due_date).days),
                "balance": inv.open_balance,
                "why": why,
            }
            for inv, why in left_out
        ],
    )


@dataclass(frozen=True)
class Proposal:
    """An open referral as the list shows it: what it would refer now."""

    task: Task
    total: Decimal
    currency: str
    count: int
    left_out: int


def referral_proposals() -> list[Proposal]:
    """The referrals awaiting a decision, oldest first, each with the amount and number of
    invoices it would refer now. Three queries, however many there are."""
    tasks = list(
        Task.objects.filter(kind=TaskKind.REFERRAL, status=TaskStatus.OPEN)
        .select_related("customer", "touch")
        .defer("touch__body_text", "touch__body_html")
        .order_by("due_at", "id")
    )
    customer_ids = {task.customer_id for task in tasks}
    invoices, letters = defaultdict(list), defaultdict(list)
    if customer_ids:
        for inv in _open_invoices(customer_ids):
            invoices[inv.customer_id].append(inv)
        for letter in _demand_letters(customer_ids):
            letters[letter.customer_id].append(letter)
    proposals = []
    for task in tasks:
        customer = task.customer
        demands = [
            _final_demand(letter, invoices[customer.pk], customer, None)
            for letter in _of_task(task, letters[customer.pk])
        ]
        referred, left_out = _select(task, invoices[customer.pk], demands)
        proposals.append(
            Proposal(
                task=task,
                total=sum((inv.open_balance for inv in referred), Decimal("0.00")),
                currency=customer.currency,
                count=len(referred),
                left_out=len(left_out),
            )
        )
    return proposals


@dataclass(frozen=True)
class History:
    """What a manager weighs before referring: the customer's recent payments, promises,
    disputes and contacts, newest first."""

    payments: list[Payment]
    promises: list[PromiseToPay]
    disputes: list[Dispute]
    touches: list[Touch]


def referral_history(customer, *, limit: int = RECENT) -> History:
    """The customer's recent history for the decision page, in a fixed number of queries."""
    payments = list(
        Payment.objects.filter(customer=customer)
        .prefetch_related(
            Prefetch("allocations", queryset=Allocation.objects.select_related("invoice"))
        )
        .order_by("-received_on", "-id")[:limit]
    )
    promises = list(
        PromiseToPay.objects.filter(customer=customer)
        .prefetch_related(Prefetch("invoices", queryset=Invoice.objects.only("id", "number")))
        .order_by("-made_on", "-id")[:limit]
    )
    disputes = list(
        Dispute.objects.filter(invoice__customer=customer)
        .select_related("invoice")
        .order_by("-opened_on", "-id")[:limit]
    )
    touches = list(
        Touch.objects.filter(customer=customer, status__in=CONTACT_STATUSES)
        .select_related("step")
        .prefetch_related(
            Prefetch(
                "tasks",
                queryset=Task.objects.filter(kind=TaskKind.CALL).select_related("completed_by"),
            )
        )
        .defer("body_text", "body_html")
        .order_by("-created_at", "-id")[:limit]
    )
    return History(payments=payments, promises=promises, disputes=disputes, touches=touches)


def referral_lines(referral: Referral) -> list[dict]:
    """The invoices a decided referral recorded, with dates and amounts read back from its
    JSON: id (absent in older records), number, due_date, balance."""
    lines = []
    for line in referral.invoices:
        due = line.get("due_date")
        lines.append(
            {
                "id": line.get("id"),
                "number": line["number"],
                "due_date": dt.date.fromisoformat(due) if due else None,
                "balance": Decimal(line["balance"]),
            }
        )
    return lines


# --- decisions -----------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise DunningError(
            f"Keep the reason to {REASON_MAX:,} characters (it has {len(reason):,}); put "
            "longer notes on the customer."
        )
    return reason


def _open_task(task_id: int) -> Task:
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("customer", "touch")
        .filter(pk=task_id, kind=TaskKind.REFERRAL)
        .first()
    )
    if task is None:
        raise DunningError("There is no such referral.")
    if task.status != TaskStatus.OPEN:
        raise DunningError("This referral has already been decided.")
    return task


def _close(task: Task, *, actor, at: dt.datetime, note: str) -> None:
    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.DONE, completed_at=at, completed_by=actor, notes=note
    )


def _recorded(case: Case) -> list[dict]:
    return [
        {
            "id": line["id"],
            "number": line["number"],
            "due_date": str(line["due_date"]),
            "balance": str(line["balance"]),
        }
        for line in case.invoices
    ]


@transaction.atomic
def referral_approve(*, actor, task_id: int, reason: str = "") -> Referral:
    """Refer the case: build the pack from the invoices a final demand covered, record the
    decision, close the task and stop automated contact. Raises DunningError when there
    is no final demand past its deadline, nothing left to refer or a barred invoice."""
    reason = _reason(reason)
    task = _open_task(task_id)
    at = timezone.now()
    today = timezone.localdate(at)
    case = referral_case(task, today=today, calendar=calendar_for(at))
    demand = case.final_demand
    if demand is None:
        raise DunningError(
            "There is no final demand on record for this case: a referral needs one whose "
            "deadline has passed."
        )
    # A Letter of Claim's reply period (30 days, and 30 more from a reply asking for
    # documents) or a final demand's business days: the deadline the engine waits for.
    waiting = referral_wait(
        customer=case.customer, letter=demand.touch, today=today, calendar=calendar_for(at)
    )
    if waiting:
        raise DunningError(waiting)
    if not case.invoices:
        raise DunningError(
            "Nothing is left to refer: every invoice the final demand covered is settled."
        )
    if case.barred:
        raise DunningError(
            "This case cannot be referred: " + "; ".join(case.barred) + ". Write those "
            "invoices off or remove them from the case before referring the rest."
        )
    label = actor.get_full_name() or actor.get_username()
    pack = document_store(
        kind=DocumentKind.REFERRAL_PACK,
        customer_id=case.customer.pk,
        filename=f"referral-{case.customer.external_id}-{at:%Y-%m-%d}.zip",
        content=pack_build(case=case, approved_by=label, reason=reason, at=at),
        content_type="application/zip",
        actor=actor,
    )
    referral = Referral.objects.create(
        customer=case.customer,
        task=task,
        status=ReferralStatus.APPROVED,
        reason=reason,
        total=case.total,
        currency=case.currency,
        invoices=_recorded(case),
        pack=pack,
        decided_by=actor,
        decided_at=at,
    )
    _close(task, actor=actor, at=at, note=f"Approved: {reason}" if reason else "Approved")
    # Messages already planned would never pass delivery's re-check now: cancel them here.
    Touch.objects.filter(customer=case.customer, status=TouchStatus.PENDING, automated=True).update(
        status=TouchStatus.CANCELLED, last_error="Referred to legal"
    )
    audit_record(
        action="dunning.referral.approved",
        actor=actor,
        customer_id=case.customer.pk,
        summary=f"Legal referral approved for {format_money(case.total, case.currency)}; "
        "automated contact stopped" + (f": {reason}" if reason else ""),
        data={
            "referral_id": referral.pk,
            "invoices": [i["number"] for i in case.invoices],
            "left_out": [i["number"] for i in case.left_out],
            "final_demands": [d.touch.pk for d in case.final_demands],
            "total": str(case.total),
            "pack_sha256": pack.sha256,
        },
    )
    # The queue and the customer page then agree: referred, no next step, no approval due.
    queue_refresh(customer_ids=[case.customer.pk], as_of=at)
    return referral


@transaction.atomic
def referral_decline(*, actor, task_id: int, reason: str) -> Referral:
    """Decline the referral with a reason; the customer stays as they were."""
    reason = _reason(reason)
    if not reason:
        raise DunningError("Say why the referral is declined.")
    task = _open_task(task_id)
    at = timezone.now()
    case = referral_case(task, today=timezone.localdate(at), calendar=calendar_for(at))
    referral = Referral.objects.create(
        customer=case.customer,
        task=task,
        status=ReferralStatus.DECLINED,
        reason=reason,
        total=case.total,
        currency=case.currency,
        invoices=_recorded(case),
        decided_by=actor,
        decided_at=at,
    )
    _close(task, actor=actor, at=at, note=f"Declined: {reason}")
    audit_record(
        action="dunning.referral.declined",
        actor=actor,
        customer_id=case.customer.pk,
        summary=f"Legal referral declined: {reason}",
        data={"referral_id": referral.pk, "total": str(case.total)},
    )
    queue_refresh(customer_ids=[case.customer.pk], as_of=at)
    return referral
