"""The contacts on the customer page say which one is the main contact for each role, so
two main contacts never read as two 'Primary' ones."""

import pytest
from django.urls import reverse

from invoices.models import ContactRole
from invoices.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_each_main_contact_is_named_for_its_role(collector_client):
    customer = CustomerFactory()
    ContactFactory(customer=customer, name="Ann Payable", role=ContactRole.ACCOUNTS_PAYABLE)
    ContactFactory(customer=customer, name="Ed Escalation", role=ContactRole.ESCALATION)
    ContactFactory(customer=customer, name="Other Payable", is_primary=False)

    text = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    assert "Main billing contact" in text
    assert "Main escalation contact" in text
    assert text.count("Main ") == 2
    assert ">Primary<" not in text
