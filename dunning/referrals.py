"""Legal referrals: the engine proposes one (a task for managers) once the final demand's
deadline has passed and the balance is above the step's threshold; a manager approves or
declines it here. Approval builds the pack and puts the customer in legal, which stops all
automated contact. A referral is refused when an invoice has passed its limitation date."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from invoices.models import Invoice, InvoiceStatus
from letters.models import DocumentKind
from letters.services import document_store

from .exceptions import DunningError
from .limitation import limitation_check, limitation_date, period_years
from .models import (
    Channel,
    Referral,
    ReferralStatus,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from .pack import Case, pack_build


def referral_case(task: Task, *, today: dt.date | None = None) -> Case:
    """What a referral task would refer now: the invoices its touch listed that are still
    open, at their current balances, with their limitation dates."""
    today = today or timezone.localdate()
    customer = task.customer
    numbers = [line["number"] for line in (task.touch.invoices if task.touch_id else [])]
    rows = Invoice.objects.filter(
        customer=customer, status__in=(InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
    )
    if numbers:
        rows = rows.filter(number__in=numbers)
    years = period_years(customer.country, customer.region)
    invoices = [
        {
            "number": inv.number,
            "issue_date": inv.issue_date,
            "due_date": inv.due_date,
            "days_overdue": max(0, (today - inv.due_date).days),
            "balance": inv.open_balance,
            "limitation": limitation_date(inv.due_date, years) if years else None,
        }
        for inv in rows.order_by("due_date", "number")
    ]
    barred, warnings = limitation_check(
        ((line["number"], line["due_date"]) for line in invoices), years=years, today=today
    )
    final_demand = (
        Touch.objects.filter(
            customer=customer,
            chase_id=task.touch.chase_id if task.touch_id else None,
            channel=Channel.LETTER,
            status__in=(TouchStatus.SENT, TouchStatus.DELIVERED),
        )
        .order_by("-sent_at")
        .first()
    )
    return Case(
        customer=customer,
        invoices=invoices,
        total=sum((line["balance"] for line in invoices), Decimal("0.00")),
        currency=customer.currency,
        years=years,
        barred=barred,
        warnings=warnings,
        final_demand=final_demand,
    )


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


@transaction.atomic
def referral_approve(*, actor, task_id: int, reason: str = "") -> Referral:
    task = _open_task(task_id)
    at = timezone.now()
    case = referral_case(task, today=timezone.localdate(at))
    if not case.invoices:
        raise DunningError("Nothing is left to refer: every invoice of this case is settled.")
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
        invoices=[
            {"number": i["number"], "due_date": str(i["due_date"]), "balance": str(i["balance"])}
            for i in case.invoices
        ],
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
        summary=f"Legal referral approved for {case.total} {case.currency}; automated "
        "contact stopped" + (f": {reason}" if reason else ""),
        data={
            "referral_id": referral.pk,
            "invoices": [i["number"] for i in case.invoices],
            "total": str(case.total),
            "pack_sha256": pack.sha256,
        },
    )
    return referral


@transaction.atomic
def referral_decline(*, actor, task_id: int, reason: str) -> Referral:
    reason = reason.strip()
    if not reason:
        raise DunningError("Say why the referral is declined.")
    task = _open_task(task_id)
    at = timezone.now()
    case = referral_case(task, today=timezone.localdate(at))
    referral = Referral.objects.create(
        customer=case.customer,
        task=task,
        status=ReferralStatus.DECLINED,
        reason=reason,
        total=case.total,
        currency=case.currency,
        invoices=[{"number": i["number"], "balance": str(i["balance"])} for i in case.invoices],
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
    return referral
