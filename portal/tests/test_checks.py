"""The satisfaction check on the customer's page: the invoices asked about wait with both
answers; each answer is a page whose GET only shows a confirm button (mail scanners follow
links) and whose POST records it, confirmed by email; the first answer stands; another
customer's invoice gets the one plain 404."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEvent
from dunning.models import Acknowledgement, CheckAnswer, SatisfactionAnswer
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from dunning.tests.factories import MONDAY_10, ladder  # noqa: F401
from dunning.tests.test_checks import checking  # noqa: F401
from invoices.models import Dispute, InvoiceStatus, RaisedVia
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.models import Confirmation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("checking")]
TODAY = MONDAY_10.date()


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    cache.clear()
    time_machine.move_to(MONDAY_10, tick=False)


def asked_account(name="Harbour Teas", number="HT-1"):
    """A customer whose new invoice the satisfaction check asked about (planned and sent by
    the real run), and a link to their page: (customer, invoice, token)."""
    customer = CustomerFactory(name=name)
    contact = ContactFactory(customer=customer, name="Ada Payables")
    invoice = InvoiceFactory(
        customer=customer,
        number=number,
        issue_date=TODAY - dt.timedelta(days=5),
        due_date=TODAY + dt.timedelta(days=25),
        amount=Decimal("240.00"),
    )
    dunning_run(as_of=MONDAY_10, customer_ids=[customer.pk])
    touches_deliver(as_of=MONDAY_10, customer_ids=[customer.pk])
    # The token of the link the check email carried, as the customer follows it.
    [message] = [m for m in mail.outbox if m.to == [contact.email]]
    token = re.search(rf"/([^/\s]+)/check/{invoice.pk}/in-order/", message.body).group(1)
    return customer, invoice, token


def url(name, token, invoice):
    return reverse(f"portal:{name}", args=[token, invoice.pk])


def test_the_page_lists_the_invoice_asked_about_with_both_answers(client):
    _customer, invoice, token = asked_account()

    page = client.get(reverse("portal:page", args=[token])).content.decode()

    assert "Did everything arrive in order?" in page
    assert url("check_in_order", token, invoice) in page
    assert url("check_problem", token, invoice) in page


def test_opening_an_answers_link_records_nothing(client):
    _customer, invoice, token = asked_account()

    for name in ("check", "check_in_order", "check_problem"):
        assert client.get(url(name, token, invoice)).status_code == 200

    assert not SatisfactionAnswer.objects.exists()
    assert not Acknowledgement.objects.exists()


def test_confirming_all_in_order_keeps_an_acknowledgement_and_emails_a_confirmation(client):
    customer, invoice, token = asked_account()

    response = client.post(url("check_in_order", token, invoice), follow=True)

    assert "You told us on" in response.content.decode()
    assert "all in order" in response.content.decode()
    recorded = SatisfactionAnswer.objects.get(invoice=invoice)
    assert recorded.answer == CheckAnswer.ALL_IN_ORDER and recorded.touch is not None
    assert recorded.acknowledgement.invoices.get() == invoice
    confirmation = Confirmation.objects.get(key=f"check:{recorded.pk}")
    assert "HT-1" in confirmation.subject
    event = AuditEvent.objects.get(action="dunning.check.answered")
    assert event.data["link_id"] and event.data["contact_id"] == recorded.contact_id
    page = client.get(reverse("portal:page", args=[token])).content.decode()
    assert "Did everything arrive in order?" not in page


def test_a_problem_opens_a_dispute_and_the_invoice_is_no_longer_chased(client):
    _customer, invoice, token = asked_account()

    response = client.post(
        url("check_problem", token, invoice), {"reason": "quantity", "detail": "Only 3 of 5"}
    )

    assert response.status_code == 302
    dispute = Dispute.objects.get(invoice=invoice)
    assert dispute.raised_via == RaisedVia.CHECK and dispute.detail == "Only 3 of 5"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_DISPUTE
    assert Confirmation.objects.filter(key__startswith="check:").count() == 1


def test_a_problem_without_a_reason_is_shown_in_the_form_and_nothing_changes(client):
    _customer, invoice, token = asked_account()

    response = client.post(url("check_problem", token, invoice), {"detail": "Hmm"})

    assert response.status_code == 200
    assert "Choose what the problem is." in response.content.decode()
    assert not Dispute.objects.exists() and not SatisfactionAnswer.objects.exists()


def test_the_first_answer_stands_and_a_second_shows_it(client):
    _customer, invoice, token = asked_account()
    client.post(url("check_in_order", token, invoice))

    response = client.post(url("check_problem", token, invoice), {"reason": "pricing"}, follow=True)

    assert "all in order" in response.content.decode()
    assert not Dispute.objects.exists()
    assert SatisfactionAnswer.objects.count() == 1
    assert Confirmation.objects.filter(key__startswith="check:").count() == 1


def test_another_customers_invoice_gets_the_one_plain_404(client):
    _customer, _invoice, token = asked_account()
    _other, theirs, _token = asked_account(name="Other Ltd", number="OT-1")
    plain = client.get(reverse("portal:page", args=["x" * 43]))

    for name in ("check", "check_in_order", "check_problem"):
        response = client.get(url(name, token, theirs))
        assert response.status_code == 404
        assert response.content == plain.content
    posted = client.post(url("check_in_order", token, theirs))

    assert posted.status_code == 404
    assert not SatisfactionAnswer.objects.exists()


def test_an_invoice_never_asked_about_has_no_check_page(client):
    customer, _invoice, token = asked_account()
    later = InvoiceFactory(customer=customer, issue_date=TODAY, due_date=TODAY + dt.timedelta(30))

    assert client.get(url("check", token, later)).status_code == 404
