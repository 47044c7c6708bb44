"""The pure engine: which step, for which invoices, and the holds. No database."""

import datetime as dt
from decimal import Decimal

import pytest

from dunning.engine import LADDER_RULE, plan_customer, step_heading
from dunning.facts import Calendar, CustomerFacts, InvoiceFact, StepFact
from invoices.dates import format_day, format_moment
from invoices.money import format_money

UTC = dt.UTC
LONDON = "Europe/London"

# The default ladder of PRODUCT.md; the legal referral is "deadline + 1" with a 14-day deadline.
LADDER = (
    StepFact(1, "Courtesy reminder", -3, "email"),
    StepFact(2, "Friendly reminder", 1, "email"),
    StepFact(3, "Second reminder", 7, "email"),
    StepFact(4, "Firm reminder", 15, "email"),
    StepFact(5, "Phone call", 30, "phone"),
    StepFact(6, "Final demand", 45, "letter"),
    StepFact(7, "Legal referral", 59, "legal", min_balance=Decimal("1000")),
)
CALENDAR = Calendar()
# Tuesday 10 March 2026, 12:00 in London (GMT, so the same in UTC).
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = dt.date(2026, 3, 10)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def invoice(number: str = "INV-1", due: dt.date | None = None, balance: str = "100.00", **kw):
    digits = "".join(ch for ch in number if ch.isdigit()) or "1"
    kw.setdefault("id", int(digits))
    return InvoiceFact(number=number, due_date=due or days_ago(20), balance=Decimal(balance), **kw)


def customer(*invoices: InvoiceFact, done: tuple[int, ...] = (), **kw) -> CustomerFacts:
    kw.setdefault("timezone", LONDON)
    return CustomerFacts(
        customer_id=1,
        invoices=invoices,
        steps_done=frozenset(done),
        chase_cycle=1 if done else None,
        **kw,
    )


def plan(facts: CustomerFacts, as_of: dt.datetime = NOON, steps=LADDER, calendar=CALENDAR):
    return plan_customer(facts, steps, calendar, as_of)


def step_of(result) -> str:
    return result.action.step.name


# Offsets and the ladder


def test_a_customer_without_open_invoices_has_nothing_to_chase_and_closes_the_chase():
    result = plan(customer(done=(1, 2)))

    assert result.action is None
    assert result.close_chase
    assert result.explanation == "Nothing to chase: no open invoices."


def test_the_courtesy_reminder_goes_three_days_before_the_due_date():
    result = plan(customer(invoice(due=TODAY + dt.timedelta(days=3))))

    assert step_of(result) == "Courtesy reminder"
    assert result.due(NOON)


def test_the_courtesy_reminder_waits_until_three_days_before_the_due_date():
    result = plan(customer(invoice(due=dt.date(2026, 3, 20))))

    assert step_of(result) == "Courtesy reminder"
    assert result.action.due_at == dt.datetime(2026, 3, 17, 9, 0, tzinfo=UTC)
    assert not result.due(NOON)


def test_the_courtesy_reminder_still_goes_on_the_due_date_itself():
    result = plan(customer(invoice(due=TODAY)))

    assert step_of(result) == "Courtesy reminder"
    assert result.due(NOON)


def test_pre_due_steps_are_passed_over_once_the_invoice_is_overdue():
    result = plan(customer(invoice(due=days_ago(1))))

    assert step_of(result) == "Friendly reminder"
    assert result.due(NOON)


def test_the_next_step_waits_for_its_offset_from_the_due_date():
    result = plan(customer(invoice(due=days_ago(5)), done=(1, 2)))

    assert step_of(result) == "Second reminder"
    assert result.action.due_at == dt.datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


def test_steps_advance_one_at_a_time_even_when_the_invoice_is_long_overdue():
    result = plan(customer(invoice(due=days_ago(40)), done=(1, 2)))

    assert step_of(result) == "Second reminder"
    assert result.due(NOON)


def test_a_payment_that_moves_the_oldest_date_does_not_skip_the_next_step():
    # The second reminder went out while INV-1 (now paid) was the oldest; INV-2 is younger.
    result = plan(customer(invoice("INV-2", due=days_ago(8)), done=(1, 2, 3)))

    assert step_of(result) == "Firm reminder"
    assert result.action.due_at == dt.datetime(2026, 3, 17, 9, 0, tzinfo=UTC)


