"""The customer page's "Acknowledgement" action: a collector records that their customer
acknowledged the debt in writing, which restarts the limitation clock where the law says so."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from dunning.limitation import limitation_state
from dunning.models import Acknowledgement
from dunning.tests.factories import MONDAY_10, overdue_customer
from invoices.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db
TODAY = MONDAY_10.date()
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


@pytest.fixture
def own_customer(collector):
    customer = overdue_customer(collector=collector, country="GB")
    InvoiceFactory(
        customer=customer,
        number="OLD-1",
        issue_date=dt.date(2018, 12, 11),
        due_date=dt.date(2019, 1, 10),
    )
    return customer


def url(customer):
    return reverse("customer_acknowledgement", args=[customer.pk])


def data(**overrides):
    return {"acknowledged_on": "2024-11-01", "note": "Signed letter, in the post file", **overrides}


def test_the_action_is_offered_on_the_customer_page(collector_client, own_customer):
    text = collector_client.get(reverse("customer_detail", args=[own_customer.pk])).text

    assert f'href="{url(own_customer)}#action-area"' in text
    assert 'data-shortcut="a"' in text


def test_htmx_loads_the_form_into_the_action_area(collector_client, own_customer):
    response = collector_client.get(url(own_customer), **HTMX)

    assert response.status_code == 200
    assert "Record a written acknowledgement" in response.text
    assert "site-header" not in response.text


def test_recording_it_restarts_the_clock_and_redirects_to_the_page(collector_client, own_customer):
    old = own_customer.invoices.get(number="OLD-1")

    response = collector_client.post(
        url(own_customer), data(invoices=[str(old.pk)]), **HTMX, follow=False
    )

    assert response["HX-Redirect"] == reverse("customer_detail", args=[own_customer.pk])
    ack = Acknowledgement.objects.get()
    assert list(ack.invoices.all()) == [old]
    assert limitation_state(customer=own_customer, invoices=[old], today=TODAY).barred == ()


def test_the_success_message_says_what_was_recorded(collector_client, own_customer):
    response = collector_client.post(url(own_customer), data(), follow=True)

    assert "Written acknowledgement of 1 Nov 2024 recorded for the whole account." in (
        response.text
    )


def test_a_date_after_today_is_an_error_and_nothing_is_kept(collector_client, own_customer):
    response = collector_client.post(url(own_customer), data(acknowledged_on="2026-03-17"), **HTMX)

    assert "An acknowledgement cannot be dated after today." in response.text
    assert not Acknowledgement.objects.exists()


def test_another_customers_invoice_cannot_be_named(collector_client, own_customer):
    theirs = InvoiceFactory()

    response = collector_client.post(url(own_customer), data(invoices=[str(theirs.pk)]), **HTMX)

    assert "Select a valid choice" in response.text
    assert not Acknowledgement.objects.exists()


def test_a_colleagues_customer_is_refused_and_nothing_is_kept(collector_client, django_user_model):
    cara = django_user_model.objects.create_user(username="cara")
    cara.groups.add(Group.objects.get(name="Collector"))
    customer = overdue_customer(collector=cara)

    opened = collector_client.get(url(customer), **HTMX)
    posted = collector_client.post(url(customer), data(), **HTMX)

    assert (opened.status_code, posted.status_code) == (403, 403)
    assert not Acknowledgement.objects.exists()


def test_an_unknown_customer_is_not_found(collector_client):
    response = collector_client.get(reverse("customer_acknowledgement", args=[999999]))

    assert response.status_code == 404
