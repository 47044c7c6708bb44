"""The customer page's "Documents asked for" action: a collector records that their customer
answered a Letter of Claim by asking for documents, which puts a legal referral off for 30
days from that reply (Pre-Action Protocol for Debt Claims)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from dunning.models import DocumentsRequest
from dunning.tests.factories import MONDAY_10, overdue_customer

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


@pytest.fixture
def own_customer(collector):
    return overdue_customer(
        collector=collector, debtor_type="sole_trader", country="GB", region="England"
    )


def url(customer):
    return reverse("customer_documents_request", args=[customer.pk])


def data(**overrides):
    return {"requested_on": "2026-03-13", "note": "A copy of the agreement", **overrides}


def test_the_action_is_offered_on_the_customer_page(collector_client, own_customer):
    text = collector_client.get(reverse("customer_detail", args=[own_customer.pk])).text

    assert f'href="{url(own_customer)}#action-area"' in text
    assert 'data-shortcut="r"' in text


def test_htmx_loads_the_form_into_the_action_area(collector_client, own_customer):
    response = collector_client.get(url(own_customer), **HTMX)

    assert response.status_code == 200
    assert "Record a reply asking for documents" in response.text
    assert "site-header" not in response.text


def test_recording_it_keeps_the_reply_and_tells_the_timeline(collector_client, own_customer):
    response = collector_client.post(url(own_customer), data(), follow=True)

    request = DocumentsRequest.objects.get()
    assert (request.customer, str(request.requested_on)) == (own_customer, "2026-03-13")
    assert "Their reply of 13 Mar 2026 asking for documents is recorded." in response.text
    assert "They replied asking for documents" in response.text
    assert "A copy of the agreement" in response.text


def test_a_date_after_today_is_an_error_and_nothing_is_kept(collector_client, own_customer):
    response = collector_client.post(url(own_customer), data(requested_on="2026-03-17"), **HTMX)

    assert "Their reply cannot be dated after today." in response.text
    assert not DocumentsRequest.objects.exists()


def test_a_colleagues_customer_is_refused_and_nothing_is_kept(collector_client, django_user_model):
    cara = django_user_model.objects.create_user(username="cara")
    cara.groups.add(Group.objects.get(name="Collector"))
    customer = overdue_customer(collector=cara)

    opened = collector_client.get(url(customer), **HTMX)
    posted = collector_client.post(url(customer), data(), **HTMX)

    assert (opened.status_code, posted.status_code) == (403, 403)
    assert not DocumentsRequest.objects.exists()
