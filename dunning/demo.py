"""Dunning history for the demo: a few chronic late payers already well up the ladder, so
that a fresh demo shows final demand letters going out, letters to post, phone calls for
the collectors and a legal referral waiting for a manager. Runs once, on a demo with no
chase yet."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Min, Sum

from invoices.models import ContactRole, Customer, InvoiceStatus

from .models import Chase, Policy, Touch, TouchStatus

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
        for back, step in zip(range(len(done), 0, -1), done, strict=True):
            when = now - dt.timedelta(days=10 + 8 * back if not past_deadline else 25 + 8 * back)
            if step == final:
                when = now - dt.timedelta(days=25)  # 14 business days have passed since
            Touch.objects.create(
                key=f"{customer.pk}:1:{step.position}",
                customer=customer,
                chase=chase,
                step=step,
                channel=step.channel,
                status=TouchStatus.SENT
                if step.channel in ("email", "letter")
                else TouchStatus.DONE,
                scheduled_for=when,
                sent_at=when,
                reason="Demo history",
                currency=customer.currency,
            )
    return len(customers)
