"""Dates and times in pages: {% day value %} / {% moment value %}, or the `day` and `moment`
filters; both give exactly what invoices.dates gives letters, emails and exports."""

from zoneinfo import ZoneInfo

from django import template

from invoices.dates import format_day, format_moment

register = template.Library()


@register.simple_tag(name="day")
def day_tag(value):
    return format_day(value)


@register.simple_tag(name="moment")
def moment_tag(value):
    return format_moment(value)


@register.filter(name="day")
def day_filter(value):
    return format_day(value)


@register.filter(name="moment")
def moment_filter(value, zone_name=None):
    """`value|moment`, or `value|moment:customer.timezone` for the time in that zone."""
    return format_moment(value, tz=_zone(zone_name))


def _zone(name):
    # Customer zones are validated where they are entered; a blank or unknown one is the site's.
    try:
        return ZoneInfo(name) if name else None
    except (ValueError, KeyError):
        return None
