"""Every message carries a link to the customer's page, made for the contact it goes to."""

import pytest

from dunning import delivery, sending
from dunning.sending import next_step_preview
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from dunning.tests.test_delivery import plan_and_deliver
from letters.render import SAMPLE_PORTAL_URL
from portal.models import PortalLink
from portal.services import portal_link_resolve

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


@pytest.fixture
def contexts(monkeypatch):
    seen = []
    render = delivery.message_render

    def spy(parts, context):
        seen.append(context)
        return render(parts, context)

    monkeypatch.setattr(delivery, "message_render", spy)
    monkeypatch.setattr(sending, "message_render", spy)
    return seen


def test_a_sent_message_carries_a_working_link_for_its_contact(contexts):
    customer = overdue_customer(days=3)

    plan_and_deliver()

    url = contexts[0]["portal_url"]
    link = portal_link_resolve(url.rstrip("/").rsplit("/", 1)[1], now=MONDAY_10)
    assert url.startswith("http") and link is not None
    assert link.contact == customer.contacts.get()
    assert link.created_by is None


def test_a_preview_of_the_next_message_shows_a_placeholder_and_makes_no_link(contexts):
    customer = overdue_customer(days=3)

    next_step_preview(customer=customer, as_of=MONDAY_10)

    assert contexts and contexts[0]["portal_url"] == SAMPLE_PORTAL_URL
    assert not PortalLink.objects.exists()
