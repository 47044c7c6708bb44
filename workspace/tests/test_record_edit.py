"""Customers and contacts kept in the browser: the edit and new-customer page, and the
contacts' forms on the customer page. Every change is audited with before and after and the
queue row follows; bad values are refused with a message and change nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR
from audit.models import AuditEvent
from dunning.models import QueueEntry
from dunning.queue import queue_refresh
from invoices.models import Contact, ContactRole, Customer
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def _form(customer, **changes):
    """What the edit page posts for this customer, with some values changed."""
    data = {
        "name": customer.name,
        "external_id": customer.external_id,
        "debtor_type": customer.debtor_type,
        "country": customer.country,
        "region": customer.region,
        "timezone": customer.timezone,
        "currency": customer.currency,
        "collector": customer.collector_id or "",
        "credit_limit": customer.credit_limit or "",
        "terms_version": customer.terms_version,
        "terms_accepted_on": customer.terms_accepted_on or "",
        "late_interest_rate": customer.late_interest_rate or "",
        "late_fee": customer.late_fee or "",
    }
    for flag in ("do_not_contact", "insolvent", "credit_hold"):
        if getattr(customer, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _edit(client, customer, **changes):
    return client.post(reverse("customer_edit", args=[customer.pk]), _form(customer, **changes))


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def _overdue(customer):
    due = timezone.localdate() - dt.timedelta(days=40)
    return InvoiceFactory(customer=customer, issue_date=due - dt.timedelta(days=30), due_date=due)


# --- editing a customer ------------------------------------------------------------------------


def test_the_customer_page_links_to_the_edit_page(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    text = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    assert reverse("customer_edit", args=[customer.pk]) in text
    assert "Edit customer" in text


def test_an_edit_saves_and_audits_before_and_after(collector_client, collector):
    customer = CustomerFactory(collector=collector, name="Old Name Ltd")

    response = _edit(
        collector_client,
        customer,
        name="New Name Ltd",
        credit_limit="5000.00",
        late_interest_rate="8.00",
        terms_accepted_on="2026-01-05",
        credit_hold="on",
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.credit_limit, customer.credit_hold) == (
        "New Name Ltd",
        Decimal("5000.00"),
        True,
    )
    [event] = _events("ledger.customer.updated")
    assert event.actor_id == collector.pk
    assert event.data["changes"]["name"] == ["Old Name Ltd", "New Name Ltd"]
    assert event.data["changes"]["credit_limit"] == [None, "5000.00"]
    assert event.data["changes"]["credit_hold"] == [False, True]


def test_a_save_without_changes_says_nothing_changed(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    response = _edit(collector_client, customer)

    assert "Nothing changed" in collector_client.get(response["Location"]).text
    assert _events("ledger.customer.updated") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"external_id": "TAKEN-1"}, "Taken Ltd already has the external id TAKEN-1"),
        ({"timezone": "Mars/Base"}, "Select a valid choice"),
        ({"terms_accepted_on": "2999-01-01"}, "cannot have been accepted in the future"),
        ({"late_interest_rate": "100.01"}, "less than or equal to 100"),
        ({"late_interest_rate": "-1"}, "greater than or equal to 0"),
        ({"late_fee": "-5.00"}, "greater than or equal to 0"),
        ({"credit_limit": "-1.00"}, "greater than or equal to 0"),
        ({"country": "GBR"}, "at most 2 characters"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_a_bad_value_is_refused_with_its_message_and_nothing_changes(
    collector_client, collector, changes, message
):
    CustomerFactory(external_id="TAKEN-1", name="Taken Ltd")
    customer = CustomerFactory(collector=collector, name="Kept Ltd")
    before = Customer.objects.values().get(pk=customer.pk)

    response = _edit(collector_client, customer, credit_hold="on", **changes)

    assert response.status_code == 200
    assert message in response.text
    assert Customer.objects.values().get(pk=customer.pk) == before
    assert _events("ledger.customer.updated") == []


def test_the_currency_can_change_while_there_are_no_invoices(collector_client, collector):
    customer = CustomerFactory(collector=collector, currency="GBP")

    _edit(collector_client, customer, currency="EUR")

    customer.refresh_from_db()
    assert customer.currency == "EUR"


def test_the_currency_is_locked_once_the_customer_has_invoices(collector_client, collector):
    customer = CustomerFactory(collector=collector, currency="GBP")
    InvoiceFactory(customer=customer)

    page = collector_client.get(reverse("customer_edit", args=[customer.pk])).text
    response = _edit(collector_client, customer, currency="EUR", name="Renamed Ltd")

    assert 'data-testid="currency-locked"' in page
    assert "The currency stays GBP: this customer has invoices in it." in response.text
    customer.refresh_from_db()
    assert (customer.currency, customer.name) != ("EUR", "Renamed Ltd")
    assert customer.currency == "GBP"


def test_a_collector_cannot_edit_a_colleagues_customer(collector_client, manager):
    customer = CustomerFactory(collector=manager, name="Theirs Ltd")

    page = collector_client.get(reverse("customer_edit", args=[customer.pk]))
    post = _edit(collector_client, customer, name="Mine Now Ltd")

    assert (page.status_code, post.status_code) == (403, 403)
    customer.refresh_from_db()
    assert customer.name == "Theirs Ltd"


def test_an_admin_edits_anyones_customer(admin_client_, collector):
    customer = CustomerFactory(collector=collector, name="Theirs Ltd")

    _edit(admin_client_, customer, name="Fixed Ltd")

    customer.refresh_from_db()
    assert customer.name == "Fixed Ltd"


def test_only_an_admin_changes_the_collector(client, collector, admin_user, django_user_model):
    other = django_user_model.objects.create_user(username="olga")
    other.groups.add(Group.objects.get(name=COLLECTOR))
    customer = CustomerFactory(collector=collector)
    client.force_login(collector)

    refused = _edit(client, customer, collector=other.pk)
    customer.refresh_from_db()
    kept = customer.collector_id
    client.force_login(admin_user)
    _edit(client, customer, collector=other.pk)
    customer.refresh_from_db()

    assert "Only an admin can change the collector." in refused.text
    assert kept == collector.pk
    assert customer.collector_id == other.pk
    [event] = _events("ledger.customer.updated")
    assert event.data["changes"]["collector"] == [collector.pk, other.pk]


def test_the_collector_list_offers_collectors_only(admin_client_, collector, manager):
    customer = CustomerFactory(collector=collector)

    form = admin_client_.get(reverse("customer_edit", args=[customer.pk])).context["form"]

    offered = {value for value, _label in form.fields["collector"].choices}
    assert str(collector.pk) in offered
    assert str(manager.pk) not in offered


def test_the_queue_row_follows_an_edit(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    _overdue(customer)
    queue_refresh(customer_ids=[customer.pk])
    assert not QueueEntry.objects.get(customer=customer).no_contact

    _edit(collector_client, customer, do_not_contact="on")

    assert QueueEntry.objects.get(customer=customer).no_contact


def test_the_edit_page_costs_the_same_queries_for_5_or_500_invoices_and_contacts(
    collector_client, collector
):
    customer = CustomerFactory(collector=collector)
    collector_client.get(reverse("customer_edit", args=[customer.pk]))  # caches warmed
    counts = []
    for total in (5, 500):
        more = total - customer.contacts.count()
        Contact.objects.bulk_create(
            Contact(customer=customer, name=f"C{i}", email=f"c{i}@example.com") for i in range(more)
        )
        InvoiceFactory.create_batch(more, customer=customer)
        with CaptureQueriesContext(connection) as queries:
            response = collector_client.get(reverse("customer_edit", args=[customer.pk]))
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


# --- a new customer ----------------------------------------------------------------------------


def test_the_customer_list_offers_a_new_customer(collector_client):
    text = collector_client.get(reverse("customer_list")).text

    assert reverse("new_customer") in text


def test_a_collectors_new_customer_is_theirs_and_audited(collector_client, collector):
    response = collector_client.post(
        reverse("new_customer"),
        {
            "name": "Fresh Start Ltd",
            "external_id": "NEW-1",
            "debtor_type": "business",
            "country": "gb",
            "timezone": "Europe/London",
            "currency": "GBP",
        },
    )

    customer = Customer.objects.get(external_id="NEW-1")
    assert response["Location"] == reverse("customer_detail", args=[customer.pk])
    assert (customer.collector, customer.country) == (collector, "GB")
    [event] = _events("ledger.customer.created")
    assert event.customer_id == customer.pk
    assert event.data["name"] == "Fresh Start Ltd"


def test_a_new_customer_with_a_taken_external_id_is_refused(collector_client):
    CustomerFactory(external_id="DUP-1", name="First Ltd")

    response = collector_client.post(
        reverse("new_customer"),
        {"name": "Second Ltd", "external_id": "DUP-1", "debtor_type": "business"}
        | {"timezone": "Europe/London", "currency": "GBP"},
    )

    assert "First Ltd already has the external id DUP-1" in response.text
    assert not Customer.objects.filter(name="Second Ltd").exists()


# --- contacts ----------------------------------------------------------------------------------


def _contact_data(**values):
    return (
        {"name": "", "role": ContactRole.ACCOUNTS_PAYABLE, "email": "", "phone": ""}
        | {"address": ""}
        | values
    )


def test_a_contact_is_added_with_a_postal_address_and_audited(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    collector_client.post(
        reverse("customer_contact_add", args=[customer.pk]),
        _contact_data(name="Pat Post", role="legal", address="1 High St\nLeeds\nLS1 1AA"),
    )

    contact = customer.contacts.get()
    assert (contact.name, contact.role, contact.address) == (
        "Pat Post",
        "legal",
        "1 High St\nLeeds\nLS1 1AA",
    )
    page = collector_client.get(reverse("customer_detail", args=[customer.pk])).text
    assert "1 High St<br>Leeds<br>LS1 1AA" in page
    [event] = _events("ledger.contact.created")
    assert event.data["changes"]["address"] == ["", "1 High St\nLeeds\nLS1 1AA"]


def test_a_contact_without_any_way_to_reach_them_is_refused(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    response = collector_client.post(
        reverse("customer_contact_add", args=[customer.pk]), _contact_data(name="Nobody")
    )

    assert "Give at least one way to reach them" in response.text
    assert not customer.contacts.exists()


def test_a_bad_email_is_refused_and_the_contact_kept(collector_client, collector):
    contact = ContactFactory(customer__collector=collector, email="ok@example.com")

    response = collector_client.post(
        reverse("contact_edit", args=[contact.pk]), _contact_data(email="not-an-email")
    )

    assert "Enter a valid email address." in response.text
    contact.refresh_from_db()
    assert contact.email == "ok@example.com"


def test_an_edit_is_audited_with_before_and_after(collector_client, collector):
    contact = ContactFactory(customer__collector=collector, name="Old", email="a@example.com")

    collector_client.post(
        reverse("contact_edit", args=[contact.pk]),
        _contact_data(name="New", email="a@example.com", phone="0113 496 0000", is_primary="on"),
    )

    [event] = _events("ledger.contact.updated")
    assert event.data["changes"]["name"] == ["Old", "New"]
    assert event.data["changes"]["phone"] == ["", "0113 496 0000"]
    assert "email" not in event.data["changes"]


def test_making_a_contact_primary_demotes_the_other_of_its_role_only(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    old = ContactFactory(customer=customer, role=ContactRole.ACCOUNTS_PAYABLE)
    legal = ContactFactory(customer=customer, role=ContactRole.LEGAL)
    new = ContactFactory(customer=customer, is_primary=False, email="new@example.com")

    collector_client.post(
        reverse("contact_edit", args=[new.pk]),
        _contact_data(name=new.name, email=new.email, is_primary="on"),
    )

    primaries = set(Contact.objects.filter(customer=customer, is_primary=True))
    assert primaries == {new, legal}
    assert old not in primaries


def test_a_new_email_clears_the_bounce_and_says_so(collector_client, collector):
    contact = ContactFactory(
        customer__collector=collector,
        email="gone@example.com",
        email_bounced_at=timezone.now() - dt.timedelta(days=1),
    )

    response = collector_client.post(
        reverse("contact_edit", args=[contact.pk]),
        _contact_data(name=contact.name, email="new@example.com", is_primary="on"),
        follow=True,
    )

    contact.refresh_from_db()
    assert (contact.email, contact.email_bounced_at) == ("new@example.com", None)
    assert "The bounce is cleared" in response.text
    [cleared] = _events("ledger.contact.bounce_cleared")
    assert cleared.summary.startswith("Bounce on gone@example.com cleared")
    assert cleared.data["email"] == ["gone@example.com", "new@example.com"]
    assert "Bounce on gone@example.com cleared" in response.text  # on the timeline


def test_a_contact_edit_without_changes_records_nothing(collector_client, collector):
    contact = ContactFactory(customer__collector=collector, email="same@example.com")

    collector_client.post(
        reverse("contact_edit", args=[contact.pk]),
        _contact_data(name=contact.name, email=contact.email, is_primary="on"),
    )

    assert _events("ledger.contact.updated") == []


def test_a_collector_cannot_edit_a_colleagues_contact(collector_client, manager):
    contact = ContactFactory(customer__collector=manager, name="Kept")

    response = collector_client.post(
        reverse("contact_edit", args=[contact.pk]), _contact_data(name="Taken", email="x@y.com")
    )

    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.name == "Kept"
