"""Delivery runs the consequence check: a message that must threaten what may not be
threatened is not sent, the touch says why and a collector is asked; optional threats are
left out and the message goes."""

import datetime as dt

import pytest
from django.core import mail

from audit.models import AuditEvent
from dunning.models import Channel, Chase, PolicyStep, Task, Touch, TouchStatus
from invoices.models import DebtorType

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .test_delivery import plan_and_deliver
from .test_shell import _done, _standard_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]

# Due 10 Jan 2019: past England's six years on 16 Mar 2026 (LEGAL.md).
BARRED_DAYS = (MONDAY_10.date() - dt.date(2019, 1, 10)).days
REFUSED = "is past its limitation date, so no legal action or referral may be threatened"


def _chased_up_to(position: int, *, days: int, **customer_fields):
    customer = overdue_customer(days=days, **customer_fields)
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=range(1, position), at=MONDAY_10.replace(day=2))
    return customer


def _final_demand_by_email():
    # A policy may send its final demand by email: the engine keeps barred invoices out of
    # letters, and an email's words are checked as it goes. (No Letter of Claim here: that
    # path is dunning/tests/test_pre_action.py's.)
    PolicyStep.objects.filter(version_id=_standard_version(), position=6).update(
        channel=Channel.EMAIL, pre_action_template="", pre_action_days=None
    )


def test_a_final_demand_on_a_barred_consumer_debt_is_not_sent_and_a_collector_is_told_why(
    collector,
):
    _final_demand_by_email()
    customer = _chased_up_to(
        6, days=BARRED_DAYS, debtor_type=DebtorType.CONSUMER, collector=collector
    )
    number = customer.invoices.get().number

    plan_and_deliver()

    assert mail.outbox == []
    touch = Touch.objects.get(step__position=6)
    assert touch.status == TouchStatus.FAILED
    assert f"Final demand not sent: {number} {REFUSED}" in touch.last_error
    task = Task.objects.get(customer=customer, touch=touch)
    assert task.assigned_to == collector
    assert f"{number} {REFUSED}" in task.detail
    assert task.title.endswith("was not sent") and "mail server" not in task.detail
    event = AuditEvent.objects.get(action="dunning.email.failed", customer_id=customer.pk)
    assert REFUSED in event.summary and "ConsequenceRefused" not in event.summary


def test_a_refused_final_demand_is_not_sent_on_a_later_run_either():
    _final_demand_by_email()
    customer = _chased_up_to(6, days=BARRED_DAYS, debtor_type=DebtorType.CONSUMER)
    plan_and_deliver()

    plan_and_deliver(MONDAY_10 + dt.timedelta(hours=1))
    plan_and_deliver(MONDAY_10 + dt.timedelta(days=1))

    assert mail.outbox == []
    assert Touch.objects.filter(customer=customer, step__position=6).count() == 1
    assert Task.objects.filter(customer=customer).count() == 1


def test_a_final_demand_on_a_live_debt_threatens_referral_and_goes():
    _final_demand_by_email()
    _chased_up_to(6, days=50, debtor_type=DebtorType.CONSUMER)

    plan_and_deliver()

    [email] = mail.outbox
    assert "we intend to refer the debt for recovery, which may include legal proceedings" in (
        email.body
    )


@pytest.mark.parametrize(("days", "threatened"), [(20, True), (BARRED_DAYS, False)])
def test_the_firm_reminder_leaves_out_the_credit_hold_on_a_barred_debt_and_still_goes(
    days, threatened
):
    _chased_up_to(4, days=days, debtor_type=DebtorType.CONSUMER)

    plan_and_deliver()

    [email] = mail.outbox
    assert "Please pay the full amount now." in email.body
    assert ("we may put further credit on hold" in email.body) is threatened
    assert Touch.objects.get(step__position=4).status == TouchStatus.SENT
