"""The pure engine's timing: business days, windows, time zones, DST, contact limits."""

import datetime as dt
from zoneinfo import ZoneInfo

from dunning.facts import Calendar, StepFact
from dunning.tests.test_engine import NOON, TODAY, customer, days_ago, invoice, plan

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def local(tz: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz).astimezone(UTC)


def friendly_due(due: dt.date, **kw):
    """A customer whose next step is the friendly reminder, one day after `due`."""
    return customer(invoice(due=due), done=(1,), **kw)


# Time zones around midnight


def test_a_customer_in_auckland_is_a_day_ahead_of_one_in_los_angeles_at_the_same_moment():
    as_of = dt.datetime(2026, 3, 10, 11, 30, tzinfo=UTC)  # 00:30 on the 11th in Auckland
    due = dt.date(2026, 3, 10)

    auckland = plan(friendly_due(due, timezone="Pacific/Auckland"), as_of=as_of)
    los_angeles = plan(friendly_due(due, timezone="America/Los_Angeles"), as_of=as_of)

    assert auckland.action.due_at == local(ZoneInfo("Pacific/Auckland"), 2026, 3, 11, 9)
    assert los_angeles.action.due_at == local(ZoneInfo("America/Los_Angeles"), 2026, 3, 11, 9)
    assert "INV-1 is due today and this step is 1 day after" in los_angeles.explanation
    assert "is due today" not in auckland.explanation


def test_a_step_is_due_by_the_customers_local_date_not_the_utc_date():
    as_of = dt.datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 10:00 on the 11th in Auckland

    result = plan(friendly_due(dt.date(2026, 3, 10), timezone="Pacific/Auckland"), as_of=as_of)

    assert result.due(as_of)


def test_the_explanation_gives_the_time_in_the_customers_zone():
    result = plan(friendly_due(TODAY, timezone="America/Los_Angeles"))

    assert "on 11 Mar 2026, 09:00 (America/Los_Angeles)" in result.explanation


# Business days and holidays


def test_a_step_falling_on_a_saturday_waits_for_monday():
    result = plan(friendly_due(dt.date(2026, 3, 13)))  # due Friday, step day Saturday

    assert result.action.due_at == dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    assert "14 Mar 2026 is a Saturday, not a business day" in result.explanation


def test_a_step_falling_on_a_public_holiday_waits_for_the_next_business_day():
    calendar = Calendar(holidays=frozenset({dt.date(2026, 3, 11)}))

    result = plan(friendly_due(TODAY), calendar=calendar)

    assert result.action.due_at == dt.datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    assert "11 Mar 2026 is a public holiday" in result.explanation


def test_a_step_not_limited_to_business_days_may_go_on_a_saturday():
    steps = (StepFact(1, "Reminder", 1, "email", business_days_only=False),)

    result = plan(customer(invoice(due=dt.date(2026, 3, 13))), steps=steps)

    assert result.action.due_at == dt.datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def test_business_weekdays_come_from_the_calendar():
    calendar = Calendar(business_weekdays=frozenset({6, 0, 1, 2, 3}))  # Sunday to Thursday

    result = plan(friendly_due(dt.date(2026, 3, 12)), calendar=calendar)  # step day Friday

    assert result.action.due_at == dt.datetime(2026, 3, 15, 9, 0, tzinfo=UTC)


# Sending window


def test_a_message_due_before_the_window_waits_for_it_to_open():
    as_of = local(LONDON, 2026, 3, 10, 7, 15)

    result = plan(friendly_due(days_ago(3)), as_of=as_of)

    assert result.action.due_at == local(LONDON, 2026, 3, 10, 9)
    assert "messages go out only 09:00–17:00 local time" in result.explanation


def test_a_message_due_inside_the_window_goes_now():
    result = plan(friendly_due(days_ago(3)))

    assert result.action.due_at == NOON


def test_a_message_due_at_the_close_of_the_window_waits_for_the_next_business_day():
    as_of = local(LONDON, 2026, 3, 10, 17, 0)

    result = plan(friendly_due(days_ago(3)), as_of=as_of)

    assert result.action.due_at == local(LONDON, 2026, 3, 11, 9)


