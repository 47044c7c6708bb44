"""A customer promises a date on their page: within the policy's limits it is a promise at
once (the chase pauses), outside them a request a collector decides
(promise_request_apply records it then)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEvent
from dunning.models import DunningSettings, PromiseToPay, QueueEntry
from dunning.tests.factories import MONDAY_10
from dunning.views import plans_for
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.exceptions import PortalError
from portal.models import Confirmation, CustomerRequest, RequestKind, RequestStatus
from portal.promises import promise_request_apply
from portal.services import portal_link_make

pytestmark = pytest.mark.django_db
TODAY = MONDAY_10.date()


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    cache.clear()
    time_machine.move_to(MONDAY_10, tick=False)


@pytest.fixture
def account(collector):
    """Colin's customer owing 200.00 overdue and 50.00 not yet due; promises up to 30 days."""
    DunningSettings.objects.update_or_create(pk=1, defaults={"promise_max_days": 30})
    customer = CustomerFactory(collector=collector, name="Harbour Teas")
    contact = ContactFactory(customer=customer, name="Ada Payables", email="ada@harbour.test")
    overdue = InvoiceFactory(
        customer=customer,
        number="HT-1",
        issue_date=TODAY - dt.timedelta(days=50),
        due_date=TODAY - dt.timedelta(days=20),
        amount=Decimal("200.00"),
    )
    InvoiceFactory(
        customer=customer,
        number="HT-2",
        issue_date=TODAY - dt.timedelta(days=5),
        due_date=TODAY + dt.timedelta(days=25),
        amount=Decimal("50.00"),
    )
    link, url = portal_link_make(customer=customer, contact=contact, now=MONDAY_10)
    token = url.rstrip("/").rsplit("/", 1)[1]
    return customer, link, token, overdue


def _post(client, token, *, days, amount="200.00", message=""):
    day = (TODAY + dt.timedelta(days=days)).isoformat()
    return client.post(
        reverse("portal:promise", args=[token]),
        {"promised_for": day, "amount": amount, "message": message},
    )


