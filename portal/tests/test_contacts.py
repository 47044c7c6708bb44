"""The contact's own details on the customer's page: confirm, correct (a request a collector
approves), and stop collection email where the customer has that right."""

import datetime as dt

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dunning.models import QueueEntry, Touch, TouchStatus
from dunning.services import dunning_cycle
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from invoices.models import DebtorType
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.contacts import contact_request_apply
from portal.exceptions import PortalError
from portal.models import Confirmation, CustomerRequest, RequestKind, RequestStatus
from portal.request_services import request_approve
from portal.services import portal_link_make

pytestmark = pytest.mark.django_db

CONSUMER_US = {"debtor_type": DebtorType.CONSUMER, "country": "US"}


@pytest.fixture(autouse=True)
def _fresh_limits():
    # The limits count per IP in the cache: leave none counted for the tests that follow.
    cache.clear()
    yield
    cache.clear()


def _opened(customer=None, **contact_fields):
    """A contact's live link: (link, token)."""
    contact = ContactFactory(customer=customer or CustomerFactory(), **contact_fields)
    link, url = portal_link_make(customer=contact.customer, contact=contact, now=timezone.now())
    return link, url.rstrip("/").rsplit("/", 1)[1]


def _contact_url(token):
    return reverse("portal:contact", args=[token])


def _opt_out_url(token):
    return reverse("portal:opt_out", args=[token])


# --- confirm -------------------------------------------------------------------------------


def test_the_contact_page_shows_the_details_we_hold(client):
    link, token = _opened(email="ada@harbour.example", phone="+44 20 7946 0000")

    response = client.get(_contact_url(token))

    assert response.status_code == 200
    assert "ada@harbour.example" in response.text and "+44 20 7946 0000" in response.text
    assert "Yes, these are right" in response.text


def test_confirming_is_recorded_at_once_with_the_link_it_came_from(client):
    link, token = _opened()

    response = client.post(_contact_url(token), {"action": "confirm"})

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="portal.contact.confirmed")
    assert event.actor_label == "customer page"
    assert (event.data["contact_id"], event.data["link_id"]) == (link.contact_id, link.pk)
    assert not CustomerRequest.objects.exists()
    confirmation = Confirmation.objects.get()
    assert confirmation.to_email == link.contact.email
    assert "Thank you for confirming" in confirmation.body_text
    assert "you confirmed your details" in client.get(response["Location"]).text


# --- correct -------------------------------------------------------------------------------


def test_a_correction_waits_for_a_collector_and_changes_nothing_yet(client):
    link, token = _opened(email="old@harbour.example")

    response = client.post(
        _contact_url(token),
        {
            "name": link.contact.name,
            "email": "new@harbour.example",
            "phone": "",
            "address": "",
            "message": "Old mailbox closed.",
        },
    )

    assert response.status_code == 302
    request = CustomerRequest.objects.get()
    assert (request.kind, request.status) == (RequestKind.CONTACT, RequestStatus.PENDING)
    assert request.proposal == {"email": "new@harbour.example"}
    link.contact.refresh_from_db()
    assert link.contact.email == "old@harbour.example"
    event = AuditEvent.objects.get(action="portal.request.contact.made")
    assert event.data["link_id"] == link.pk
    confirmation = Confirmation.objects.get(key=f"contact-request:{request.pk}")
    assert confirmation.to_email == "old@harbour.example"  # the address we hold hears of it
    assert "new@harbour.example" in client.get(response["Location"]).text  # shown as waiting


def test_sending_the_same_details_back_is_refused_in_the_form(client):
    link, token = _opened()
    contact = link.contact

    response = client.post(
        _contact_url(token),
        {"name": contact.name, "email": contact.email, "phone": "", "address": ""},
    )

    assert response.status_code == 200
    assert "Nothing here differs from the details we hold" in response.text
    assert not CustomerRequest.objects.exists()


def test_a_bad_email_address_is_refused_in_the_form_and_nothing_changes(client):
    link, token = _opened()

    response = client.post(
        _contact_url(token), {"name": "", "email": "not-an-address", "phone": "", "address": ""}
    )

    assert response.status_code == 200
    assert "Enter a valid email address" in response.text
    assert not CustomerRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="portal.request").exists()


def _request(link, proposal):
    return CustomerRequest.objects.create(
        customer=link.customer,
        contact=link.contact,
        link=link,
        kind=RequestKind.CONTACT,
        proposal=proposal,
        made_at=timezone.now(),
    )


def test_applying_a_request_changes_the_contact_through_the_ledger(collector):
    link, _token = _opened(email="old@harbour.example")
    link.contact.email_bounced_at = timezone.now()
    link.contact.save()
    request = _request(link, {"email": "new@harbour.example", "phone": "+1 555 0100"})

    contact = contact_request_apply(actor=collector, request=request, now=timezone.now())

    assert (contact.email, contact.phone) == ("new@harbour.example", "+1 555 0100")
    assert contact.email_bounced_at is None
    event = AuditEvent.objects.get(action="ledger.contact.updated")
    assert event.actor == collector
    assert event.data["changes"]["email"] == ["old@harbour.example", "new@harbour.example"]
    assert AuditEvent.objects.filter(action="ledger.contact.bounce_cleared").exists()


def test_applying_takes_only_the_details_a_customer_may_correct(collector):
    link, _token = _opened()
    request = _request(link, {"name": "Ada B", "email_opt_out": True, "is_primary": False})

    contact = contact_request_apply(actor=collector, request=request, now=timezone.now())

    assert contact.name == "Ada B"
    assert not contact.email_opt_out and contact.is_primary


