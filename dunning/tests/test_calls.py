import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEvent
from dunning.calls import call_log
from dunning.exceptions import DunningError
from dunning.models import (
    CallOutcome,
    PromiseToPay,
    QueueEntry,
    Task,
    TaskKind,
    TaskStatus,
)
from dunning.services import task_complete
from invoices.models import DebtorType, Dispute, DisputeReason, InvoiceStatus
from invoices.services import dispute_open
from invoices.tests.factories import ContactFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]
LONDON = ZoneInfo("Europe/London")


def call_task(customer, assignee, *, due_at=MONDAY_10):
    return Task.objects.create(
        kind=TaskKind.CALL,
        customer=customer,
        assigned_to=assignee,
        title=f"Call {customer.name} about £100.00 overdue",
        due_at=due_at,
    )


def log(collector, customer, outcome, *, at=MONDAY_10, task="open", **follow_up):
    if task == "open":
        task = call_task(customer, collector, due_at=at)
    return call_log(
        actor=collector, customer=customer, at=at, outcome=outcome, task=task, **follow_up
    )


def open_calls(customer):
    return Task.objects.filter(customer=customer, kind=TaskKind.CALL, status=TaskStatus.OPEN)


# --- logging ----------------------------------------------------------------------------


def test_logging_a_call_closes_its_task_with_the_outcome_and_notes(collector):
    customer = overdue_customer(days=31)
    task = call_task(customer, collector)

    call_log(
        actor=collector,
        customer=customer,
        at=MONDAY_10,
        outcome=CallOutcome.SPOKE,
        notes=" Will check with finance ",
        task=task,
    )

    task.refresh_from_db()
    assert (task.status, task.outcome, task.notes, task.completed_by) == (
        TaskStatus.DONE,
        CallOutcome.SPOKE,
        "Will check with finance",
        collector,
    )


def test_a_logged_call_is_audited_with_its_task_and_outcome(collector):
    customer = overdue_customer(days=31)

    logged = log(collector, customer, CallOutcome.SPOKE)

    event = AuditEvent.objects.get(action="dunning.call.logged")
    assert (event.actor, event.customer_id) == (collector, customer.pk)
    assert (event.data["task_id"], event.data["outcome"]) == (logged.task.pk, "spoke")


def test_an_ad_hoc_call_is_recorded_as_a_done_call_task_of_the_caller(collector):
    customer = overdue_customer(days=31)

    logged = log(collector, customer, CallOutcome.SPOKE, task=None)

    task = Task.objects.get(pk=logged.task.pk)
    assert (task.kind, task.status, task.assigned_to, task.completed_at) == (
        TaskKind.CALL,
        TaskStatus.DONE,
        collector,
        MONDAY_10,
    )


def test_a_call_without_an_outcome_is_refused(collector):
    customer = overdue_customer(days=31)

    with pytest.raises(DunningError, match="outcome"):
        log(collector, customer, "")


def test_a_task_of_another_customer_is_refused(collector):
    customer, other = overdue_customer(days=31), overdue_customer(days=31)
    task = call_task(other, collector)

    with pytest.raises(DunningError, match="another customer"):
        log(collector, customer, CallOutcome.SPOKE, task=task)


def test_a_call_already_logged_is_refused(collector):
    customer = overdue_customer(days=31)
    logged = log(collector, customer, CallOutcome.SPOKE)

    with pytest.raises(DunningError, match="already been logged"):
        log(collector, customer, CallOutcome.SPOKE, task=logged.task)


def test_logging_a_call_refreshes_the_customers_queue_row(collector):
    customer = overdue_customer(days=31)

    log(
        collector,
        customer,
        CallOutcome.PROMISE,
        promise_amount=Decimal("100.00"),
        promise_date=MONDAY_10.date() + dt.timedelta(days=7),
    )

    assert QueueEntry.objects.get(customer=customer).promise


# --- promises and disputes --------------------------------------------------------------


def test_a_promise_is_recorded_with_the_call(collector):
    customer = overdue_customer(days=31)

    logged = log(
        collector,
        customer,
        CallOutcome.PROMISE,
        promise_amount=Decimal("60.00"),
        promise_date=dt.date(2026, 3, 20),
    )

    promise = PromiseToPay.objects.get(customer=customer)
    assert (promise.amount, promise.promised_for, promise.made_on) == (
        Decimal("60.00"),
        dt.date(2026, 3, 20),
        MONDAY_10.date(),
    )
    assert "promise of £60.00 by 20 Mar 2026" in logged.follow_ups[0]


def test_a_promise_without_an_amount_is_refused_and_nothing_is_written(collector):
    customer = overdue_customer(days=31)
    task = call_task(customer, collector)
    events = AuditEvent.objects.count()

    with pytest.raises(DunningError, match="how much"):
        log(collector, customer, CallOutcome.PROMISE, task=task, promise_date=dt.date(2026, 4, 1))

    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert AuditEvent.objects.count() == events


