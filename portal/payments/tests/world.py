"""Test data for the payment tests, shared with the browser journey."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.services import portal_link_make


def weekday_morning_before_today() -> dt.datetime:
    """Yesterday or before, a weekday at 11:00 UTC: inside the sending window, so a dunning
    run as of then plans a message."""
    day = timezone.now().date() - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(11), tzinfo=dt.UTC)


class Account:
    """A customer with two overdue invoices, a contact and a link to their page."""

    def __init__(self, currency="GBP", amounts=(Decimal("100.00"), Decimal("150.50"))):
        self.customer = CustomerFactory(currency=currency)
        self.contact = ContactFactory(customer=self.customer, name="Ada Payables")
        today = timezone.localdate()
        self.invoices = [
            InvoiceFactory(
                customer=self.customer,
                number=f"{self.customer.external_id}-{n}",
                amount=amount,
                issue_date=today - dt.timedelta(days=60 - n),
                due_date=today - dt.timedelta(days=30 - n),
            )
            for n, amount in enumerate(amounts, start=1)
        ]
        self.link, url = portal_link_make(
            customer=self.customer, contact=self.contact, now=timezone.now()
        )
        self.token = url.rstrip("/").rsplit("/", 1)[1]

    def url(self, name="portal:page", *args) -> str:
        return reverse(name, args=[self.token, *args])
