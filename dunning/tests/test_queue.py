import datetime as dt
from decimal import Decimal

import pytest

from dunning.models import Priority, QueueEntry
from dunning.planning import dunning_run
from dunning.queue import queue_refresh
from dunning.services import hold_set
from invoices.services import payment_record

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]

TODAY = MONDAY_10.date()


def test_a_run_writes_a_queue_row_for_each_customer_it_plans():
    late = overdue_customer(days=10, amount=Decimal("200.00"))
    early = overdue_customer(days=-5)

    dunning_run(as_of=MONDAY_10)

    rows = {row.customer_id: row for row in QueueEntry.objects.all()}
    assert rows[late.pk].priority == Priority.CHASE
    assert (rows[late.pk].overdue_total, rows[late.pk].weight) == (
        Decimal("200.00"),
        Decimal("2000.00"),
    )
    assert rows[early.pk].priority == Priority.NOT_DUE


def test_the_row_names_the_next_step_and_why():
    customer = overdue_customer(days=3)

    dunning_run(as_of=MONDAY_10)

    row = QueueEntry.objects.get(customer=customer)
    assert row.next_step == "Friendly reminder"
    assert row.next_reason


def test_a_dry_run_writes_no_queue_rows():
    overdue_customer(days=3)

    dunning_run(as_of=MONDAY_10, dry_run=True)

    assert not QueueEntry.objects.exists()


def test_running_twice_leaves_one_row_per_customer():
    overdue_customer(days=3)

    dunning_run(as_of=MONDAY_10)
    dunning_run(as_of=MONDAY_10 + dt.timedelta(minutes=15))

    assert QueueEntry.objects.count() == 1


def test_a_run_drops_the_row_of_a_customer_who_paid_everything():
    customer = overdue_customer(days=3, amount=Decimal("100.00"))
    dunning_run(as_of=MONDAY_10)

    payment_record(
        actor=None, customer=customer, amount=Decimal("100.00"), received_on=MONDAY_10.date()
    )
    dunning_run(as_of=MONDAY_10 + dt.timedelta(days=1))

    assert not QueueEntry.objects.filter(customer=customer).exists()


def test_a_hold_is_in_the_queue_at_once_without_waiting_for_a_run():
    customer = overdue_customer(days=10)
    dunning_run(as_of=MONDAY_10)

    hold_set(actor=None, customer=customer, reason="Query with sales", until=None)

    row = QueueEntry.objects.get(customer=customer)
    assert (row.priority, row.on_hold) == (Priority.WAITING, True)
    assert "hold" in row.paused_by.lower()


def test_refreshing_a_customer_with_nothing_open_removes_their_row():
    customer = overdue_customer(days=10, amount=Decimal("50.00"))
    queue_refresh(customer_ids=[customer.pk], as_of=MONDAY_10)
    assert QueueEntry.objects.filter(customer=customer).exists()

    payment_record(
        actor=None, customer=customer, amount=Decimal("50.00"), received_on=MONDAY_10.date()
    )
    queue_refresh(customer_ids=[customer.pk], as_of=MONDAY_10)

    assert not QueueEntry.objects.filter(customer=customer).exists()
