"""A run of several chunks plans them in forked processes on PostgreSQL (dunning.planners)
and records them here: the same touches in the same order, whatever the number of
processes; a process that fails or is killed fails the run loudly, leaves no process
behind, and the rerun doubles nothing."""

import datetime as dt
import os
import signal

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from dunning import planning
from dunning.models import Chase, Touch
from dunning.planners import PlannerFailed
from dunning.planning import dunning_run, dunning_run_stream

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ladder"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="planning processes are PostgreSQL's"
    ),
]


@pytest.fixture
def customers(monkeypatch):
    monkeypatch.setattr("dunning.selectors.CHUNK", 2)
    return [overdue_customer(days=days) for days in (3, 8, 15, 3, 31, 40, 9)]


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _said(results) -> list[tuple]:
    return [(r.customer, r.status, r.step, r.invoices, r.reason) for r in results]


@pytest.mark.parametrize("processes", [1, 2, 5])
def test_processes_plan_the_chunks_that_one_process_plans_in_the_same_order(
    customers, settings, processes
):
    settings.DUNNING_PLANNERS = 0
    alone = _said(dunning_run(as_of=MONDAY_10, dry_run=True))
    settings.DUNNING_PLANNERS = processes

    forked = dunning_run(as_of=MONDAY_10)

    assert [(c, step, invoices) for c, _s, step, invoices, _r in _said(forked)] == [
        (c, step, invoices) for c, _s, step, invoices, _r in alone
    ]
    assert sorted(r.customer for r in forked) == sorted(c.external_id for c in customers)
    assert Touch.objects.count() == Chase.objects.count() == len(customers)
    assert AuditEvent.objects.filter(action="dunning.touch.planned").count() == len(customers)
    assert _no_children_left()


def test_the_callers_transaction_and_connection_outlive_the_processes(customers):
    with transaction.atomic():
        results = dunning_run(as_of=MONDAY_10)
        # Still this transaction, on this connection: the processes closed only their own.
        assert connection.in_atomic_block
        assert Touch.objects.count() == len(results) == len(customers)
        transaction.set_rollback(True)

    assert Touch.objects.count() == 0
    assert _no_children_left()


def test_a_failing_process_fails_the_run_with_its_error_and_the_rerun_completes(
    customers, monkeypatch
):
    loaded = planning.facts_load

    def failing(chunk, **kwargs):
        if customers[4].pk in chunk:
            raise ValueError("the ledger could not be read")
        return loaded(chunk, **kwargs)

    monkeypatch.setattr(planning, "facts_load", failing)  # the processes inherit it

    with pytest.raises(PlannerFailed, match="the ledger could not be read"):
        dunning_run(as_of=MONDAY_10)
    recorded = Touch.objects.count()
    assert recorded == 4  # the two chunks before the failing one
    assert _no_children_left()

    monkeypatch.setattr(planning, "facts_load", loaded)
    rest = dunning_run(as_of=MONDAY_10)
    assert len(rest) == len(customers) - recorded
    assert Touch.objects.count() == len(customers)
    assert sorted(Touch.objects.values_list("customer_id", flat=True)) == sorted(
        c.pk for c in customers
    )


def test_a_killed_process_fails_the_run_and_nothing_is_doubled_or_lost(customers, monkeypatch):
    loaded = planning.facts_load
    parent = os.getpid()

    def killed(chunk, **kwargs):
        if os.getpid() != parent and customers[2].pk in chunk:
            os.kill(os.getpid(), signal.SIGKILL)
        return loaded(chunk, **kwargs)

    monkeypatch.setattr(planning, "facts_load", killed)
    with pytest.raises(PlannerFailed, match="ended without sending"):
        dunning_run(as_of=MONDAY_10)
    assert Touch.objects.count() == 2
    assert _no_children_left()

    monkeypatch.setattr(planning, "facts_load", loaded)
    dunning_run(as_of=MONDAY_10)
    again = dunning_run(as_of=MONDAY_10)

    assert again == []
    assert Touch.objects.count() == Chase.objects.count() == len(customers)
    assert AuditEvent.objects.filter(action="dunning.touch.planned").count() == len(customers)


def test_a_run_cut_short_stops_its_processes(customers):
    stream = dunning_run_stream(as_of=MONDAY_10)
    first = next(stream)
    stream.close()

    assert _no_children_left()
    assert Touch.objects.filter(customer_id=first.customer_id).exists()
    assert Touch.objects.count() == 2


def test_the_events_a_run_records_chain_and_name_their_touch_and_chase(customers):
    dunning_run(as_of=MONDAY_10)  # every chase starts
    dunning_run(as_of=MONDAY_10 + dt.timedelta(days=7))  # chases go on, some with tasks

    verified, broken = audit_chain_verify()

    assert broken is None
    assert verified == AuditEvent.objects.count()
    events = AuditEvent.objects.filter(data__has_key="touch_id")
    assert events.count() == Touch.objects.count() > len(customers)
    started = 0
    for event in events:
        touch = Touch.objects.get(pk=event.data["touch_id"])
        assert touch.customer_id == event.customer_id
        if "chase_started" in event.data:
            started += 1
            assert event.data["chase_started"] == touch.chase_id
            assert event.summary.startswith("Chase 1 started. ")
        else:
            assert not event.summary.startswith("Chase")
    assert started == len(customers)
