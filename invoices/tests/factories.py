import datetime as dt
from decimal import Decimal

import factory

from invoices.models import Contact, ContactRole, Customer, Invoice


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    timezone = "Europe/London"
    currency = "GBP"
    country = "GB"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Person {n}")
    role = ContactRole.ACCOUNTS_PAYABLE
    email = factory.Sequence(lambda n: f"ap{n}@example.com")
    is_primary = True


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An open invoice with nothing applied. Money moves only through the services."""

    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"INV-{n:06d}")
    issue_date = dt.date(2026, 1, 1)
    due_date = factory.LazyAttribute(lambda o: o.issue_date + dt.timedelta(days=30))
    currency = factory.LazyAttribute(lambda o: o.customer.currency)
    amount = Decimal("100.00")
    open_balance = factory.LazyAttribute(lambda o: o.amount)