def test_a_promise_for_a_date_already_past_is_refused(collector):
    customer = overdue_customer(days=31)

    with pytest.raises(DunningError, match="passed"):
        log(
            collector,
            customer,
            CallOutcome.PROMISE,
            promise_amount=Decimal("10"),
            promise_date=dt.date(2026, 3, 1),
        )


def test_a_dispute_is_opened_on_the_invoice_with_the_call(collector):
    customer = overdue_customer(days=31)
    invoice = customer.invoices.get()

    log(
        collector,
        customer,
        CallOutcome.DISPUTE,
        notes="Half the pallets arrived broken",
        dispute_invoice=invoice,
        dispute_reason=DisputeReason.QUALITY,
        dispute_amount=Decimal("40.00"),
    )

    dispute = Dispute.objects.get(invoice=invoice)
    assert (dispute.reason, dispute.amount, dispute.detail) == (
        DisputeReason.QUALITY,
        Decimal("40.00"),
        "Half the pallets arrived broken",
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_DISPUTE


def test_a_dispute_without_a_reason_is_refused_and_the_task_stays_open(collector):
    customer = overdue_customer(days=31)
    task = call_task(customer, collector)

    with pytest.raises(DunningError, match="reason"):
        log(
            collector,
            customer,
            CallOutcome.DISPUTE,
            task=task,
            dispute_invoice=customer.invoices.get(),
        )

    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_dispute_the_ledger_refuses_leaves_the_call_unlogged(collector):
    customer = overdue_customer(days=31)
    invoice = customer.invoices.get()
    dispute_open(
        actor=None, invoice=invoice, reason=DisputeReason.PRICING, opened_on=dt.date(2026, 3, 1)
    )
    task = call_task(customer, collector)

    with pytest.raises(DunningError, match="already has an open dispute"):
        log(
            collector,
            customer,
            CallOutcome.DISPUTE,
            task=task,
            dispute_invoice=invoice,
            dispute_reason=DisputeReason.QUALITY,
        )

    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert not AuditEvent.objects.filter(action="dunning.call.logged").exists()


# --- plan requested, wrong number, call back --------------------------------------------


def test_a_plan_request_gives_the_caller_a_task_due_the_next_business_day(collector):
    customer = overdue_customer(days=31)
    friday = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)

    log(collector, customer, CallOutcome.PLAN_REQUESTED, at=friday)

    task = Task.objects.get(kind=TaskKind.INTERNAL)
    assert task.title == f"Set up the payment plan {customer.name} asked for"
    assert (task.assigned_to, task.due_at.date()) == (collector, dt.date(2026, 3, 23))


def test_a_wrong_number_asks_for_the_contacts_number_to_be_fixed(collector):
    customer = overdue_customer(days=31, collector=collector)
    contact = ContactFactory(
        customer=customer, name="Pat Lee", phone="+44 20 7946 0000", is_primary=False
    )

    log(collector, customer, CallOutcome.WRONG_NUMBER, contact=contact)

    task = Task.objects.get(kind=TaskKind.FIX_CONTACT)
    assert "Pat Lee (+44 20 7946 0000)" in task.title
    assert task.assigned_to == collector


def test_a_contact_of_another_customer_is_refused(collector):
    customer = overdue_customer(days=31)
    stranger = ContactFactory(customer=overdue_customer(days=31), is_primary=False)

    with pytest.raises(DunningError, match="another customer"):
        log(collector, customer, CallOutcome.WRONG_NUMBER, contact=stranger)


def test_a_call_back_books_a_call_for_the_caller_at_the_time_asked(collector, manager):
    customer = overdue_customer(days=31)
    task = call_task(customer, collector)
    later = MONDAY_10 + dt.timedelta(hours=5)

    log(manager, customer, CallOutcome.CALL_BACK, task=task, call_back_at=later)

    booked = open_calls(customer).get()
    assert (booked.due_at, booked.assigned_to) == (later, manager)


def test_a_call_back_without_a_time_is_refused(collector):
    customer = overdue_customer(days=31)

    with pytest.raises(DunningError, match="when to call"):
        log(collector, customer, CallOutcome.CALL_BACK)


def test_a_call_back_in_the_past_is_refused(collector):
    customer = overdue_customer(days=31)

    with pytest.raises(DunningError, match="future"):
        log(
            collector,
            customer,
            CallOutcome.CALL_BACK,
            call_back_at=MONDAY_10 - dt.timedelta(minutes=1),
        )


def test_a_consumer_call_back_outside_calling_hours_is_refused(collector):
    customer = overdue_customer(days=31, debtor_type=DebtorType.CONSUMER)
    half_past_nine_at_night = dt.datetime(2026, 3, 16, 21, 30, tzinfo=LONDON)

    with pytest.raises(DunningError, match="between 08:00 and 21:00"):
        log(collector, customer, CallOutcome.CALL_BACK, call_back_at=half_past_nine_at_night)


# --- no answer --------------------------------------------------------------------------


