import datetime as dt
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dunning.calls import call_log
from dunning.models import CallOutcome, Priority, QueueEntry, Touch, TouchStatus
from dunning.outbox import touches_deliver
from dunning.planning import dunning_run
from dunning.queue import queue_refresh, queue_touched
from dunning.services import dunning_cycle, hold_set
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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row versions are PostgreSQL's")
def test_a_second_run_leaves_the_rows_that_did_not_change_untouched_and_rewrites_the_rest():
    """A run every quarter of an hour rewrites only what changed: the other rows are not
    even locked (a lock writes the row's page and the WAL as an update does)."""
    same = [overdue_customer(days=days) for days in (-5, -12)]  # nothing due: same plans
    paid_some = overdue_customer(days=-20, amount=Decimal("300.00"))
    dunning_run(as_of=MONDAY_10)
    payment_record(actor=None, customer=paid_some, amount=Decimal("100.00"), received_on=TODAY)

    dunning_run(as_of=MONDAY_10 + dt.timedelta(minutes=15))

    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_id, xmax::text FROM dunning_queueentry")
        locked_or_updated = {cid for cid, xmax in cursor.fetchall() if xmax != "0"}
    assert not locked_or_updated & {customer.pk for customer in same}
    assert QueueEntry.objects.get(customer=paid_some).open_total == Decimal("200.00")


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


# --- last touch ------------------------------------------------------------------------------


def test_the_message_that_went_out_is_the_last_touch_named_by_its_step():
    customer = overdue_customer(days=3)

    dunning_cycle(as_of=MONDAY_10)

    row = QueueEntry.objects.get(customer=customer)
    assert (row.last_touch, row.last_touch_at) == ("Friendly reminder by email", MONDAY_10)


def test_a_message_only_planned_is_not_a_touch_yet():
    customer = overdue_customer(days=3)

    dunning_run(as_of=MONDAY_10)

    row = QueueEntry.objects.get(customer=customer)
    assert (row.last_touch, row.last_touch_at) == ("", None)


def test_after_a_delivery_the_row_names_the_step_after_the_one_that_went():
    customer = overdue_customer(days=3)

    dunning_cycle(as_of=MONDAY_10)

    assert QueueEntry.objects.get(customer=customer).next_step == "Second reminder"


def test_a_delivery_makes_its_message_the_last_touch_even_when_rows_cannot_be_rewritten():
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)

    with patch("dunning.outbox.queue_refresh", side_effect=RuntimeError("queue down")):
        touches_deliver(as_of=MONDAY_10)

    row = QueueEntry.objects.get(customer=customer)
    assert Touch.objects.get().status == TouchStatus.SENT
    assert (row.last_touch, row.last_touch_at) == ("Friendly reminder by email", MONDAY_10)


def test_a_call_logged_after_the_message_becomes_the_last_touch(collector):
    customer = overdue_customer(days=3)
    dunning_cycle(as_of=MONDAY_10)
    later = MONDAY_10 + dt.timedelta(hours=2)

    call_log(actor=collector, customer=customer, at=later, outcome=CallOutcome.SPOKE)

    row = QueueEntry.objects.get(customer=customer)
    assert (row.last_touch, row.last_touch_at) == ("Call: spoke, no commitment", later)


def test_an_earlier_touch_never_replaces_a_later_one():
    customer = overdue_customer(days=3)
    dunning_cycle(as_of=MONDAY_10)

    queue_touched(
        customer_id=customer.pk, at=MONDAY_10 - dt.timedelta(days=1), label="Older letter"
    )

    assert QueueEntry.objects.get(customer=customer).last_touch == "Friendly reminder by email"


def test_a_refresh_words_the_last_touch_as_the_delivery_did():
    customer = overdue_customer(days=3)
    dunning_cycle(as_of=MONDAY_10)
    delivered = QueueEntry.objects.values_list("last_touch", "last_touch_at").get()

    queue_refresh(customer_ids=[customer.pk], as_of=MONDAY_10 + dt.timedelta(hours=1))

    assert QueueEntry.objects.values_list("last_touch", "last_touch_at").get() == delivered


def test_a_manual_letter_is_a_touch_as_an_automated_one_is(collector):
    customer = overdue_customer(days=3)
    dunning_cycle(as_of=MONDAY_10)
    Touch.objects.update(automated=False, channel="letter")

    queue_refresh(customer_ids=[customer.pk], as_of=MONDAY_10)

    assert QueueEntry.objects.get(customer=customer).last_touch == "Friendly reminder by letter"


def test_the_rows_cost_the_same_queries_for_one_or_six_customers(collector):
    def queries_for(count):
        customers = [overdue_customer(days=3) for _ in range(count)]
        dunning_cycle(as_of=MONDAY_10)
        for customer in customers:
            call_log(actor=collector, customer=customer, at=MONDAY_10, outcome="no_answer")
        with CaptureQueriesContext(connection) as captured:
            queue_refresh(customer_ids=[c.pk for c in customers], as_of=MONDAY_10)
        return len(captured)

    assert queries_for(1) == queries_for(6)