def test_a_message_due_on_friday_evening_goes_on_monday_morning():
    as_of = local(LONDON, 2026, 3, 13, 18, 30)

    result = plan(friendly_due(days_ago(3)), as_of=as_of)

    assert result.action.due_at == local(LONDON, 2026, 3, 16, 9)
    assert result.explanation.endswith(
        "Not sooner because: messages go out only 09:00–17:00 local time; "
        "14 Mar 2026 is a Saturday, not a business day."
    )


def test_a_letter_keeps_to_the_sending_window():
    as_of = local(LONDON, 2026, 3, 10, 19, 0)

    result = plan(customer(invoice(due=days_ago(46)), done=(1, 2, 3, 4, 5)), as_of=as_of)

    assert result.action.step.channel == "letter"
    assert result.action.due_at == local(LONDON, 2026, 3, 11, 9)


def test_a_legal_referral_is_not_held_to_the_sending_window():
    as_of = local(LONDON, 2026, 3, 10, 22, 0)
    facts = customer(invoice(due=days_ago(60), balance="5000"), done=(1, 2, 3, 4, 5, 6))

    result = plan(facts, as_of=as_of)

    assert result.action.step.channel == "legal"
    assert result.due(as_of)


# Daylight saving time


def test_the_window_follows_british_summer_time():
    result = plan(friendly_due(dt.date(2026, 3, 29)))  # clocks go forward that morning

    assert result.action.due_at == dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_a_window_opening_inside_the_spring_forward_gap_opens_when_the_clocks_jump():
    calendar = Calendar(window_start=dt.time(2, 30))  # 02:30 never happens on 8 Mar 2026 in NY
    steps = (StepFact(1, "Reminder", 1, "email", business_days_only=False),)
    facts = customer(invoice(due=dt.date(2026, 3, 7)), timezone="America/New_York")

    result = plan(
        facts, as_of=dt.datetime(2026, 3, 8, 5, 0, tzinfo=UTC), steps=steps, calendar=calendar
    )

    assert result.action.due_at == dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT


def test_a_window_opening_inside_the_autumn_fold_opens_at_its_first_occurrence():
    calendar = Calendar(window_start=dt.time(1, 30))  # 01:30 happens twice on 1 Nov 2026 in NY
    steps = (StepFact(1, "Reminder", 1, "email", business_days_only=False),)
    facts = customer(invoice(due=dt.date(2026, 10, 31)), timezone="America/New_York")

    result = plan(
        facts, as_of=dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC), steps=steps, calendar=calendar
    )

    assert result.action.due_at == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT


# Minimum interval between automated messages


def test_a_message_waits_for_the_minimum_interval_since_the_last_one():
    last = dt.datetime(2026, 3, 9, 10, 0, tzinfo=UTC)

    result = plan(friendly_due(days_ago(5), last_automated_at=last))

    assert result.action.due_at == dt.datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    assert (
        "the last automated message went out on 9 Mar 2026, 10:00 and messages are at least "
        "3 days apart" in result.explanation
    )


def test_a_message_goes_once_the_minimum_interval_has_passed():
    last = dt.datetime(2026, 3, 7, 10, 0, tzinfo=UTC)

    result = plan(friendly_due(days_ago(5), last_automated_at=last))

    assert result.due(NOON)


def test_the_minimum_interval_does_not_hold_back_a_phone_task():
    last = dt.datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    facts = customer(invoice(due=days_ago(31)), done=(1, 2, 3, 4), last_automated_at=last)

    result = plan(facts)

    assert result.action.step.channel == "phone"
    assert result.due(NOON)


def test_a_message_goes_the_moment_the_interval_ends_inside_the_window():
    last = dt.datetime(2026, 3, 7, 16, 15, tzinfo=UTC)
    as_of = local(LONDON, 2026, 3, 10, 14, 0)

    result = plan(friendly_due(days_ago(5), last_automated_at=last), as_of=as_of)

    assert result.action.due_at == local(LONDON, 2026, 3, 10, 16, 15)


