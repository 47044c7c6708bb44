"""Dunning history for the demo: a few chronic late payers already well up the ladder, so
that a fresh demo shows final demand letters going out, letters to post, phone calls for
the collectors and a legal referral waiting for a manager. Runs once, on a demo with no
chase yet."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Min, Sum

from audit.services import Event, audit_record_many
from invoices.models import ContactRole, Customer, InvoiceStatus
from invoices.money import format_money

from .models import Channel, Chase, Policy, Touch, TouchStatus

AT_FINAL_DEMAND = 4  # customers whose next step is the final demand
PAST_DEADLINE = 2  # customers whose final demand's deadline has passed: referral proposed
AT_PHONE = 4  # customers whose next step is a collector's phone call


def _candidates(today: dt.date, count: int) -> list[Customer]:
    """Business customers with an AP email, a balance over the referral threshold and an
    invoice at least 75 days overdue, most overdue first."""
    return list(
        Customer.objects.filter(
            debtor_type="business",
            do_not_contact=False,
            insolvent=False,
            on_hold=False,
            contacts__role=ContactRole.ACCOUNTS_PAYABLE,
            invoices__status=InvoiceStatus.OPEN,
        )
        .annotate(
            oldest=Min("invoices__due_date"), owed=Sum("invoices__open_balance", distinct=True)
        )
        .filter(oldest__lte=today - dt.timedelta(days=75), owed__gte=Decimal("1500"))
        .order_by("oldest", "pk")
        .distinct()[:count]
    )


@transaction.atomic
def demo_history(*, now: dt.datetime) -> int:
    """Backdate the earlier steps for a few customers; returns how many. Does nothing once
    any chase exists."""
    if Chase.objects.exists():
        return 0
    policy = Policy.objects.filter(is_default=True).first()
    if policy is None:
        return 0
    version = policy.current_version
    steps = list(version.steps.order_by("position"))
    final = next((s for s in steps if s.channel == "letter"), None)
    if final is None:
        return 0
    phone = next((s for s in steps if s.channel == "phone"), final)
    customers = _candidates(now.date(), AT_FINAL_DEMAND + PAST_DEADLINE + AT_PHONE)
    for index, customer in enumerate(customers):
        past_deadline = index < PAST_DEADLINE
        upto = final if index < PAST_DEADLINE + AT_FINAL_DEMAND else phone
        done = [s for s in steps if s.position < upto.position or (past_deadline and s == final)]
        chase = Chase.objects.create(
            customer=customer,
            cycle=1,
            policy_version=version,
            started_at=now - dt.timedelta(days=60),
        )
        contact = customer.contacts.filter(role=ContactRole.ACCOUNTS_PAYABLE).first()
        for back, step in zip(range(len(done), 0, -1), done, strict=True):
            when = now - dt.timedelta(days=10 + 8 * back if not past_deadline else 25 + 8 * back)
            if step == final:
                when = now - dt.timedelta(days=25)  # 14 business days have passed since
            _touch(customer, chase, step, when, contact)
    return len(customers)


def _touch(customer, chase, step, when: dt.datetime, contact) -> Touch:
    """One backdated step as delivery would have left it: a message with its subject, the
    invoices overdue then and their total, and its audit event (the timeline's "sent")."""
    message = step.channel in (Channel.EMAIL, Channel.LETTER)
    overdue = list(
        customer.invoices.filter(status=InvoiceStatus.OPEN, due_date__lt=when.date())
        .order_by("due_date", "pk")
        .values("pk", "number", "due_date", "open_balance")
    )
    total = sum((line["open_balance"] for line in overdue), Decimal("0.00"))
    subject = f"{step.name}: {format_money(total, customer.currency)} overdue" if message else ""
    touch = Touch.objects.create(
        key=f"{customer.pk}:1:{step.position}",
        customer=customer,
        chase=chase,
        step=step,
        channel=step.channel,
        status=TouchStatus.SENT if message else TouchStatus.DONE,
        scheduled_for=when,
        sent_at=when,
        reason="Demo history",
        contact=contact if message else None,
        to_email=contact.email if message and contact else "",
        subject=subject,
        invoices=[
            {
                "id": str(line["pk"]),
                "number": line["number"],
                "due_date": str(line["due_date"]),
                "balance": str(line["open_balance"]),
            }
            for line in overdue
        ],
        total=total,
        currency=customer.currency,
    )
    if message:
        audit_record_many(
            events=[
                Event(
                    action=f"dunning.{step.channel}.sent",
                    customer_id=customer.pk,
                    summary=f"{step.name} sent to {touch.to_email}: {subject}",
                    data={
                        "touch_id": touch.pk,
                        "to": touch.to_email,
                        "subject": subject,
                        "invoices": [line["number"] for line in overdue],
                        "total": str(total),
                    },
                )
            ],
            at=when,
        )
    return touch
