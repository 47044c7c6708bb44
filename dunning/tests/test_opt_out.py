import pytest
from django.urls import reverse

from audit.models import AuditEvent
from dunning.delivery import opt_out_url
from invoices.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    return ContactFactory()


def path_of(url: str) -> str:
    return url[url.index("/portal/") :]


def test_the_link_in_a_message_opens_the_opt_out_page_without_a_login(client, contact):
    response = client.get(path_of(opt_out_url(contact.customer)))

    assert response.status_code == 200
    assert "Stop these emails" in response.text


def test_opening_the_link_alone_changes_nothing(client, contact):
    client.get(path_of(opt_out_url(contact.customer)))

    contact.refresh_from_db()
    assert not contact.email_opt_out


def test_confirming_opts_every_contact_of_the_customer_out_and_is_audited(client, contact):
    other = ContactFactory(customer=contact.customer, is_primary=False)

    response = client.post(path_of(opt_out_url(contact.customer)))

    assert "will not send you further automated emails" in response.text
    contact.refresh_from_db()
    other.refresh_from_db()
    assert contact.email_opt_out and other.email_opt_out
    event = AuditEvent.objects.get(action="dunning.opt_out")
    assert (event.customer_id, event.actor_label) == (contact.customer_id, "customer")


def test_a_forged_link_is_refused(client, contact):
    url = reverse("dunning:opt_out", kwargs={"token": '{"customer":1}:forged'})

    assert client.post(url).status_code == 404
    contact.refresh_from_db()
    assert not contact.email_opt_out
