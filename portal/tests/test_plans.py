import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dunning.models import PaymentPlan, QueueEntry
from dunning.selectors import plan_schedule
from dunning.services import plan_create
from invoices.models import InvoiceStatus
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.exceptions import PortalError
from portal.models import Confirmation, CustomerRequest, RequestStatus
from portal.plans import customer_today, plan_request_make, plan_total
from portal.services import portal_link_make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


def overdue_customer(*, collector=None, amounts=("300.00",), name=None):
    """A customer with overdue invoices of these amounts and a live link to their page;
    returns the link and its token."""
    customer = CustomerFactory(collector=collector, **({"name": name} if name else {}))
    contact = ContactFactory(customer=customer, name="Ada Payables")
    today = customer_today(customer, timezone.now())
    for amount in amounts:
        InvoiceFactory(
            customer=customer,
            issue_date=today - dt.timedelta(days=60),
            due_date=today - dt.timedelta(days=30),
            amount=Decimal(amount),
        )
    link, url = portal_link_make(customer=customer, contact=contact, now=timezone.now())
    return link, url.rstrip("/").rsplit("/", 1)[1]


def tomorrow(link) -> dt.date:
    return customer_today(link.customer, timezone.now()) + dt.timedelta(days=1)


def ask(link, *, count=3, first_date=None, every="month", message=""):
    return plan_request_make(
        link=link,
        count=count,
        first_date=first_date or tomorrow(link),
        every=every,
        message=message,
        now=timezone.now(),
    )


# --- the schedule ----------------------------------------------------------------------------


def test_the_last_instalment_takes_the_rounding_remainder():
    rows = plan_schedule(
        total=Decimal("100.00"), count=3, first_date=dt.date(2026, 1, 31), every="month"
    )

    assert rows == [
        (dt.date(2026, 1, 31), Decimal("33.33")),
        (dt.date(2026, 2, 28), Decimal("33.33")),
        (dt.date(2026, 3, 31), Decimal("33.34")),
    ]


def test_a_fortnightly_schedule_steps_two_weeks():
    rows = plan_schedule(
        total=Decimal("50.00"), count=2, first_date=dt.date(2026, 1, 1), every="fortnight"
    )

    assert [due for due, _ in rows] == [dt.date(2026, 1, 1), dt.date(2026, 1, 15)]


def test_the_total_is_the_overdue_balance_without_disputed_or_not_yet_due_invoices():
    link, _token = overdue_customer(amounts=("300.00", "200.00"))
    customer = link.customer
    today = customer_today(customer, timezone.now())
    InvoiceFactory(customer=customer, issue_date=today, due_date=today + dt.timedelta(days=30))
    disputed = customer.invoices.first()
    disputed.status = InvoiceStatus.IN_DISPUTE
    disputed.save()

    assert plan_total(customer, today=today) == Decimal("200.00")


# --- asking ----------------------------------------------------------------------------------


def test_asking_records_a_waiting_request_audited_confirmed_and_queued():
    link, _token = overdue_customer(amounts=("100.00",))

    request = ask(link, count=3, message="Cash is tight this quarter.")

    assert request.status == RequestStatus.PENDING
    assert request.proposal["total"] == "100.00"
    assert [amount for _due, amount in request.proposal["instalments"]] == [
        "33.33",
        "33.33",
        "33.34",
    ]
    event = AuditEvent.objects.get(action="portal.request.plan.made")
    assert event.data["contact_id"] == link.contact_id and event.data["link_id"] == link.pk
    assert "3 instalments" in event.summary
    confirmation = Confirmation.objects.get(key=f"plan-request:{request.pk}")
    assert confirmation.to_email == link.contact.email
    assert "33.34" in confirmation.body_text
    assert QueueEntry.objects.filter(customer=link.customer).exists()


def test_a_second_request_while_one_waits_is_refused_clearly():
    link, _token = overdue_customer()
    ask(link)

    with pytest.raises(PortalError, match="You asked for a payment plan on"):
        ask(link, count=4)
    assert CustomerRequest.objects.count() == 1


def test_a_customer_with_an_active_plan_cannot_ask_for_another():
    link, _token = overdue_customer()
    plan_create(
        actor=None,
        customer=link.customer,
        agreed_on=timezone.localdate(),
        instalments=[(tomorrow(link), Decimal("300.00"))],
    )

    with pytest.raises(PortalError, match="already have a payment plan"):
        ask(link)
    assert not CustomerRequest.objects.exists()


