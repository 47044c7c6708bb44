"""{% load payments %}{% pay_now as pay %}: what the "Pay now" section of the customer's page
shows, from the page's own context (its open invoices) and the firm's payment settings."""

from django import template

from invoices.money import ZERO
from portal.payments.forms import PayForm, ticked
from portal.payments.services import pay_options

register = template.Library()


@register.simple_tag(takes_context=True)
def pay_now(context) -> dict:
    invoices = [invoice for invoice in context.get("invoices") or () if invoice.open_balance > 0]
    currencies = {invoice.currency for invoice in invoices}
    return {
        "options": pay_options(),
        "form": PayForm(invoices=invoices),
        "total": sum((invoice.open_balance for invoice in ticked(invoices)), ZERO),
        "currency": currencies.pop() if len(currencies) == 1 else "",
        "count": len(invoices),
    }