def test_a_payment_that_moves_the_oldest_date_does_not_repeat_a_step_already_taken():
    result = plan(customer(invoice("INV-2", due=days_ago(4)), done=(1, 2, 3)))

    assert result.action.step.position == 4


def test_when_every_step_is_done_nothing_more_is_planned():
    result = plan(customer(invoice(due=days_ago(90)), done=(1, 2, 3, 4, 5, 6, 7)))

    assert result.action is None
    assert result.explanation.startswith("Ladder complete")


def test_the_chase_closes_when_nothing_is_overdue_any_more_after_escalating():
    not_yet_due = invoice("INV-5", due=TODAY + dt.timedelta(days=20))

    result = plan(customer(not_yet_due, done=(1, 2, 3)))

    assert result.close_chase
    assert result.action is None


def test_a_chase_begun_with_the_courtesy_reminder_stays_open_before_the_due_date():
    result = plan(customer(invoice(due=TODAY + dt.timedelta(days=2)), done=(1,)))

    assert not result.close_chase
    assert step_of(result) == "Friendly reminder"


def test_an_open_dispute_keeps_an_overdue_invoice_in_the_chase():
    result = plan(customer(invoice(due=days_ago(30), disputed=True), done=(1, 2, 3)))

    assert not result.close_chase


def test_steps_are_taken_in_position_order_whatever_order_they_arrive_in():
    result = plan(customer(invoice(due=days_ago(8)), done=(1, 2)), steps=LADDER[::-1])

    assert step_of(result) == "Second reminder"


# Consolidation


def test_one_message_covers_every_overdue_invoice_oldest_first_with_their_total():
    facts = customer(
        invoice("INV-3", due=days_ago(2), balance="30.00"),
        invoice("INV-1", due=days_ago(20), balance="100.00"),
        invoice("INV-2", due=days_ago(9), balance="25.50"),
        done=(1,),
    )

    action = plan(facts).action

    assert action.invoice_ids == (1, 2, 3)
    assert action.total == Decimal("155.50")


def test_the_step_is_driven_by_the_oldest_invoice():
    facts = customer(invoice("INV-2", due=days_ago(2)), invoice("INV-1", due=days_ago(16)))

    result = plan(facts, as_of=NOON)

    assert "the oldest open invoice INV-1 is 16 days overdue" in result.action.reason


def test_invoices_not_yet_overdue_are_left_out_of_a_reminder_after_due():
    facts = customer(invoice("INV-1", due=days_ago(10)), invoice("INV-2", due=TODAY), done=(1,))

    assert plan(facts).action.invoice_ids == (1,)


def test_a_courtesy_reminder_covers_the_invoices_coming_due_within_three_days():
    facts = customer(
        invoice("INV-1", due=TODAY + dt.timedelta(days=1)),
        invoice("INV-2", due=TODAY + dt.timedelta(days=3)),
        invoice("INV-3", due=TODAY + dt.timedelta(days=4)),
    )

    assert plan(facts).action.invoice_ids == (1, 2)


def test_the_plan_lists_every_eligible_invoice_oldest_first():
    facts = customer(
        invoice("INV-2", due=TODAY + dt.timedelta(days=30)),
        invoice("INV-1", due=days_ago(10)),
        invoice("INV-3", due=days_ago(5), disputed=True),
    )

    assert plan(facts).eligible_invoice_ids == (1, 2)


# Holds


def test_a_manual_hold_pauses_the_chase_until_its_date():
    facts = customer(invoice(), on_hold=True, hold_until=TODAY, hold_reason="Director on leave")

    result = plan(facts)

    assert result.action is None
    assert result.paused_by == ("manual hold until 10 Mar 2026: Director on leave",)
    assert result.explanation.endswith("Chasing resumes on 11 Mar 2026.")


def test_a_manual_hold_that_has_ended_no_longer_pauses():
    facts = customer(invoice(), on_hold=True, hold_until=days_ago(1))

    assert step_of(plan(facts)) == "Friendly reminder"


