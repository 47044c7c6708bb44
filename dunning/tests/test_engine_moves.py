"""The pure engine: chases a person moved to a step, and a policy's repeating last step."""

import datetime as dt
from decimal import Decimal

from dunning.engine import repeat_step
from dunning.facts import Calendar, StepFact

from .test_engine import LADDER, NOON, TODAY, customer, days_ago, invoice, plan

MOVED = {
    "start_position": 5,
    "moved_by": "Ann Lee",
    "moved_on": TODAY,
    "move_reason": "they stopped answering emails",
}


def moved(*invoices, done=(), **kw):
    return customer(*invoices, done=done, **{**MOVED, **kw})


# Moving to a step


def test_a_moved_chase_makes_its_step_due_at_once_whatever_its_offset():
    result = plan(moved(invoice(due=days_ago(3))))  # the phone step waits 30 days by age

    assert result.action.step.name == "Phone call"
    assert result.due(NOON)


def test_the_explanation_says_who_moved_the_chase_when_and_why():
    result = plan(moved(invoice(due=days_ago(3))))

    assert (
        "Moved to step 5 (Phone call) by Ann Lee on 10 Mar 2026: "
        "they stopped answering emails." in result.explanation
    )
    assert "Moved to step 5 (Phone call)" in result.action.reason


def test_a_chase_moved_back_to_an_earlier_step_starts_there():
    result = plan(moved(invoice(due=days_ago(40)), start_position=2))

    assert result.action.step.name == "Friendly reminder"
    assert result.due(NOON)


def test_moving_to_step_one_restarts_from_the_top_of_the_ladder():
    result = plan(moved(invoice(due=TODAY + dt.timedelta(days=20)), start_position=1))

    assert result.action.step.name == "Courtesy reminder"
    assert result.due(NOON)


def test_after_the_moved_step_the_ladder_goes_on_at_its_own_pace():
    result = plan(moved(invoice(due=days_ago(3)), done=(5,)))

    assert result.action.step.name == "Final demand"
    assert not result.due(NOON)
    assert "Moved to" not in result.explanation


def test_a_moved_step_still_waits_for_the_sending_window():
    evening = dt.datetime(2026, 3, 10, 19, 0, tzinfo=dt.UTC)

    result = plan(moved(invoice(due=days_ago(3)), start_position=3), as_of=evening)

    assert result.action.step.name == "Second reminder"
    assert not result.due(evening)
    assert result.action.due_at == dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)
    assert "messages go out only 09:00–17:00" in result.explanation
    assert "Moved to step 3 (Second reminder)" in result.explanation


def test_a_moved_step_keeps_the_minimum_interval_between_messages():
    last = NOON - dt.timedelta(days=1)

    result = plan(moved(invoice(due=days_ago(3)), start_position=3, last_automated_at=last))

    assert not result.due(NOON)
    assert result.action.due_at >= last + Calendar().min_interval


def test_a_moved_chase_is_still_paused_by_a_hold():
    result = plan(moved(invoice(due=days_ago(3)), on_hold=True, hold_reason="talking"))

    assert result.action is None
    assert result.explanation.startswith("Paused: manual hold")


def test_a_referral_moved_to_still_waits_for_the_final_demands_deadline():
    deadline = TODAY + dt.timedelta(days=4)

    result = plan(moved(invoice(due=days_ago(70)), start_position=7, demand_deadline=deadline))

    assert result.action.step.name == "Legal referral"
    assert result.action.due_at.date() == deadline + dt.timedelta(days=1)


def test_a_consumer_moved_to_a_call_still_gets_no_call_within_a_week_of_a_conversation():
    spoke = NOON - dt.timedelta(days=2)

    result = plan(
        moved(invoice(due=days_ago(3)), debtor_type="consumer", last_conversation_at=spoke)
    )

    assert not result.due(NOON)
    assert result.action.due_at >= spoke + dt.timedelta(days=7)


# Repeating the last step

REPEATING = (*LADDER[:6],)  # ends with the final demand (a letter)


def finished(last_at, repeats=0, every=14, **kw):
    return customer(
        invoice(due=days_ago(80)),
        done=(1, 2, 3, 4, 5, 6),
        repeat_every_days=every,
        repeat_last_at=last_at,
        repeats_done=repeats,
        **kw,
    )


def test_without_a_repeat_a_finished_ladder_waits_for_a_collector():
    result = plan(customer(invoice(due=days_ago(80)), done=(1, 2, 3, 4, 5, 6)), steps=REPEATING)

    assert result.action is None
    assert result.explanation.startswith("Ladder complete")


def test_the_last_step_repeats_after_the_policys_days():
    result = plan(finished(NOON - dt.timedelta(days=14)), steps=REPEATING)

    assert result.action.step.name == "Final demand"
    assert result.action.repeat == 1
    assert result.due(NOON)
    assert "Repeats every 14 days until paid: this one now" in result.explanation


def test_the_repeat_waits_until_its_days_have_passed():
    result = plan(finished(NOON - dt.timedelta(days=12)), steps=REPEATING)

    assert not result.due(NOON)
    assert result.action.due_at.date() == TODAY + dt.timedelta(days=2)
    assert "Repeats every 14 days until paid: next on 12 Mar 2026." in result.explanation


def test_each_repeat_is_numbered_after_the_ones_before_it():
    result = plan(finished(NOON - dt.timedelta(days=14), repeats=2), steps=REPEATING)

    assert result.action.repeat == 3
    assert result.action.reason.startswith("Repeat 3:")


def test_repeats_stop_once_paid():
    facts = finished(NOON - dt.timedelta(days=30))._replace(invoices=())

    result = plan(facts, steps=REPEATING)

    assert result.action is None
    assert result.close_chase


def test_a_ladder_ending_in_a_referral_repeats_its_last_letter_not_the_referral():
    facts = finished(NOON - dt.timedelta(days=14))._replace(steps_done=frozenset(range(1, 8)))

    result = plan(facts)

    assert repeat_step(LADDER).name == "Final demand"
    assert result.action.step.name == "Final demand"


def test_a_ladder_without_a_message_step_never_repeats():
    calls = (StepFact(1, "Call", 1, "phone"), StepFact(2, "Agency", 30, "task"))
    facts = finished(NOON - dt.timedelta(days=30))._replace(steps_done=frozenset({1, 2}))

    result = plan(facts, steps=calls)

    assert result.action is None


def test_a_repeat_below_the_steps_minimum_balance_is_skipped_not_sent():
    ladder = (*LADDER[:5], StepFact(6, "Final demand", 45, "letter", min_balance=Decimal("500")))

    result = plan(finished(NOON - dt.timedelta(days=14)), steps=ladder)

    assert result.action.skip
    assert result.action.repeat == 1