def test_applying_a_change_the_ledger_refuses_raises_and_changes_nothing(collector):
    link, _token = _opened(email="old@harbour.example")
    request = _request(link, {"email": "not-an-address"})

    with pytest.raises(PortalError):
        contact_request_apply(actor=collector, request=request, now=timezone.now())

    link.contact.refresh_from_db()
    assert link.contact.email == "old@harbour.example"


def test_approving_on_the_requests_screen_emails_the_corrected_address(client, collector):
    customer = CustomerFactory(collector=collector)
    link, token = _opened(customer, email="old@harbour.example")
    client.post(
        _contact_url(token),
        {"name": link.contact.name, "email": "new@harbour.example", "phone": "", "address": ""},
    )
    request = CustomerRequest.objects.get()

    request_approve(actor=collector, request=request, now=timezone.now())

    link.contact.refresh_from_db()
    assert link.contact.email == "new@harbour.example"
    approved = Confirmation.objects.get(key=f"request-approved:{request.pk}")
    assert approved.to_email == "new@harbour.example"


# --- opt out -------------------------------------------------------------------------------


def test_a_us_consumer_is_offered_the_opt_out_with_the_reason(client):
    _link, token = _opened(CustomerFactory(**CONSUMER_US))

    page = client.get(reverse("portal:page", args=[token])).text
    opt_out = client.get(_opt_out_url(token))

    assert "Stop collection emails" in page and "Regulation F" in page
    assert opt_out.status_code == 200 and "Regulation F" in opt_out.text


def test_a_consumer_elsewhere_is_offered_it_too_as_every_consumer_message_does(client):
    _link, token = _opened(CustomerFactory(debtor_type=DebtorType.CONSUMER, country="GB"))

    assert "Stop collection emails" in client.get(reverse("portal:page", args=[token])).text


@pytest.mark.parametrize("debtor_type", [DebtorType.BUSINESS, DebtorType.SOLE_TRADER])
def test_a_business_is_not_offered_it_and_the_address_is_the_plain_404(client, debtor_type):
    link, token = _opened(CustomerFactory(debtor_type=debtor_type, country="US"))
    forged = client.get(_opt_out_url("x" * 43))

    page = client.get(reverse("portal:page", args=[token])).text
    refused = client.post(_opt_out_url(token))

    assert "Stop collection emails" not in page
    assert (refused.status_code, refused.content) == (404, forged.content)
    link.contact.refresh_from_db()
    assert not link.contact.email_opt_out
    assert not AuditEvent.objects.filter(action="dunning.opt_out").exists()


def test_opting_out_stops_email_to_every_contact_audited_with_the_link(client):
    customer = CustomerFactory(**CONSUMER_US)
    other = ContactFactory(customer=customer, is_primary=False)
    link, token = _opened(customer, is_primary=False)

    response = client.post(_opt_out_url(token))

    assert response.status_code == 302
    assert not customer.contacts.filter(email_opt_out=False).exists()
    event = AuditEvent.objects.get(action="dunning.opt_out")
    assert event.actor_label == "customer page"
    assert (event.data["contact_id"], event.data["link_id"]) == (link.contact_id, link.pk)
    assert event.data["contacts_opted_out"] == 2
    confirmation = Confirmation.objects.get()
    assert confirmation.to_email == link.contact.email != other.email
    assert "we no longer email you" in client.get(response["Location"]).text


def test_opting_out_again_changes_nothing_more(client):
    _link, token = _opened(CustomerFactory(**CONSUMER_US))
    client.post(_opt_out_url(token))

    client.post(_opt_out_url(token))

    assert AuditEvent.objects.filter(action="dunning.opt_out").count() == 1
    assert Confirmation.objects.count() == 1


@pytest.mark.usefixtures("ladder")
def test_after_opting_out_the_engine_sends_no_collection_email(client):
    customer = overdue_customer(days=3, **CONSUMER_US)
    contact = customer.contacts.get()
    _link, token = _opened(customer, email="", is_primary=False)  # someone else opts out
    client.post(_opt_out_url(token))

    dunning_cycle(as_of=MONDAY_10)

    reminder = Touch.objects.get(customer=customer)
    assert reminder.status == TouchStatus.FAILED
    assert "opted out" in reminder.last_error
    assert not [m for m in mail.outbox if contact.email in m.to]


@pytest.mark.usefixtures("ladder")
def test_opting_out_refreshes_the_queue_row(client):
    customer = overdue_customer(days=3, **CONSUMER_US)
    _link, token = _opened(customer, is_primary=False)
    assert not QueueEntry.objects.filter(customer=customer).exists()

    client.post(_opt_out_url(token))

    assert QueueEntry.objects.filter(customer=customer).exists()


def test_each_action_shows_on_the_customer_timeline(client, collector):
    customer = CustomerFactory(collector=collector, **CONSUMER_US)
    InvoiceFactory(customer=customer, due_date=dt.date.today() - dt.timedelta(days=10))
    link, token = _opened(customer, name="Ada Payables")
    client.post(_contact_url(token), {"action": "confirm"})
    client.post(_contact_url(token), {"name": "Ada P", "email": link.contact.email})
    client.post(_opt_out_url(token))

    client.force_login(collector)
    timeline = client.get(reverse("customer_detail", args=[customer.pk])).text

    assert "Ada Payables confirmed their contact details" in timeline
    assert "asked on the customer page to correct their details" in timeline
    assert "opted out of collection email on their page" in timeline
