"""The pure engine's satisfaction check: counted from the issue date, asked once per invoice
while it is not yet due, beside the ladder and never part of it. No database."""

import datetime as dt
from decimal import Decimal

from dunning.engine import repeat_step
from dunning.facts import StepFact

from .test_engine import CALENDAR, LADDER, NOON, TODAY, customer, days_ago, invoice, plan

CHECK = StepFact(8, "Satisfaction check", 5, "email", kind="check", id=80)
WITH_CHECK = (*LADDER, CHECK)


def in_days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def new_invoice(number="INV-1", issued=5, due_in=25, **kw):
    return invoice(number, due=in_days(due_in), issue_date=days_ago(issued), **kw)


def test_the_check_goes_its_offset_in_days_after_the_issue_date():
    result = plan(customer(new_invoice(issued=5)), steps=WITH_CHECK)

    assert result.check.step == CHECK
    assert result.check.invoice_ids == (1,)
    assert result.check_due(NOON)
    assert "INV-1" in result.check.reason


def test_the_check_waits_for_its_day_and_the_sending_window():
    result = plan(customer(new_invoice(issued=2)), steps=WITH_CHECK)

    # Issued 8 March + 5 days = Friday 13 March, at the window's opening.
    assert result.check.due_at == dt.datetime(2026, 3, 13, 9, 0, tzinfo=dt.UTC)
    assert not result.check_due(NOON)


def test_an_invoice_already_asked_about_or_answered_is_not_asked_again():
    result = plan(customer(new_invoice(check_done=True)), steps=WITH_CHECK)

    assert result.check is None


def test_no_check_for_a_disputed_promised_or_due_invoice():
    disputed = new_invoice("INV-1", disputed=True)
    promised = new_invoice("INV-2", promised_until=in_days(20))
    due_today = new_invoice("INV-3", issued=30, due_in=0)

    result = plan(customer(disputed, promised, due_today), steps=WITH_CHECK)

    assert result.check is None


def test_no_check_when_its_day_would_fall_on_or_after_the_due_date():
    # Issued today on 5-day terms: the check's day is the due date itself.
    result = plan(customer(new_invoice(issued=0, due_in=5)), steps=WITH_CHECK)

    assert result.check is None


def test_newly_issued_invoices_are_asked_about_together_in_one_message():
    first = new_invoice("INV-1", issued=7)
    second = new_invoice("INV-2", issued=5, due_in=30, balance="50.00")
    later = new_invoice("INV-3", issued=1)

    result = plan(customer(first, second, later), steps=WITH_CHECK)

    assert set(result.check.invoice_ids) == {1, 2}
    assert result.check.total == Decimal("150.00")


def test_the_check_never_moves_or_holds_the_ladder():
    overdue = invoice("INV-1", due=days_ago(8), issue_date=days_ago(38))
    fresh = new_invoice("INV-2", issued=5)
    facts = customer(overdue, fresh, done=(1, 2))

    without, with_check = plan(facts), plan(facts, steps=WITH_CHECK)

    assert with_check.action == without.action
    assert with_check.explanation == without.explanation
    assert with_check.action.step.name == "Second reminder"


def test_a_chase_message_due_now_goes_first_and_the_check_keeps_the_interval_after_it():
    overdue = invoice("INV-1", due=days_ago(8), issue_date=days_ago(38))
    fresh = new_invoice("INV-2", issued=5)

    result = plan(customer(overdue, fresh, done=(1, 2)), steps=WITH_CHECK)

    assert result.due(NOON)
    assert result.check.due_at >= result.action.due_at + CALENDAR.min_interval
    assert result.check.invoice_ids == (2,)


def test_the_check_waits_the_interval_after_the_last_automated_message():
    last = NOON - dt.timedelta(days=1)

    result = plan(customer(new_invoice(), last_automated_at=last), steps=WITH_CHECK)

    assert result.check.due_at >= last + CALENDAR.min_interval


def test_a_paused_customer_gets_no_check():
    result = plan(customer(new_invoice(), do_not_contact=True), steps=WITH_CHECK)

    assert result.check is None


def test_a_policy_without_a_check_step_plans_none():
    assert plan(customer(new_invoice())).check is None


def test_the_check_is_never_the_step_a_repeating_policy_sends_again():
    assert repeat_step(WITH_CHECK).name == "Final demand"