@pytest.mark.parametrize("count", [1, 13])
def test_the_number_of_instalments_is_from_2_to_12(count):
    link, _token = overdue_customer()

    with pytest.raises(PortalError, match="between 2 and 12"):
        ask(link, count=count)


@pytest.mark.parametrize("days", [0, 31])
def test_the_first_payment_is_from_tomorrow_to_30_days_ahead(days):
    link, _token = overdue_customer()
    today = customer_today(link.customer, timezone.now())

    with pytest.raises(PortalError, match="The first instalment must fall between"):
        ask(link, first_date=today + dt.timedelta(days=days))


# --- the pages -------------------------------------------------------------------------------


def plan_url(token, name="portal:plan_request"):
    return reverse(name, args=[token])


def test_the_plan_page_shows_the_total_and_a_first_schedule(client):
    link, token = overdue_customer(amounts=("90.00",))

    response = client.get(plan_url(token))

    assert response.status_code == 200
    text = response.content.decode()
    assert "£90.00" in text
    assert text.count("£30.00") == 3  # three monthly payments to begin with
    assert "not counting invoices you dispute" in text


def test_the_live_schedule_follows_the_fields(client):
    link, token = overdue_customer(amounts=("100.00",))
    first = tomorrow(link)

    response = client.get(
        plan_url(token, "portal:plan_request_schedule"),
        {"count": "4", "every": "week", "first_date": first.isoformat()},
    )

    text = response.content.decode()
    assert "4 payments" in text
    assert text.count("£25.00") == 4
    assert "<html" not in text  # the partial alone


def test_the_live_schedule_says_what_to_fill_in_when_the_fields_are_wrong(client):
    link, token = overdue_customer()

    response = client.get(
        plan_url(token, "portal:plan_request_schedule"),
        {"count": "40", "every": "month", "first_date": tomorrow(link).isoformat()},
    )

    assert "to see your schedule" in response.content.decode()


def test_sending_the_form_asks_and_the_page_shows_the_request_waiting(client):
    link, token = overdue_customer()
    data = {"count": "2", "every": "fortnight", "first_date": tomorrow(link).isoformat()}

    response = client.post(plan_url(token), {**data, "send": "1"})

    assert response.status_code == 302
    request = CustomerRequest.objects.get()
    assert request.proposal["every"] == "fortnight"
    page = client.get(response["Location"]).content.decode()
    assert "Your requests" in page and "Waiting for a decision" in page
    assert "we have your request" in page


def test_a_bad_number_of_instalments_is_shown_in_the_form_and_nothing_is_asked(client):
    link, token = overdue_customer()
    data = {"count": "13", "every": "month", "first_date": tomorrow(link).isoformat()}

    response = client.post(plan_url(token), {**data, "send": "1"})

    assert response.status_code == 200
    assert "less than or equal to 12" in response.content.decode()
    assert not CustomerRequest.objects.exists()


def test_showing_the_schedule_without_javascript_asks_nothing(client):
    link, token = overdue_customer(amounts=("100.00",))
    data = {"count": "5", "every": "month", "first_date": tomorrow(link).isoformat()}

    response = client.post(plan_url(token), {**data, "preview": "1"})

    assert response.content.decode().count("£20.00") == 5
    assert not CustomerRequest.objects.exists()


def test_the_plan_page_says_why_it_cannot_ask_again(client):
    link, token = overdue_customer()
    ask(link)

    response = client.get(plan_url(token))

    text = response.content.decode()
    assert "we will answer it soon" in text
    assert 'name="send"' not in text


def test_another_customers_offer_gets_the_plain_404(client):
    link, token = overdue_customer()
    other, _other_token = overdue_customer()
    theirs = ask(other)
    CustomerRequest.objects.filter(pk=theirs.pk).update(
        status=RequestStatus.COUNTERED, counter=theirs.proposal
    )

    foreign = client.get(reverse("portal:request_accept", args=[token, theirs.pk]))
    forged = client.get(reverse("portal:page", args=["x" * 43]))

    assert foreign.status_code == 404 and foreign.content == forged.content
    assert not PaymentPlan.objects.exists()