def test_an_interval_ending_after_the_window_moves_to_the_next_business_morning():
    last = dt.datetime(2026, 3, 7, 17, 30, tzinfo=UTC)
    as_of = local(LONDON, 2026, 3, 10, 14, 0)

    result = plan(friendly_due(days_ago(5), last_automated_at=last), as_of=as_of)

    assert result.action.due_at == local(LONDON, 2026, 3, 11, 9)
    assert "messages go out only 09:00–17:00 local time" in result.explanation


# Phone tasks


def phone_due(**kw):
    return customer(invoice(due=days_ago(31)), done=(1, 2, 3, 4), **kw)


def test_a_phone_task_is_not_due_before_eight_in_the_morning_local_time():
    as_of = local(NEW_YORK, 2026, 3, 10, 7, 30)

    result = plan(phone_due(timezone="America/New_York"), as_of=as_of)

    assert result.action.due_at == local(NEW_YORK, 2026, 3, 10, 8)


def test_a_phone_task_may_be_due_in_the_evening_before_nine():
    as_of = local(NEW_YORK, 2026, 3, 10, 20, 0)

    assert plan(phone_due(timezone="America/New_York"), as_of=as_of).due(as_of)


def test_a_phone_task_after_nine_in_the_evening_waits_for_the_next_morning():
    as_of = local(NEW_YORK, 2026, 3, 10, 21, 30)

    result = plan(phone_due(timezone="America/New_York"), as_of=as_of)

    assert result.action.due_at == local(NEW_YORK, 2026, 3, 11, 8)


# Consumers


def test_a_consumer_gets_emails_only_inside_contact_hours():
    calendar = Calendar(window_start=dt.time(6, 0), window_end=dt.time(23, 0))
    as_of = local(LONDON, 2026, 3, 10, 7, 0)

    result = plan(friendly_due(days_ago(3), debtor_type="consumer"), as_of=as_of, calendar=calendar)

    assert result.action.due_at == local(LONDON, 2026, 3, 10, 8)


def test_a_business_gets_emails_in_the_whole_sending_window():
    calendar = Calendar(window_start=dt.time(6, 0), window_end=dt.time(23, 0))
    as_of = local(LONDON, 2026, 3, 10, 7, 0)

    result = plan(friendly_due(days_ago(3)), as_of=as_of, calendar=calendar)

    assert result.due(as_of)


def test_a_consumer_called_seven_times_in_seven_days_waits_for_the_oldest_call_to_age_out():
    calls = tuple(dt.datetime(2026, 3, day, 10, 0, tzinfo=UTC) for day in range(4, 11))

    as_of = local(LONDON, 2026, 3, 10, 18)

    result = plan(phone_due(debtor_type="consumer", calls=calls), as_of=as_of)

    assert result.action.due_at == dt.datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
    assert "a consumer gets at most 7 in 7 days" in result.explanation


def test_a_consumer_called_six_times_in_seven_days_may_be_called_again():
    calls = tuple(dt.datetime(2026, 3, day, 10, 0, tzinfo=UTC) for day in range(5, 11))

    assert plan(phone_due(debtor_type="consumer", calls=calls)).due(NOON)


def test_the_call_cap_does_not_apply_to_a_business():
    calls = tuple(dt.datetime(2026, 3, day, 10, 0, tzinfo=UTC) for day in range(4, 11))

    assert plan(phone_due(calls=calls)).due(NOON)


def test_a_consumer_is_not_called_for_seven_days_after_a_conversation():
    spoke = dt.datetime(2026, 3, 6, 14, 0, tzinfo=UTC)

    result = plan(phone_due(debtor_type="consumer", last_conversation_at=spoke))

    assert result.action.due_at == dt.datetime(2026, 3, 13, 14, 0, tzinfo=UTC)
    assert "no calls for 7 days after a conversation" in result.explanation


def test_the_quiet_days_after_a_conversation_do_not_delay_an_email():
    spoke = dt.datetime(2026, 3, 6, 14, 0, tzinfo=UTC)

    result = plan(friendly_due(days_ago(3), debtor_type="consumer", last_conversation_at=spoke))

    assert result.due(NOON)


def test_an_unknown_time_zone_is_read_as_utc_rather_than_failing():
    result = plan(friendly_due(days_ago(3), timezone="Mars/Olympus_Mons"))

    assert result.due(NOON)