def test_a_no_answer_books_a_retry_call_on_the_next_business_day(collector):
    customer = overdue_customer(days=31)

    logged = log(collector, customer, CallOutcome.NO_ANSWER)

    retry = open_calls(customer).get()
    assert retry.due_at == MONDAY_10 + dt.timedelta(days=1)
    assert "retry call booked for 17 Mar 2026, 10:00 (Europe/London)" in logged.follow_ups


def test_a_no_answer_on_friday_retries_on_monday_at_the_same_local_time(collector):
    customer = overdue_customer(days=31)
    friday = dt.datetime(2026, 3, 20, 14, 35, tzinfo=LONDON)

    log(collector, customer, CallOutcome.NO_ANSWER, at=friday)

    assert open_calls(customer).get().due_at == dt.datetime(2026, 3, 23, 14, 35, tzinfo=LONDON)


def test_a_no_answer_retry_passes_over_a_public_holiday(collector):
    customer = overdue_customer(days=31)
    before_good_friday = dt.datetime(2026, 4, 2, 11, 0, tzinfo=LONDON)

    log(collector, customer, CallOutcome.NO_ANSWER, at=before_good_friday)

    assert open_calls(customer).get().due_at == dt.datetime(2026, 4, 6, 11, 0, tzinfo=LONDON)


def test_a_no_answer_retry_keeps_the_time_in_the_customers_own_zone(collector):
    customer = overdue_customer(days=31, timezone="America/New_York")
    new_york = ZoneInfo("America/New_York")
    eleven_in_new_york = dt.datetime(2026, 3, 16, 11, 0, tzinfo=new_york)

    log(collector, customer, CallOutcome.NO_ANSWER, at=eleven_in_new_york)

    retry = open_calls(customer).get().due_at
    assert retry.astimezone(new_york) == dt.datetime(2026, 3, 17, 11, 0, tzinfo=new_york)


def test_a_late_no_answer_retries_when_calls_are_allowed_again(collector):
    customer = overdue_customer(days=31)
    late = dt.datetime(2026, 3, 16, 21, 15, tzinfo=LONDON)

    log(collector, customer, CallOutcome.NO_ANSWER, at=late)

    assert open_calls(customer).get().due_at == dt.datetime(2026, 3, 18, 8, 0, tzinfo=LONDON)


def test_a_consumer_called_seven_times_in_seven_days_gets_no_retry(collector):
    customer = overdue_customer(days=31, debtor_type=DebtorType.CONSUMER)
    for days_ago in range(1, 7):  # six calls, from Tue 10 Mar at noon
        at = MONDAY_10 - dt.timedelta(days=days_ago) + dt.timedelta(hours=2)
        log(collector, customer, CallOutcome.NO_ANSWER, at=at)
    Task.objects.filter(status=TaskStatus.OPEN).delete()  # the retries those calls booked

    logged = log(collector, customer, CallOutcome.NO_ANSWER)

    assert not open_calls(customer).exists()
    assert "no retry call booked" in logged.follow_ups[0]
    assert "more than 7 calls in 7 days" in logged.follow_ups[0]


def test_a_consumer_spoken_to_this_week_gets_no_retry(collector):
    customer = overdue_customer(days=31, debtor_type=DebtorType.CONSUMER)
    log(collector, customer, CallOutcome.SPOKE, at=MONDAY_10 - dt.timedelta(days=3))

    logged = log(collector, customer, CallOutcome.NO_ANSWER)

    assert not open_calls(customer).exists()
    assert "no calls for 7 days after a conversation" in logged.follow_ups[0]


def test_a_business_called_often_still_gets_its_retry(collector):
    customer = overdue_customer(days=31)
    for days_ago in range(1, 7):
        log(collector, customer, CallOutcome.NO_ANSWER, at=MONDAY_10 - dt.timedelta(days=days_ago))
    Task.objects.filter(status=TaskStatus.OPEN).delete()

    log(collector, customer, CallOutcome.NO_ANSWER)

    assert open_calls(customer).count() == 1


def test_a_do_not_contact_customer_gets_no_retry(collector):
    customer = overdue_customer(days=31, do_not_contact=True)

    logged = log(collector, customer, CallOutcome.NO_ANSWER)

    assert not open_calls(customer).exists()
    assert "do not contact" in logged.follow_ups[0]


# --- task_complete ----------------------------------------------------------------------


def test_completing_a_call_task_logs_it_with_its_follow_up(collector):
    customer = overdue_customer(days=31)
    task = call_task(customer, collector)

    task_complete(actor=collector, task=task, at=MONDAY_10, outcome=CallOutcome.NO_ANSWER)

    assert open_calls(customer).get().due_at == MONDAY_10 + dt.timedelta(days=1)


def test_completing_an_internal_task_still_just_closes_it(collector):
    customer = overdue_customer(days=31)
    task = Task.objects.create(
        kind=TaskKind.INTERNAL, customer=customer, title="Check the PO", due_at=MONDAY_10
    )

    task_complete(actor=collector, task=task, at=MONDAY_10)

    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert AuditEvent.objects.filter(action="dunning.task.completed").exists()
