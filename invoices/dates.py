"""Dates and times as every page, letter, email and export shows them: one format, in the
firm's locale (settings.LANGUAGE_CODE) and the site's time zone. A customer's local time is
passed in as an aware datetime already converted (format_moment(..., tz=zone))."""

import datetime as dt
from functools import lru_cache

from babel.dates import format_date, format_time, get_datetime_format
from django.utils import timezone

from .money import display_locale


def format_day(value, locale: str | None = None) -> str:
    """A day, e.g. "3 Dec 2026" (en-GB) or "Dec 3, 2026" (en-US); "" for none."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        return str(value)
    return _medium_date(value, locale or display_locale())


def format_moment(value, locale: str | None = None, *, tz=None) -> str:
    """A day and a time to the minute, e.g. "3 Dec 2026, 18:48"; in `tz` when given, else
    in the site's time zone."""
    if not isinstance(value, dt.datetime):
        return format_day(value, locale)
    locale = locale or display_locale()
    if timezone.is_aware(value):
        value = value.astimezone(tz) if tz is not None else timezone.localtime(value)
    return (
        _moment_pattern(locale)
        .replace("{0}", _short_time(value.hour, value.minute, locale))
        .replace("{1}", _medium_date(value.date(), locale))
    )


def format_time_of_day(value: dt.time, locale: str | None = None) -> str:
    """A time of day to the minute, e.g. "09:00" (en-GB) or "9:00 AM" (en-US)."""
    return _short_time(value.hour, value.minute, locale or display_locale())


@lru_cache(maxsize=4096)
def _medium_date(value: dt.date, locale: str) -> str:
    # Babel is slow for the hundreds of dates a report shows, and the same ones recur.
    return format_date(value, format="medium", locale=locale)


@lru_cache(maxsize=16)
def _moment_pattern(locale: str) -> str:
    # The locale's own way of joining a date and a time, minus the seconds nobody reads.
    return get_datetime_format("medium", locale=locale).replace("'", "")


@lru_cache(maxsize=4096)
def _short_time(hour: int, minute: int, locale: str) -> str:
    return format_time(dt.time(hour, minute), "short", locale=locale)
