import datetime as dt
import importlib.util
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR, NotYours
from audit.models import AuditEvent
from dunning.models import PaymentPlan, PlanStatus, QueueEntry
from portal.exceptions import PortalError
from portal.models import Confirmation, CustomerRequest, RequestKind, RequestStatus
from portal.plans import plan_offer
from portal.request_services import (
    request_approve,
    request_counter,
    request_counter_accept,
    request_decline,
)
from portal.requests import customer_request_make
from portal.selectors import requests_waiting
from portal.tests.test_plans import ask, overdue_customer, tomorrow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


def another_collector(django_user_model, username="otto"):
    user = django_user_model.objects.create_user(username=username, password="pw")
    user.groups.add(Group.objects.get(name=COLLECTOR))
    return user


def asked_by_own_customer(collector, **kwargs):
    link, token = overdue_customer(collector=collector, **kwargs)
    return link, token, ask(link, count=3)


def counter_offer(link, request, count=6):
    return plan_offer(
        total=Decimal(request.proposal["total"]),
        count=count,
        first_date=tomorrow(link) + dt.timedelta(days=7),
        every="month",
    )


# --- approving -------------------------------------------------------------------------------


def test_approving_agrees_the_plan_asked_for_and_pauses_chasing(collector):
    link, _token, request = asked_by_own_customer(collector, amounts=("100.00",))

    request_approve(actor=collector, request=request, now=timezone.now(), note="Agreed.")

    plan = PaymentPlan.objects.get(customer=link.customer, status=PlanStatus.ACTIVE)
    assert [(str(i.due_date), str(i.amount)) for i in plan.instalments.all()] == [
        tuple(row) for row in request.proposal["instalments"]
    ]
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and request.decided_by == collector
    entry = QueueEntry.objects.get(customer=link.customer)
    assert entry.plan and "plan" in entry.paused_by.lower()


def test_approving_is_audited_with_before_and_after_and_confirmed_by_email(collector):
    _link, _token, request = asked_by_own_customer(collector)

    request_approve(actor=collector, request=request, now=timezone.now())

    event = AuditEvent.objects.get(action="portal.request.approved")
    assert event.data["before"] == {"status": "pending"}
    assert event.data["after"]["status"] == "approved"
    mail = Confirmation.objects.get(key=f"request-approved:{request.pk}")
    assert "We have approved your request" in mail.body_text


def test_a_request_cannot_be_decided_twice(collector, manager):
    _link, _token, request = asked_by_own_customer(collector)
    stale = CustomerRequest.objects.get(pk=request.pk)
    request_approve(actor=collector, request=request, now=timezone.now())

    with pytest.raises(PortalError, match="already approved by colin"):
        request_decline(actor=manager, request=stale, now=timezone.now(), note="No.")
    assert CustomerRequest.objects.get(pk=request.pk).status == RequestStatus.APPROVED
    assert not AuditEvent.objects.filter(action="portal.request.declined").exists()


def test_another_collector_cannot_decide_and_nothing_changes(collector, django_user_model):
    _link, _token, request = asked_by_own_customer(collector)

    with pytest.raises(NotYours):
        request_approve(
            actor=another_collector(django_user_model), request=request, now=timezone.now()
        )
    assert CustomerRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING
    assert not PaymentPlan.objects.exists()


def test_an_approval_that_cannot_be_applied_changes_nothing(collector):
    link, _token, request = asked_by_own_customer(collector)
    PaymentPlan.objects.create(customer=link.customer, agreed_on=timezone.localdate())

    with pytest.raises(PortalError, match="already has an active payment plan"):
        request_approve(actor=collector, request=request, now=timezone.now())
    assert CustomerRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING
    assert not AuditEvent.objects.filter(action="portal.request.approved").exists()


# --- declining -------------------------------------------------------------------------------


def test_a_decline_needs_a_note(collector):
    _link, _token, request = asked_by_own_customer(collector)

    with pytest.raises(PortalError, match="Say why"):
        request_decline(actor=collector, request=request, now=timezone.now(), note=" ")
    assert CustomerRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING


