import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from dunning.models import Chase, Task, TaskKind, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.selectors import Steps, facts_load
from invoices.models import ContactRole
from invoices.services import payment_record
from invoices.tests.factories import ContactFactory, InvoiceFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def test_an_overdue_customer_gets_one_pending_touch_for_the_due_step():
    customer = overdue_customer(days=3)

    [result] = dunning_run(as_of=MONDAY_10)

    touch = Touch.objects.get()
    assert (touch.customer, touch.status, touch.step.name) == (
        customer,
        TouchStatus.PENDING,
        "Friendly reminder",
    )
    assert result.status == TouchStatus.PENDING


def test_the_touch_key_names_customer_cycle_and_step():
    customer = overdue_customer(days=3)

    dunning_run(as_of=MONDAY_10)

    assert Touch.objects.get().key == f"{customer.pk}:1:2"


def test_one_touch_covers_every_eligible_invoice_of_the_customer():
    overdue_customer(days=3, invoices=3)

    dunning_run(as_of=MONDAY_10)

    assert len(Touch.objects.get().invoices) == 3


def test_planning_starts_a_chase_on_the_default_policy():
    overdue_customer(days=3)

    dunning_run(as_of=MONDAY_10)

    chase = Chase.objects.get()
    assert (chase.cycle, chase.policy_version.policy.name) == (1, "Standard")


def test_each_planned_touch_writes_one_audit_event():
    overdue_customer(days=3)

    dunning_run(as_of=MONDAY_10)

    assert AuditEvent.objects.filter(action="dunning.touch.planned").count() == 1


def test_a_phone_step_becomes_a_call_task_for_the_collector(collector):
    customer = overdue_customer(days=31, collector=collector)
    chase = Chase.objects.create(
        customer=customer,
        cycle=1,
        policy_version_id=_standard_version(),
        started_at=MONDAY_10 - dt.timedelta(days=30),
    )
    _done(chase, positions=(1, 2, 3, 4), at=MONDAY_10 - dt.timedelta(days=10))

    dunning_run(as_of=MONDAY_10)

    task = Task.objects.get(kind=TaskKind.CALL)
    assert (task.assigned_to, task.touch.status) == (collector, TouchStatus.DONE)


@pytest.mark.parametrize(
    ("numbers", "called"),
    [
        ([True], False),  # the only number asked not to be called: the step is skipped
        ([True, False], True),  # another number may be called
        ([], True),  # no number on file: the collector finds one
    ],
)
def test_a_phone_step_calls_only_numbers_that_may_be_called(collector, numbers, called):
    customer = overdue_customer(days=31, collector=collector)
    for refused, role in zip(numbers, (ContactRole.ESCALATION, ContactRole.LEGAL), strict=False):
        ContactFactory(
            customer=customer, role=role, phone="+44 20 7946 0000", phone_opt_out=refused
        )
    chase = Chase.objects.create(
        customer=customer,
        cycle=1,
        policy_version_id=_standard_version(),
        started_at=MONDAY_10 - dt.timedelta(days=30),
    )
    _done(chase, positions=(1, 2, 3, 4), at=MONDAY_10 - dt.timedelta(days=10))

    dunning_run(as_of=MONDAY_10)

    assert Task.objects.filter(kind=TaskKind.CALL).exists() == called
    touch = Touch.objects.get(step__position=5)
    assert (touch.status == TouchStatus.SKIPPED) == (not called)


def test_a_call_task_falls_inside_eight_to_nine_customer_local_time(collector):
    customer = overdue_customer(days=31, collector=collector, timezone="America/New_York")
    chase = Chase.objects.create(
        customer=customer,
        cycle=1,
        policy_version_id=_standard_version(),
        started_at=MONDAY_10 - dt.timedelta(days=30),
    )
    _done(chase, positions=(1, 2, 3, 4), at=MONDAY_10 - dt.timedelta(days=10))

    dunning_run(as_of=MONDAY_10 + dt.timedelta(hours=3))

    task = Task.objects.get(kind=TaskKind.CALL)
    local = task.due_at.astimezone(dt.timezone(dt.timedelta(hours=-4)))  # EDT in March
    end = task.window_end.astimezone(dt.timezone(dt.timedelta(hours=-4)))
    assert dt.time(8) <= local.time() < dt.time(21)
    assert end.time() == dt.time(21)


def test_a_customer_with_nothing_open_has_its_chase_closed():
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    payment_record(
        actor=None,
        customer=customer,
        amount=customer.invoices.get().amount,
        received_on=MONDAY_10.date(),
    )

    dunning_run(as_of=MONDAY_10 + dt.timedelta(hours=1))

    assert Chase.objects.get().status == "closed"


def test_facts_cost_the_same_number_of_queries_for_many_customers():
    overdue_customer(days=3)
    with CaptureQueriesContext(connection) as one:
        dunning_run(as_of=MONDAY_10, dry_run=True)
    for _ in range(5):
        customer = overdue_customer(days=3, invoices=2)
        ContactFactory(customer=customer, role=ContactRole.ESCALATION, is_primary=True)
        InvoiceFactory(customer=customer)
    with CaptureQueriesContext(connection) as six:
        dunning_run(as_of=MONDAY_10, dry_run=True)

    assert len(six) == len(one)


def _standard_version():
    from dunning.models import Policy

    return Policy.objects.get(name="Standard").current_version.pk


def _done(chase, *, positions, at):
    for position in positions:
        step = chase.policy_version.steps.get(position=position)
        Touch.objects.create(
            key=f"{chase.customer_id}:{chase.cycle}:{position}",
            customer=chase.customer,
            chase=chase,
            step=step,
            channel=step.channel,
            status=TouchStatus.SENT,
            scheduled_for=at,
            sent_at=at,
            currency="GBP",
        )


def test_the_final_demand_gives_its_response_days_in_business_days_from_sending():
    customer = overdue_customer(days=50)
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    letter_sent = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday
    _done(chase, positions=[6], at=letter_sent)

    [loaded] = facts_load([customer.pk], as_of=MONDAY_10, steps=Steps())

    # 14 business days after Monday 2 March: Friday 20 March.
    assert loaded.facts.demand_deadline == dt.date(2026, 3, 20)


def test_a_legal_referral_waits_until_the_day_after_the_final_demand_deadline():
    customer = overdue_customer(days=70, amount=Decimal("5000.00"))
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=[1, 2, 3, 4, 5, 6], at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))

    dunning_run(as_of=MONDAY_10)
    waiting = Task.objects.filter(kind=TaskKind.REFERRAL).exists()
    dunning_run(as_of=MONDAY_10 + dt.timedelta(days=7))  # Monday 23 March

    assert not waiting
    assert Task.objects.filter(kind=TaskKind.REFERRAL).count() == 1