def test_an_open_ended_manual_hold_pauses_the_chase():
    facts = customer(invoice(), on_hold=True, hold_reason="Query with sales")

    result = plan(facts)

    assert result.action is None
    assert result.explanation == "Paused: manual hold, open-ended: Query with sales."


def test_do_not_contact_stops_the_chase():
    result = plan(customer(invoice(), do_not_contact=True))

    assert result.action is None
    assert result.paused_by == ("do not contact",)


def test_a_customer_referred_to_legal_gets_no_automated_contact():
    result = plan(customer(invoice(), in_legal_since=dt.date(2026, 3, 2)))

    assert result.action is None
    assert result.paused_by == ("referred to legal on 2 Mar 2026",)


def test_an_insolvent_customer_is_not_chased():
    result = plan(customer(invoice(), insolvent=True))

    assert result.action is None
    assert result.paused_by == ("insolvent",)


def test_an_open_promise_for_the_whole_account_pauses_until_its_date_plus_grace():
    facts = customer(invoice(), account_promise_until=dt.date(2026, 3, 20))

    result = plan(facts)

    assert result.action is None
    assert result.explanation == (
        "Paused: open promise to pay on the whole account until 20 Mar 2026. "
        "Chasing resumes on 21 Mar 2026."
    )


def test_a_promise_whose_date_plus_grace_has_passed_no_longer_pauses():
    facts = customer(invoice(), done=(1, 2), account_promise_until=days_ago(1))

    assert step_of(plan(facts)) == "Second reminder"


def test_a_broken_promise_resumes_the_chase_where_it_was():
    facts = customer(invoice(due=days_ago(20)), done=(1, 2, 3), broken_promise=True)

    result = plan(facts)

    assert step_of(result) == "Firm reminder"
    assert result.due(NOON)
    assert "A promise to pay was broken, so escalation continues." in result.action.reason


def test_a_promise_naming_one_invoice_leaves_the_others_in_the_chase():
    facts = customer(
        invoice("INV-1", due=days_ago(20), promised_until=TODAY),
        invoice("INV-2", due=days_ago(3)),
        done=(1,),
    )

    action = plan(facts).action

    assert action.invoice_ids == (2,)
    assert "Left out: promise to pay on INV-1 until 10 Mar 2026." in action.reason


def test_a_customer_whose_every_invoice_is_promised_is_paused():
    facts = customer(invoice("INV-1", promised_until=TODAY + dt.timedelta(days=2)))

    result = plan(facts)

    assert result.action is None
    assert result.explanation == (
        "Paused: every open invoice is on hold (promise to pay on INV-1 until 12 Mar 2026)."
    )


def test_an_active_payment_plan_pauses_the_chase():
    result = plan(customer(invoice(), plan_active=True))

    assert result.action is None
    assert result.paused_by == ("active payment plan, instalments met",)


def test_every_pause_in_force_is_named():
    result = plan(customer(invoice(), do_not_contact=True, plan_active=True))

    assert result.explanation == "Paused: do not contact; active payment plan, instalments met."


def test_a_dispute_on_one_invoice_leaves_the_others_in_the_chase():
    facts = customer(
        invoice("INV-1", due=days_ago(30), disputed=True),
        invoice("INV-2", due=days_ago(12)),
        invoice("INV-3", due=days_ago(2)),
        done=(1,),
    )

    action = plan(facts).action

    assert action.invoice_ids == (2, 3)
    assert "Left out: open dispute on INV-1." in action.reason


def test_a_dispute_on_one_invoice_does_not_mark_the_customer_as_paused():
    facts = customer(invoice("INV-1", disputed=True), invoice("INV-2", due=days_ago(3)))

    assert plan(facts).paused_by == ()


def test_the_step_is_driven_by_the_oldest_undisputed_invoice():
    facts = customer(
        invoice("INV-1", due=days_ago(30), disputed=True),
        invoice("INV-2", due=days_ago(5)),
        done=(1, 2),
    )

    result = plan(facts)

    assert step_of(result) == "Second reminder"
    assert result.action.due_at == dt.datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


def test_a_customer_whose_every_invoice_is_disputed_is_paused():
    result = plan(customer(invoice("INV-1", disputed=True)))

    assert result.action is None
    assert result.paused_by == ("open dispute on INV-1",)


# Legal referral


