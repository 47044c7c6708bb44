"""Business days, holidays and local time for the engine. No database."""

import datetime as dt
from zoneinfo import ZoneInfo

from dunning.calendar import holiday_dates, is_business_day, local_to_utc, next_allowed, zone
from dunning.facts import Calendar

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
NINE_TO_FIVE = (dt.time(9, 0), dt.time(17, 0))


def test_holidays_include_the_observed_day_for_one_on_a_weekend():
    days = holiday_dates("GB", None, [2026])

    assert dt.date(2026, 12, 25) in days
    assert dt.date(2026, 12, 28) in days  # Boxing Day falls on a Saturday


def test_holidays_of_a_subdivision_include_its_own_days():
    assert dt.date(2026, 1, 2) in holiday_dates("GB", "SCT", [2026])
    assert dt.date(2026, 1, 2) not in holiday_dates("GB", "ENG", [2026])


def test_holidays_cover_every_year_asked_for():
    days = holiday_dates("US", None, [2026, 2027])

    assert {dt.date(2026, 7, 3), dt.date(2027, 7, 5)} <= days  # observed Independence Days


def test_an_unknown_country_has_no_holidays():
    assert holiday_dates("XX", None, [2026]) == frozenset()


def test_an_unknown_subdivision_falls_back_to_the_countrys_holidays():
    assert holiday_dates("GB", "ZZZ", [2026]) == holiday_dates("GB", None, [2026])


def test_country_codes_are_read_case_insensitively():
    assert holiday_dates("gb", "", [2026]) == holiday_dates("GB", None, [2026])


def test_weekends_and_holidays_are_not_business_days():
    calendar = Calendar(holidays=frozenset({dt.date(2026, 4, 3)}))

    assert is_business_day(dt.date(2026, 4, 2), calendar)
    assert not is_business_day(dt.date(2026, 4, 3), calendar)
    assert not is_business_day(dt.date(2026, 4, 4), calendar)


def test_local_time_converts_to_utc_with_the_days_offset():
    assert local_to_utc(dt.date(2026, 7, 1), dt.time(9), LONDON) == dt.datetime(
        2026, 7, 1, 8, 0, tzinfo=UTC
    )


def test_a_time_inside_the_spring_forward_gap_becomes_the_moment_the_clocks_jump():
    assert local_to_utc(dt.date(2026, 3, 8), dt.time(2, 30), NEW_YORK) == dt.datetime(
        2026, 3, 8, 7, 0, tzinfo=UTC
    )


def test_a_time_inside_the_autumn_fold_is_its_first_occurrence():
    assert local_to_utc(dt.date(2026, 11, 1), dt.time(1, 30), NEW_YORK) == dt.datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )


def test_a_midnight_that_does_not_exist_becomes_one_in_the_morning():
    # Santiago springs forward at midnight: 6 Sep 2026 starts at 01:00.
    santiago = ZoneInfo("America/Santiago")

    assert local_to_utc(dt.date(2026, 9, 6), dt.time(0), santiago) == dt.datetime(
        2026, 9, 6, 4, 0, tzinfo=UTC
    )


def test_next_allowed_keeps_a_moment_inside_the_window():
    moment = dt.datetime(2026, 3, 10, 11, 0, tzinfo=UTC)

    slot = next_allowed(moment, LONDON, Calendar(), window=NINE_TO_FIVE, business_days_only=True)

    assert slot.at == moment
    assert not slot.outside_window


def test_next_allowed_moves_past_a_weekend_and_names_the_first_closed_day():
    friday_evening = dt.datetime(2026, 3, 13, 18, 0, tzinfo=UTC)

    slot = next_allowed(
        friday_evening, LONDON, Calendar(), window=NINE_TO_FIVE, business_days_only=True
    )

    assert slot.at == dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    assert slot.closed_day == dt.date(2026, 3, 14)
    assert slot.outside_window


def test_next_allowed_without_a_window_keeps_any_time_of_a_business_day():
    late = dt.datetime(2026, 3, 10, 23, 0, tzinfo=UTC)

    slot = next_allowed(late, LONDON, Calendar(), window=None, business_days_only=True)

    assert slot.at == late


def test_next_allowed_gives_up_on_a_calendar_with_no_open_day():
    calendar = Calendar(business_weekdays=frozenset())
    moment = dt.datetime(2026, 3, 10, 11, 0, tzinfo=UTC)

    slot = next_allowed(moment, LONDON, calendar, window=NINE_TO_FIVE, business_days_only=True)

    assert slot.at is None


def test_an_unknown_zone_name_is_read_as_utc():
    assert zone("Nowhere/Special") == ZoneInfo("UTC")
