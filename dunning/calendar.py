"""Business days, public holidays and customer-local time for the dunning engine. Pure Python.

Every helper here is called once or more per customer in a run, so the expensive parts (time
zone objects, local-to-UTC conversions, holiday tables) are cached.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from .facts import Calendar

UTC = dt.UTC
MIDNIGHT = dt.time(0, 0)
ONE_DAY = dt.timedelta(days=1)
SEARCH_DAYS = 400  # a calendar with no open day in over a year is a configuration error


@cache
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; an unknown name falls back to UTC rather than stalling
    a whole run (customer time zones are validated where they are entered)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def holiday_dates(
    country: str, subdivision: str | None, years: Iterable[int]
) -> frozenset[dt.date]:
    """Public holidays (observed days included) of a country, or one of its subdivisions, in
    the given years. An unknown country gives no holidays; an unknown subdivision falls back
    to the country's own holidays."""
    return _holiday_dates(
        (country or "").strip().upper(),
        (subdivision or "").strip().upper() or None,
        tuple(sorted(set(years))),
    )


@lru_cache(maxsize=64)
def _holiday_dates(
    country: str, subdivision: str | None, years: tuple[int, ...]
) -> frozenset[dt.date]:
    if not country or not years:
        return frozenset()
    try:
        table = holidays_lib.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError:
        if subdivision is None:
            return frozenset()
        return _holiday_dates(country, None, years)
    return frozenset(table.keys())


def is_business_day(day: dt.date, calendar: Calendar) -> bool:
    return day.weekday() in calendar.business_weekdays and day not in calendar.holidays


@lru_cache(maxsize=65536)
def business_days_after(start: dt.date, days: int, calendar: Calendar) -> dt.date:
    """The date `days` business days after `start` (a letter's response deadline)."""
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        if is_business_day(day, calendar):
            days -= 1
    return day


# A run asks the same few (day, time, zone) over and over: 09:00 on the coming days.
@lru_cache(maxsize=65536)
def local_to_utc(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of a wall-clock time in a zone. In an autumn fold (the time happens
    twice) the first occurrence; in a spring-forward gap (it never happens) the first instant
    after the gap, i.e. the moment the clocks jump."""
    naive = dt.datetime.combine(day, at)
    after_gap = naive.replace(tzinfo=tz).astimezone(UTC)  # fold=0: the earlier occurrence
    if after_gap.astimezone(tz).replace(tzinfo=None) == naive:
        return after_gap
    # In a gap, fold=0 reads the time with the old offset (landing after the jump) and fold=1
    # with the new one (landing before it): the jump lies between, found to the second.
    lo = int(naive.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    hi = int(after_gap.timestamp())
    new_offset = after_gap.astimezone(tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if dt.datetime.fromtimestamp(mid, tz).utcoffset() == new_offset:
            hi = mid
        else:
            lo = mid
    return dt.datetime.fromtimestamp(hi, UTC)


@dataclass(frozen=True, slots=True)
class Slot:
    """The first allowed moment, and what pushed it later than asked (for explanations)."""

    at: dt.datetime | None  # None: no allowed moment within SEARCH_DAYS
    closed_day: dt.date | None = None  # the first day passed over as not a business day
    outside_window: bool = False  # the asked-for moment fell outside the window


# Most customers of a run ask from the run's own moment, in one of a few zones.
@lru_cache(maxsize=65536)
def next_allowed(
    earliest: dt.datetime,
    tz: ZoneInfo,
    calendar: Calendar,
    *,
    window: tuple[dt.time, dt.time] | None,
    business_days_only: bool,
) -> Slot:
    """The first instant at or after `earliest` (aware) that is on a business day (when asked)
    and inside the local window [start, end) (when given), in UTC."""
    local = earliest.astimezone(tz)
    day = local.date()
    at = earliest
    closed_day = None
    outside = False
    first = True
    for _ in range(SEARCH_DAYS):
        if business_days_only and not is_business_day(day, calendar):
            closed_day = closed_day or day
        elif window is None:
            return Slot(at.astimezone(UTC), closed_day, outside)
        else:
            start = local_to_utc(day, window[0], tz)
            if at < start:
                # Landing at the window's start from the start of the day is the plain
                # schedule, not a delay worth explaining.
                outside = outside or (first and local.time() != MIDNIGHT)
                return Slot(start, closed_day, outside)
            if at < local_to_utc(day, window[1], tz):
                return Slot(at.astimezone(UTC), closed_day, outside)
            outside = outside or first
        first = False
        day += ONE_DAY
        at = local_to_utc(day, window[0] if window else MIDNIGHT, tz)
    return Slot(None, closed_day, outside)
