"""Money in pages: {% money amount currency %} or the `money` filter
({{ amount|money:currency }}); both give exactly what invoices.money.format_money gives
letters, emails and exports."""

from django import template

from invoices.money import format_money

register = template.Library()


@register.simple_tag(name="money")
def money_tag(amount, currency):
    return format_money(amount, currency)


@register.filter(name="money")
def money_filter(amount, currency):
    return format_money(amount, currency)
