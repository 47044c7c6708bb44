"""The customer page's payments card loads its own rows, so the page's view need not."""

from django import template

from cash.selectors import recent_payments

register = template.Library()


@register.simple_tag(name="recent_payments")
def recent_payments_tag(customer):
    return recent_payments(customer.pk)
