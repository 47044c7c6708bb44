"""One truth on every screen: after anything a collector does, and after a dunning run, the
queue row and the customer page show the same flags, the same next step and the same last
touch (both read them through workspace.situation, from the customer's queue row).

The customer starts where the issue found Saltmarsh Interiors: the phone step is due (an
open call task), the final demand is the next step on the ladder."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse

from dunning.calls import call_log
from dunning.models import Chase, Task, TaskKind, TaskStatus, Touch, TouchStatus
from dunning.outcomes import SENT, outcome_settle, outcome_unknown
from dunning.sending import next_step_send_now
from dunning.services import (
    dispute_open_queued,
    dunning_cycle,
    hold_set,
    plan_create,
    promise_record,
    task_complete,
)
from dunning.tests.factories import MONDAY_10, overdue_customer
from dunning.tests.test_shell import _done, _standard_version
from invoices.services import customer_note_add

pytestmark = pytest.mark.django_db
TODAY = MONDAY_10.date()


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)
    return time_machine


@pytest.fixture
def customer(collector):
    """35 days overdue, steps 1-4 done: the run at 10:00 makes the phone task (due now) and
    leaves the final demand as the next step."""
    customer = overdue_customer(days=35, invoices=2, collector=collector, name="Saltmarsh")
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=range(1, 5), at=MONDAY_10 - dt.timedelta(days=20))
    dunning_cycle(as_of=MONDAY_10)
    return customer


@dataclass(frozen=True)
class Seen:
    """What a screen shows of a customer's situation."""

    flags: tuple[str, ...]
    next: tuple
    last_touch: tuple


def _seen(flags, next_step, touched) -> Seen:
    return Seen(
        flags=tuple(flag.label for flag in flags),
        next=(next_step.state, next_step.heading, next_step.at, next_step.headline),
        last_touch=(touched.at, touched.label) if touched else None,
    )


def on_the_queue(client, customer) -> tuple[Seen, str]:
    response = client.get(reverse("queue"))
    [entry] = [e for e in response.context["page"].object_list if e.customer_id == customer.pk]
    url = reverse("customer_detail", args=[customer.pk])
    [row] = re.findall(rf'<tr data-href="{url}".*?</tr>', response.text, re.S)
    return _seen(entry.flags, entry.next, entry.touched), row


def on_the_customer_page(client, customer) -> tuple[Seen, str, str]:
    response = client.get(reverse("customer_detail", args=[customer.pk]))
    view = response.context["view"]
    header = response.text.split('id="next-step"')[0]
    return _seen(view.flags, view.next, view.last_touch), response.text, header


# --- the actions ---------------------------------------------------------------------------


def log_a_call(customer, actor, clock):
    task = Task.objects.get(customer=customer, kind=TaskKind.CALL, status=TaskStatus.OPEN)
    call_log(actor=actor, customer=customer, at=MONDAY_10, outcome="no_answer", task=task)


def promise(customer, actor, clock):
    promise_record(
        actor=actor,
        customer=customer,
        amount=Decimal("200.00"),
        promised_for=TODAY + dt.timedelta(days=7),
        made_on=TODAY,
    )


def dispute(customer, actor, clock):
    invoice = customer.invoices.order_by("id").first()
    dispute_open_queued(actor=actor, invoice=invoice, reason="pricing", opened_on=TODAY)


def plan(customer, actor, clock):
    plan_create(
        actor=actor,
        customer=customer,
        agreed_on=TODAY,
        instalments=[(TODAY + dt.timedelta(days=7 * n), Decimal("100.00")) for n in (1, 2)],
    )


def hold(customer, actor, clock):
    hold_set(actor=actor, customer=customer, reason="Director on leave", until=TODAY)


def note(customer, actor, clock):
    customer_note_add(actor=actor, customer=customer, text="Spoke to their bookkeeper")


def send_now(customer, actor, clock):
    next_step_send_now(actor=actor, customer=customer, as_of=MONDAY_10)


def complete_a_task(customer, actor, clock):
    task = Task.objects.create(
        kind=TaskKind.INTERNAL,
        customer=customer,
        assigned_to=actor,
        title="Set up the payment plan they asked for",
        due_at=MONDAY_10,
    )
    task_complete(actor=actor, task=task, at=MONDAY_10)


def settle_a_check(customer, actor, clock):
    # The firm reminder's answer never came back: unknown, with a check task.
    touch = Touch.objects.get(customer=customer, step__position=4)
    Touch.objects.filter(pk=touch.pk).update(status=TouchStatus.SENDING, claims=7)
    outcome_unknown(touch_id=touch.pk, claim=7, at=MONDAY_10, reason="no answer")
    check = Task.objects.get(customer=customer, kind=TaskKind.CHECK_SEND)
    outcome_settle(actor=actor, task=check, choice=SENT, at=MONDAY_10)


def a_check_left_open(customer, actor, clock):
    touch = Touch.objects.get(customer=customer, step__position=4)
    Touch.objects.filter(pk=touch.pk).update(status=TouchStatus.SENDING, claims=7)
    outcome_unknown(touch_id=touch.pk, claim=7, at=MONDAY_10, reason="no answer")


def a_dunning_run_ten_days_on(customer, actor, clock):
    clock.move_to(MONDAY_10 + dt.timedelta(days=10), tick=False)
    dunning_cycle(as_of=MONDAY_10 + dt.timedelta(days=10))


def nothing(customer, actor, clock):
    pass


# What each action must visibly change, besides the two screens agreeing.
CASES = {
    "as the run left it": (nothing, lambda seen: "Call due" in seen.flags),
    "log a call": (log_a_call, lambda seen: seen.last_touch[1] == "Call: no answer"),
    "promise": (promise, lambda seen: "Promised for 23 Mar 2026" in seen.flags),
    "dispute": (dispute, lambda seen: "Disputed" in seen.flags),
    "plan": (plan, lambda seen: "Payment plan" in seen.flags),
    "hold": (hold, lambda seen: "On hold" in seen.flags and seen.next[0] == "paused"),
    "note": (note, lambda seen: seen.last_touch[1] == "Firm reminder by email"),
    "send now": (send_now, lambda seen: seen.last_touch[1] == "Final demand by letter"),
    "complete a task": (complete_a_task, lambda seen: "Call due" in seen.flags),
    "settle a check": (settle_a_check, lambda seen: "Message to check" not in seen.flags),
    "a check left open": (a_check_left_open, lambda seen: seen.flags[0] == "Message to check"),
    "dunning run": (
        a_dunning_run_ten_days_on,
        lambda seen: seen.last_touch[1] == "Final demand by letter",
    ),
}


@pytest.mark.parametrize("action", CASES.values(), ids=CASES.keys())
def test_the_queue_and_the_customer_page_agree_after(
    action, customer, collector, collector_client, frozen
):
    act, changed = action
    act(customer, collector, frozen)
    collector_client.force_login(collector)  # a session outlives no clock moved days on

    queued, row = on_the_queue(collector_client, customer)
    paged, page, header = on_the_customer_page(collector_client, customer)

    assert queued == paged
    assert changed(paged)
    for label in paged.flags:
        assert label in row
        assert label in header
    heading = paged.next[1] or paged.next[3]
    if heading:
        assert heading in row
        assert heading in page
    if paged.last_touch:
        assert paged.last_touch[1] in row
        assert paged.last_touch[1] in header