def test_the_decline_note_reaches_the_customer_by_email_and_on_their_page(client, collector):
    _link, token, request = asked_by_own_customer(collector)

    request_decline(
        actor=collector, request=request, now=timezone.now(), note="Pay half now, please."
    )

    mail = Confirmation.objects.get(key=f"request-declined:{request.pk}")
    assert "Our reason: Pay half now, please." in mail.body_text
    page = client.get(reverse("portal:page", args=[token])).content.decode()
    assert "Declined" in page and "Pay half now, please." in page
    assert not PaymentPlan.objects.exists()


# --- countering ------------------------------------------------------------------------------


def test_a_counter_offer_accepted_by_the_customer_agrees_that_plan(client, collector):
    link, token, request = asked_by_own_customer(collector, amounts=("120.00",))
    offer = counter_offer(link, request, count=6)
    request_counter(actor=collector, request=request, counter=offer, now=timezone.now())
    page = client.get(reverse("portal:page", args=[token])).content.decode()
    assert "See our offer and accept it" in page

    response = client.post(reverse("portal:request_accept", args=[token, request.pk]))

    assert response.status_code == 302
    plan = PaymentPlan.objects.get(customer=link.customer)
    assert [str(i.amount) for i in plan.instalments.all()] == ["20.00"] * 6
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    accepted = AuditEvent.objects.get(action="portal.request.accepted")
    assert accepted.data["link_id"] == link.pk and accepted.actor_id is None
    assert Confirmation.objects.filter(key=f"request-accepted:{request.pk}").exists()


def test_the_counter_offer_is_emailed_to_the_customer(collector):
    link, _token, request = asked_by_own_customer(collector)

    request_counter(
        actor=collector,
        request=request,
        counter=counter_offer(link, request),
        now=timezone.now(),
        note="Six months suits us better.",
    )

    mail = Confirmation.objects.get(key=f"request-countered:{request.pk}")
    assert "we can offer this instead" in mail.body_text
    assert "Six months suits us better." in mail.body_text
    assert AuditEvent.objects.get(action="portal.request.countered").data["after"]["counter"]


def test_an_offer_is_accepted_once(collector):
    link, _token, request = asked_by_own_customer(collector)
    request_counter(
        actor=collector, request=request, counter=counter_offer(link, request), now=timezone.now()
    )
    stale = CustomerRequest.objects.get(pk=request.pk)
    request_counter_accept(link=link, request=request, now=timezone.now())

    with pytest.raises(PortalError, match="already approved"):
        request_counter_accept(link=link, request=stale, now=timezone.now())
    assert PaymentPlan.objects.count() == 1


def test_contact_details_cannot_be_countered(collector):
    link, _token = overdue_customer(collector=collector)
    request = customer_request_make(
        link=link,
        kind=RequestKind.CONTACT,
        proposal={"email": "new@example.com"},
        message="",
        summary="Asked to change contact details",
        now=timezone.now(),
    )

    with pytest.raises(PortalError, match="not countered"):
        request_counter(actor=collector, request=request, counter={}, now=timezone.now())


@pytest.mark.skipif(
    importlib.util.find_spec("portal.promises") is None, reason="portal.promises not built yet"
)
def test_approving_a_promise_request_records_the_promise(collector):
    from dunning.models import PromiseToPay

    link, _token = overdue_customer(collector=collector)
    day = tomorrow(link) + dt.timedelta(days=40)
    request = customer_request_make(
        link=link,
        kind=RequestKind.PROMISE,
        proposal={
            "amount": "300.00",
            "promised_for": day.isoformat(),
            "invoice_ids": list(link.customer.invoices.values_list("pk", flat=True)),
        },
        message="",
        summary="Asked to promise",
        now=timezone.now(),
    )

    request_approve(actor=collector, request=request, now=timezone.now())

    promise = PromiseToPay.objects.get(customer=link.customer)
    assert (promise.amount, promise.promised_for) == (Decimal("300.00"), day)
    assert "£300.00 by" in Confirmation.objects.get(key=f"request-approved:{request.pk}").body_text


