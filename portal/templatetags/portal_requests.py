"""The count of customers' requests waiting, for the link to them beside the queue."""

from django import template

from portal.selectors import requests_waiting_count

register = template.Library()


@register.simple_tag(takes_context=True)
def requests_waiting(context) -> int:
    return requests_waiting_count(context["request"].user)