def _nothing_changed():
    return (
        PromiseToPay.objects.count(),
        CustomerRequest.objects.count(),
        Confirmation.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_page_links_to_the_form_which_offers_the_overdue_total(client, account):
    _customer, _link, token, _overdue = account

    page = client.get(reverse("portal:page", args=[token])).content.decode()
    form = client.get(reverse("portal:promise", args=[token])).content.decode()

    assert reverse("portal:promise", args=[token]) in page
    assert 'value="200.00"' in form
    assert "by 15 Apr 2026 at the latest" in form


def test_a_promise_within_the_limits_pauses_the_chase_at_once(client, account):
    customer, link, token, overdue = account

    response = _post(client, token, days=10, message="Paying from the new account")

    assert response["Location"].startswith(reverse("portal:promise_done", args=[token]))
    promise = PromiseToPay.objects.get()
    assert promise.amount == Decimal("200.00")
    assert promise.promised_for == TODAY + dt.timedelta(days=10)
    assert list(promise.invoices.all()) == [overdue]
    assert promise.created_by is None and promise.note == "Paying from the new account"
    (plan,) = plans_for([customer.pk], as_of=MONDAY_10)
    assert overdue.pk not in plan.plan.eligible_invoice_ids
    entry = QueueEntry.objects.get(customer=customer)
    assert entry.promise and entry.promised_for == TODAY + dt.timedelta(days=10)
    assert not CustomerRequest.objects.exists()


def test_a_promise_is_audited_with_the_contact_and_link_and_confirmed(client, account):
    _customer, link, token, _overdue = account

    _post(client, token, days=10)

    event = AuditEvent.objects.get(action="dunning.promise.recorded")
    assert event.actor_label == "customer page"
    assert event.data["contact_id"] == link.contact_id and event.data["link_id"] == link.pk
    confirmation = Confirmation.objects.get()
    assert confirmation.to_email == "ada@harbour.test"
    assert "We will not chase these invoices until 26 Mar 2026." in confirmation.body_text


def test_the_done_page_thanks_them_with_the_date(client, account):
    _customer, _link, token, _overdue = account

    response = _post(client, token, days=10)
    page = client.get(response["Location"]).content.decode()

    assert "Thank you: we will not chase until 26 Mar 2026" in page


def test_more_than_what_is_overdue_covers_the_invoices_not_yet_due_too(client, account):
    _customer, _link, token, _overdue = account

    _post(client, token, days=10, amount="250.00")

    assert PromiseToPay.objects.get().invoices.count() == 2


def test_a_date_beyond_the_limit_becomes_a_request_for_a_collector(client, account):
    customer, link, token, overdue = account

    response = _post(client, token, days=45, message="Our customer pays us in April")
    page = client.get(response["Location"]).content.decode()

    assert not PromiseToPay.objects.exists()
    request = CustomerRequest.objects.get()
    assert request.kind == RequestKind.PROMISE and request.status == RequestStatus.PENDING
    assert request.link == link and request.message == "Our customer pays us in April"
    assert request.proposal == {
        "amount": "200.00",
        "promised_for": "2026-04-30",
        "invoice_ids": [overdue.pk],
    }
    event = AuditEvent.objects.get(action="portal.request.promise.made")
    assert event.data["contact_id"] == link.contact_id and event.actor_label == "customer page"
    assert "waiting for" in page and "answer" in page
    confirmation = Confirmation.objects.get()
    assert "someone at" in confirmation.body_text
    # Still chased until a collector agrees.
    (plan,) = plans_for([customer.pk], as_of=MONDAY_10)
    assert overdue.pk in plan.plan.eligible_invoice_ids


def test_less_than_the_overdue_amount_becomes_a_request(client, account):
    _customer, _link, token, _overdue = account

    _post(client, token, days=5, amount="150.00")

    assert not PromiseToPay.objects.exists()
    assert CustomerRequest.objects.get().proposal["amount"] == "150.00"
    assert "less than the £200.00 overdue" in AuditEvent.objects.latest("id").summary


def test_a_date_in_the_past_is_refused_and_nothing_changes(client, account):
    _customer, _link, token, _overdue = account
    before = _nothing_changed()

    response = _post(client, token, days=-1)

    assert "Choose today or a date after it." in response.content.decode()
    assert _nothing_changed() == before


def test_more_than_they_owe_is_refused_and_nothing_changes(client, account):
    _customer, _link, token, _overdue = account
    before = _nothing_changed()

    response = _post(client, token, days=5, amount="250.01")

    assert "That is more than the £250.00 you owe" in response.content.decode()
    assert _nothing_changed() == before


def test_while_a_request_waits_another_promise_is_refused(client, account):
    _customer, _link, token, _overdue = account
    _post(client, token, days=45)
    before = _nothing_changed()

    response = _post(client, token, days=5)

    assert "we will answer it soon" in response.content.decode()
    assert _nothing_changed() == before


# --- a collector's decision ------------------------------------------------------------------


def _request(client, token, days=45, amount="200.00"):
    _post(client, token, days=days, amount=amount)
    return CustomerRequest.objects.get()


def test_an_approved_request_becomes_the_promise_beyond_the_days_limit(client, account, collector):
    customer, _link, token, overdue = account
    request = _request(client, token)

    promise = promise_request_apply(actor=collector, request=request, now=MONDAY_10)

    assert promise.promised_for == TODAY + dt.timedelta(days=45)
    assert promise.amount == Decimal("200.00") and list(promise.invoices.all()) == [overdue]
    event = AuditEvent.objects.get(action="dunning.promise.recorded")
    assert event.actor == collector and event.data["request_id"] == request.pk
    (plan,) = plans_for([customer.pk], as_of=MONDAY_10)
    assert overdue.pk not in plan.plan.eligible_invoice_ids


def test_a_counter_offer_is_recorded_as_countered(client, account, collector):
    _customer, _link, token, _overdue = account
    request = _request(client, token)

    promise = promise_request_apply(
        actor=collector,
        request=request,
        now=MONDAY_10,
        counter={"amount": "250.00", "promised_for": "2026-04-20"},
    )

    assert promise.amount == Decimal("250.00") and promise.invoices.count() == 2
    assert promise.promised_for == dt.date(2026, 4, 20)


def test_a_counter_the_customer_accepts_is_recorded_as_from_their_page(client, account):
    _customer, _link, token, _overdue = account
    request = _request(client, token)

    promise_request_apply(
        actor=None,
        request=request,
        now=MONDAY_10,
        counter={"amount": "200", "promised_for": "2026-04-10"},
    )

    event = AuditEvent.objects.get(action="dunning.promise.recorded")
    assert event.actor_label == "customer page" and event.data["counter"] is True


def test_applying_another_kind_of_request_is_refused(account, collector):
    customer, link, _token, _overdue = account
    other = CustomerRequest.objects.create(
        customer=customer,
        contact=link.contact,
        kind=RequestKind.PLAN,
        proposal={},
        made_at=MONDAY_10,
    )

    with pytest.raises(PortalError):
        promise_request_apply(actor=collector, request=other, now=MONDAY_10)