def legal_due(**kw):
    return customer(invoice(due=days_ago(70), balance="5000"), done=(1, 2, 3, 4, 5, 6), **kw)


def test_a_legal_referral_waits_until_the_final_demands_deadline_has_passed():
    result = plan(legal_due(demand_deadline=dt.date(2026, 3, 20)))

    assert result.action.step.name == "Legal referral"
    assert result.action.due_at == dt.datetime(2026, 3, 23, 0, 0, tzinfo=UTC)
    assert "the final demand gives them until 20 Mar 2026" in result.explanation


def test_a_legal_referral_is_due_the_day_after_the_final_demands_deadline():
    assert plan(legal_due(demand_deadline=days_ago(1))).due(NOON)


# Minimum balance


def test_a_step_below_its_minimum_balance_is_planned_as_a_skip():
    facts = customer(invoice(due=days_ago(60), balance="400.00"), done=(1, 2, 3, 4, 5, 6))

    action = plan(facts).action

    assert action.step.name == "Legal referral"
    assert action.skip
    assert "Consider an agency, a write-off or selling the debt instead." in action.reason


def test_a_step_at_or_above_its_minimum_balance_is_not_skipped():
    facts = customer(invoice(due=days_ago(60), balance="1000.00"), done=(1, 2, 3, 4, 5, 6))

    assert not plan(facts).action.skip


# Nobody may be called


def test_a_phone_step_is_skipped_when_every_number_asked_not_to_be_called():
    facts = customer(invoice(due=days_ago(31)), done=(1, 2, 3, 4), no_calls=True)

    action = plan(facts).action

    assert step_of(plan(facts)) == "Phone call"
    assert action.skip
    assert "every phone number on file has asked not to be called" in action.reason


def test_an_email_step_still_goes_when_calls_are_refused():
    facts = customer(invoice(due=days_ago(16)), done=(1, 2, 3), no_calls=True)

    assert step_of(plan(facts)) == "Firm reminder"
    assert not plan(facts).action.skip


# Explanations


def test_it_explains_why_the_next_step_is_not_sooner():
    facts = customer(
        invoice("INV-7", due=days_ago(12)), invoice("INV-9", due=days_ago(2)), done=(1, 2, 3)
    )

    assert plan(facts).explanation == (
        "Next: Firm reminder by email on 13 Mar 2026, 09:00 (Europe/London). Not sooner because: "
        "the oldest invoice INV-7 is 12 days overdue and this step waits until it is 15 days "
        "overdue."
    )


def test_it_explains_a_step_due_now_with_its_invoices_and_total():
    facts = customer(
        invoice("INV-7", due=days_ago(16), balance="1200.00"),
        invoice("INV-9", due=days_ago(2), balance="34.50"),
        done=(1, 2, 3),
    )

    assert plan(facts).explanation == (
        "Due now: Firm reminder by email. Step 4 (15 days after the due date): the oldest open "
        "invoice INV-7 is 16 days overdue. Covers 2 invoices, oldest first: INV-7, INV-9; "
        "total £1,234.50."
    )


def test_it_explains_a_courtesy_reminder_waiting_for_the_due_date_to_come_near():
    result = plan(customer(invoice("INV-4", due=dt.date(2026, 3, 20))))

    assert result.explanation == (
        "Next: Courtesy reminder by email on 17 Mar 2026, 09:00 (Europe/London). Not sooner "
        "because: the oldest invoice INV-4 is due in 10 days and this step is 3 days before "
        "the due date."
    )


def test_a_reason_lists_at_most_five_invoice_numbers():
    facts = customer(*(invoice(f"INV-{n}", due=days_ago(30 - n)) for n in range(1, 8)))

    assert "INV-1, INV-2, INV-3, INV-4, INV-5, and 2 more" in plan(facts).action.reason


# Wording


def test_a_step_whose_name_says_its_channel_does_not_say_it_twice():
    assert step_heading("Legal referral", "legal") == "Legal referral"
    assert step_heading("Phone call", "phone") == "Phone call"
    assert step_heading("Friendly reminder", "email") == "Friendly reminder by email"
    assert step_heading("Final demand", "letter") == "Final demand by letter"