@pytest.mark.skipif(
    importlib.util.find_spec("portal.promises") is None, reason="portal.promises not built yet"
)
def test_a_collector_counters_a_promise_with_another_date_and_amount(collector_client, collector):
    from dunning.models import PromiseToPay

    link, _token = overdue_customer(collector=collector)
    request = customer_request_make(
        link=link,
        kind=RequestKind.PROMISE,
        proposal={"amount": "100.00", "promised_for": tomorrow(link).isoformat()},
        message="",
        summary="Asked to promise",
        now=timezone.now(),
    )
    day = tomorrow(link) + dt.timedelta(days=9)
    collector_client.post(
        reverse("portal:request_detail", args=[request.pk]),
        {"decision": "counter", "counter-amount": "250.00", "counter-date": day.isoformat()},
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.COUNTERED

    request_counter_accept(link=link, request=request, now=timezone.now())

    promise = PromiseToPay.objects.get(customer=link.customer)
    assert (promise.amount, promise.promised_for) == (Decimal("250.00"), day)


# --- the collectors' screens -----------------------------------------------------------------


def test_a_collector_sees_their_own_customers_requests_first(collector, django_user_model):
    otto = another_collector(django_user_model)
    overdue_customer_request = asked_by_own_customer(otto)[2]
    own = asked_by_own_customer(collector)[2]

    assert requests_waiting(user=collector) == [own, overdue_customer_request]
    assert requests_waiting(user=collector, mine=True) == [own]


def test_a_manager_sees_every_request_oldest_first(collector, manager, django_user_model):
    first = asked_by_own_customer(another_collector(django_user_model))[2]
    second = asked_by_own_customer(collector)[2]

    assert requests_waiting(user=manager) == [first, second]


def test_the_list_costs_the_same_queries_for_3_and_30_requests(collector_client, collector):
    def queries_for(count):
        for _ in range(count):
            asked_by_own_customer(collector)
        with CaptureQueriesContext(connection) as captured:
            response = collector_client.get(reverse("portal:requests"))
        assert response.status_code == 200
        return len(captured), response.content.decode().count("Decide<span")

    few, shown_few = queries_for(3)
    many, shown_many = queries_for(27)

    assert (shown_few, shown_many) == (3, 30)
    assert few == many


def test_the_queue_links_to_the_requests_with_the_count_waiting(collector_client, collector):
    asked_by_own_customer(collector)
    asked_by_own_customer(collector)

    response = collector_client.get(reverse("queue"))

    assert "Requests (2 waiting)" in response.content.decode()


def test_a_collector_approves_on_the_request_page(collector_client, collector):
    link, _token, request = asked_by_own_customer(collector)
    url = reverse("portal:request_detail", args=[request.pk])
    assert "Approve" in collector_client.get(url).content.decode()

    response = collector_client.post(url, {"decision": "approve", "note": ""})

    assert response.status_code == 302 and response["Location"] == reverse("portal:requests")
    assert PaymentPlan.objects.filter(customer=link.customer).exists()


def test_declining_without_a_note_shows_the_error_on_the_page(collector_client, collector):
    _link, _token, request = asked_by_own_customer(collector)
    url = reverse("portal:request_detail", args=[request.pk])

    response = collector_client.post(url, {"decision": "decline", "note": ""})

    assert response.status_code == 200
    assert "Say why: the customer reads this note." in response.content.decode()
    assert CustomerRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING


def test_a_collector_counters_a_plan_with_another_schedule(collector_client, collector):
    link, _token, request = asked_by_own_customer(collector, amounts=("100.00",))
    url = reverse("portal:request_detail", args=[request.pk])
    first = (tomorrow(link) + dt.timedelta(days=14)).isoformat()

    collector_client.post(
        url,
        {
            "decision": "counter",
            "counter-count": "4",
            "counter-every": "week",
            "counter-first_date": first,
            "counter-note": "Weekly suits us.",
        },
    )

    request.refresh_from_db()
    assert request.status == RequestStatus.COUNTERED
    assert request.counter["instalments"][0] == [first, "25.00"]
    assert "Weekly suits us." in collector_client.get(url).content.decode()


def test_another_collectors_customer_is_read_only_on_the_request_page(
    client, collector, django_user_model
):
    _link, _token, request = asked_by_own_customer(collector)
    client.force_login(another_collector(django_user_model))
    url = reverse("portal:request_detail", args=[request.pk])

    page = client.get(url).content.decode()
    refused = client.post(url, {"decision": "approve"})

    assert "read only" in page and 'value="approve"' not in page
    assert refused.status_code == 403
    assert not PaymentPlan.objects.exists()


def test_the_timeline_shows_the_request_and_its_approval(collector_client, collector):
    link, _token, request = asked_by_own_customer(collector)
    request_approve(actor=collector, request=request, now=timezone.now())

    page = collector_client.get(reverse("customer_detail", args=[link.customer.pk]))

    text = page.content.decode()
    assert "Asked for a payment plan" in text
    assert "Payment plan request approved" in text
    assert "On the customer&#x27;s page, by Ada Payables" in text


def test_the_timeline_shows_the_offer_made_back(collector_client, collector):
    link, _token, request = asked_by_own_customer(collector)
    offer = counter_offer(link, request, count=6)
    request_counter(actor=collector, request=request, counter=offer, now=timezone.now())

    page = collector_client.get(reverse("customer_detail", args=[link.customer.pk]))

    assert "Payment plan request answered with another offer" in page.content.decode()
    assert "Offered 6 instalments, the first on" in page.content.decode()


def test_deciding_a_request_someone_decided_meanwhile_says_so(collector_client, collector):
    _link, _token, request = asked_by_own_customer(collector)
    url = reverse("portal:request_detail", args=[request.pk])
    collector_client.post(url, {"decision": "approve"})

    response = collector_client.post(url, {"decision": "decline", "note": "No."}, follow=True)

    assert "This request was already approved by colin" in response.content.decode()
    assert CustomerRequest.objects.get(pk=request.pk).status == RequestStatus.APPROVED


# --- at the same moment (PostgreSQL) -----------------------------------------------------------


def _at_once(*calls):
    """Run the calls in threads released together; returns what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n, call):
        try:
            barrier.wait()
            results[n] = call()
        except Exception as error:  # reported to the test below
            results[n] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_two_people_deciding_at_once_make_one_decision(collector, manager):
    _link, _token, request = asked_by_own_customer(collector)
    now = timezone.now()

    results = _at_once(
        lambda: request_approve(
            actor=collector, request=CustomerRequest.objects.get(pk=request.pk), now=now
        ),
        lambda: request_decline(
            actor=manager, request=CustomerRequest.objects.get(pk=request.pk), now=now, note="No."
        ),
    )

    refused = [r for r in results if isinstance(r, PortalError)]
    assert len(refused) == 1 and "already" in str(refused[0])
    decisions = AuditEvent.objects.filter(
        action__in=["portal.request.approved", "portal.request.declined"]
    )
    assert decisions.count() == 1
    status = CustomerRequest.objects.get(pk=request.pk).status
    assert PaymentPlan.objects.exists() == (status == RequestStatus.APPROVED)


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_asking_twice_at_once_makes_one_request():
    link, _token = overdue_customer()

    results = _at_once(lambda: ask(link), lambda: ask(link, count=4))

    assert sum(isinstance(r, PortalError) for r in results) == 1
    assert CustomerRequest.objects.count() == 1


@pytest.mark.skipif(
    importlib.util.find_spec("portal.contacts") is None, reason="portal.contacts not built yet"
)
def test_approving_a_contact_change_corrects_the_details_and_confirms_to_the_new_address(
    collector,
):
    link, _token = overdue_customer(collector=collector)
    request = customer_request_make(
        link=link,
        kind=RequestKind.CONTACT,
        proposal={"email": "new-ap@example.com"},
        message="",
        summary="Asked to change contact details",
        now=timezone.now(),
    )

    request_approve(actor=collector, request=request, now=timezone.now())

    link.contact.refresh_from_db()
    assert link.contact.email == "new-ap@example.com"
    mail = Confirmation.objects.get(key=f"request-approved:{request.pk}")
    assert mail.to_email == "new-ap@example.com"
