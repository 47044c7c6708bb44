"""Dates and times in the reader's locale and the site's time zone:
{% day value %} and {% moment value %} in pages; `day` and `moment` filters elsewhere."""

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date, format_time, get_datetime_format
from django import template
from django.utils import timezone

from .money import default_locale, user_locale

register = template.Library()


def _day(value, locale: str) -> str:
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, date):
        return str(value)
    return _medium_date(value, locale)


@lru_cache(maxsize=4096)
def _medium_date(value: date, locale: str) -> str:
    # Babel is slow for the hundreds of dates a report shows, and the same ones recur.
    return format_date(value, format="medium", locale=locale)


def _moment(value, locale: str) -> str:
    if not isinstance(value, datetime):
        return _day(value, locale)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    # The locale's own way of joining a date and a time, minus the seconds nobody reads.
    pattern = get_datetime_format("medium", locale=locale).replace("'", "")
    return pattern.replace("{0}", format_time(value, "short", locale=locale)).replace(
        "{1}", format_date(value, "medium", locale=locale)
    )


@register.simple_tag(takes_context=True, name="day")
def day_tag(context, value):
    return _day(value, user_locale(context))


@register.simple_tag(takes_context=True, name="moment")
def moment_tag(context, value):
    return _moment(value, user_locale(context))


@register.filter(name="day")
def day_filter(value):
    return _day(value, default_locale())


@register.filter(name="moment")
def moment_filter(value):
    return _moment(value, default_locale())