def test_a_legal_referral_due_now_is_named_once():
    result = plan(legal_due(demand_deadline=days_ago(1)))

    assert result.explanation.startswith("Due now: Legal referral. Step 7")


def test_no_reason_repeats_the_rule_that_steps_go_one_at_a_time():
    reasons = [
        plan(customer(invoice(due=days_ago(days)), done=tuple(range(1, done + 1)))).action.reason
        for days, done in ((437, 0), (40, 2), (16, 3), (90, 5))
    ]

    assert not [reason for reason in reasons if "one at a time" in reason]
    assert "one at a time" in LADDER_RULE


def test_a_new_chase_on_a_very_old_debt_says_why_it_starts_with_a_friendly_reminder():
    result = plan(customer(invoice("INV-1", due=days_ago(437))))

    assert step_of(result) == "Friendly reminder"
    assert (
        "Friendly reminder comes first because a new chase starts at the top of the ladder, "
        "however old the debt (by age alone it would be Legal referral)."
    ) in result.action.reason


def test_a_chase_behind_the_debts_age_names_the_last_step_taken():
    result = plan(customer(invoice(due=days_ago(40)), done=(1, 2)))

    assert (
        "Second reminder is next because Friendly reminder was the last step taken in this "
        "chase (by age alone it would be Phone call)."
    ) in result.action.reason


def test_a_step_that_matches_the_debts_age_needs_no_word_on_why():
    reason = plan(customer(invoice(due=days_ago(16)), done=(1, 2, 3))).action.reason

    assert "by age alone" not in reason


def test_a_complete_ladder_suggests_what_to_do_after_a_referral():
    result = plan(customer(invoice(due=days_ago(90)), done=(1, 2, 3, 4, 5, 6, 7)))

    assert result.explanation == (
        "Ladder complete: every step has been taken in this chase and the oldest invoice INV-1 "
        "is 90 days overdue. A collector decides what happens next: if the legal referral is "
        "not going ahead, consider a collection agency, a write-off or selling the debt."
    )


def test_a_complete_ladder_without_a_legal_step_suggests_a_referral():
    emails_only = LADDER[:4]

    result = plan(customer(invoice(due=days_ago(90)), done=(1, 2, 3, 4)), steps=emails_only)

    assert result.explanation.endswith(
        "A collector decides what happens next: consider a legal referral, a collection agency "
        "or a write-off."
    )


def test_a_pause_names_its_date_once():
    result = plan(customer(invoice(), account_promise_until=dt.date(2026, 3, 20)))

    assert result.paused_by == ("open promise to pay on the whole account until 20 Mar 2026",)
    assert result.explanation.count("20 Mar 2026") == 1


def test_dates_and_times_are_written_by_the_shared_formatters(settings):
    settings.LANGUAGE_CODE = "en-us"
    facts = customer(invoice(due=days_ago(5)), done=(1, 2), on_hold=True, hold_until=TODAY)

    held = plan(facts)
    waiting = plan(facts._replace(on_hold=False))

    assert held.paused_by == (f"manual hold until {format_day(TODAY, 'en_US')}",)
    assert format_day(TODAY, "en_US") == "Mar 10, 2026"
    moment = format_moment(dt.datetime(2026, 3, 12, 9, 0, tzinfo=UTC), "en_US")
    assert f"on {moment} (Europe/London)" in waiting.explanation


@pytest.mark.parametrize("language", ["en-gb", "en-us", "de-de", "fr-fr", "en-in", "ja"])
def test_amounts_read_exactly_as_the_shared_money_formatter_writes_them(settings, language):
    settings.LANGUAGE_CODE = language
    for currency in ("GBP", "EUR", "JPY", "BHD"):
        for text in ("0.01", "9.99", "1234.5", "1000000", "87654321.09"):
            facts = customer(invoice(due=days_ago(3), balance=text), currency=currency)

            total = format_money(Decimal(text), currency)
            assert f"total {total}." in plan(facts).action.reason


def test_a_weekend_is_named_as_one():
    saturday_evening = dt.datetime(2026, 3, 14, 18, 0, tzinfo=UTC)

    result = plan(customer(invoice(due=days_ago(5))), as_of=saturday_evening)

    assert "14 Mar 2026 is a Saturday, not a business day" in result.explanation
