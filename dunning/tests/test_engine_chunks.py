"""A run streams through the ledger a chunk of customers at a time (selectors.CHUNK): what
it plans must not depend on where the chunks fall, and what it costs in queries follows the
number of chunks, not of customers."""

import datetime as dt
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from dunning.models import Chase, ChaseStatus, PolicyVersion, Task, TaskKind, Touch
from dunning.planning import dunning_run, dunning_run_stream
from invoices.tests.factories import CustomerFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

# On PostgreSQL a run of several chunks is planned in forked processes with their own
# connections (dunning.planners): they see only committed rows, hence transactional tests.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ladder")]


def _chase(customer, **fields) -> Chase:
    return Chase.objects.create(
        customer=customer,
        cycle=1,
        policy_version=PolicyVersion.objects.filter(policy__name="Standard").latest("number"),
        status=ChaseStatus.ACTIVE,
        started_at=MONDAY_10 - dt.timedelta(days=1),
        **fields,
    )


def _varied_ledger() -> list[Chase]:
    """Customers in the states a run tells apart, with customers it skips between them;
    returns the chases that were there before any run."""
    overdue_customer(days=3)
    CustomerFactory()  # nothing open, never chased: not part of the run
    overdue_customer(days=20, invoices=2)
    overdue_customer(days=-2)  # due in two days: the courtesy reminder
    overdue_customer(days=10, on_hold=True, hold_reason="Query with their bank")
    moved = overdue_customer(days=35)
    chases = [_chase(moved, start_position=5, move_reason="They asked for a call")]
    CustomerFactory()
    chases.append(_chase(CustomerFactory()))  # paid up: its chase closes
    overdue_customer(days=8, debtor_type="consumer")
    overdue_customer(days=3, timezone="America/New_York")
    overdue_customer(days=3, invoices=3)
    return chases


def _planned() -> tuple:
    """What a run left behind, without the ids and references that differ between runs."""
    touches = sorted(
        Touch.objects.values_list(
            "key",
            "customer_id",
            "step__name",
            "channel",
            "status",
            "scheduled_for",
            "reason",
            "invoices",
            "total",
        )
    )
    tasks = sorted(Task.objects.values_list("customer_id", "kind", "title", "detail", "due_at"))
    chases = sorted(Chase.objects.values_list("customer_id", "cycle", "status", "close_reason"))
    return touches, tasks, chases


def _said(results) -> list[tuple]:
    return sorted((r.customer, r.status, r.step, r.invoices, r.reason) for r in results)


def _undo_run(chases: list[Chase]) -> None:
    """Back to the ledger as it was before the run (its audit events stay: append-only)."""
    Task.objects.all().delete()
    Touch.objects.all().delete()
    Chase.objects.exclude(pk__in=[c.pk for c in chases]).delete()
    Chase.objects.filter(pk__in=[c.pk for c in chases]).update(
        status=ChaseStatus.ACTIVE, closed_at=None, close_reason=""
    )


@contextmanager
def _queries_counted():
    """Counts the statements a run sends, on its own connection and on any other this
    process opens (the run plans in this process: DUNNING_PLANNERS = 0)."""
    count = [0]

    def counted(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    def on_connect(sender, connection, **kwargs):
        connection.execute_wrappers.append(counted)

    connection.ensure_connection()
    connection_created.connect(on_connect)
    try:
        with connection.execute_wrapper(counted):
            yield count
    finally:
        connection_created.disconnect(on_connect)


def test_a_run_in_many_chunks_plans_exactly_what_a_run_in_one_chunk_plans(monkeypatch):
    before = _varied_ledger()
    monkeypatch.setattr("dunning.selectors.CHUNK", 1_000)
    whole = _said(dunning_run(as_of=MONDAY_10))
    planned_whole = _planned()
    _undo_run(before)

    monkeypatch.setattr("dunning.selectors.CHUNK", 2)
    chunked = _said(dunning_run(as_of=MONDAY_10))

    assert _planned() == planned_whole
    assert chunked == whole
    touches, tasks, chases = planned_whole
    # All but the customer on hold, the one paid up and the one in New York (night there).
    assert len(touches) == 6
    assert [task[1] for task in tasks] == [TaskKind.CALL]
    assert ChaseStatus.CLOSED in [chase[2] for chase in chases]


def test_a_run_cut_short_by_its_caller_plans_only_the_chunks_it_reached(monkeypatch):
    for _ in range(5):
        overdue_customer(days=3)
    monkeypatch.setattr("dunning.selectors.CHUNK", 2)

    stream = dunning_run_stream(as_of=MONDAY_10)
    first = [next(stream), next(stream)]
    stream.close()

    assert Touch.objects.count() == 2
    assert sorted(t.customer_id for t in Touch.objects.all()) == sorted(
        r.customer_id for r in first
    )
    rest = dunning_run(as_of=MONDAY_10)
    assert Touch.objects.count() == 5
    assert len(rest) == 3


def test_the_queries_of_a_run_follow_its_chunks_not_its_customers(monkeypatch, settings):
    settings.DUNNING_PLANNERS = 0

    def queries(chunk: int) -> int:
        monkeypatch.setattr("dunning.selectors.CHUNK", chunk)
        with _queries_counted() as count:
            results = dunning_run(as_of=MONDAY_10)
        assert Touch.objects.count() == len(results) == customers
        _undo_run([])
        return count[0]

    customers = 4
    for _ in range(customers):
        overdue_customer(days=3)
    queries(1_000)  # warms what a process loads once (templates, holidays)
    two_chunks_of_two = queries(2)
    for _ in range(4):
        overdue_customer(days=3)
    customers = 8
    two_chunks_of_four = queries(4)
    four_chunks_of_two = queries(2)

    assert two_chunks_of_four == two_chunks_of_two
    assert four_chunks_of_two > two_chunks_of_four
