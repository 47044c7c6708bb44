"""The customer page's lists come PER_PAGE at a time, so a customer with hundreds of
invoices still gets a fast page: the same queries whatever the number of rows."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from invoices.models import Payment
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.selectors import PER_PAGE
from portal.services import portal_link_make

pytestmark = pytest.mark.django_db
DUE = dt.date(2026, 1, 1)


@pytest.fixture(autouse=True)
def _fresh_limits():
    # The limits count per IP in the cache: leave none counted for the tests that follow.
    cache.clear()
    yield
    cache.clear()


def _customer_with(invoices: int = 0, payments: int = 0):
    customer = CustomerFactory()
    for n in range(invoices):
        InvoiceFactory(
            customer=customer,
            number=f"INV-{customer.pk}-{n:04d}",
            due_date=DUE + dt.timedelta(days=n),
            issue_date=DUE - dt.timedelta(days=30),
            amount=Decimal("10.00"),
        )
    for n in range(payments):
        Payment.objects.create(
            customer=customer,
            amount=Decimal("1.00"),
            unapplied=Decimal("1.00"),
            received_on=DUE + dt.timedelta(days=n),
            currency=customer.currency,
            reference=f"PAY-{n:04d}",
        )
    contact = ContactFactory(customer=customer)
    _link, url = portal_link_make(customer=customer, contact=contact, now=timezone.now())
    return customer, reverse("portal:page", args=[url.rstrip("/").rsplit("/", 1)[1]])


def _numbers(html: str, prefix: str = "INV") -> list[str]:
    # Invoice numbers without their customer part: INV-<customer>-0001 -> INV-0001.
    return [f"{prefix}-{n}" for n in re.findall(rf"<strong>{prefix}-\d+-(\d+)</strong>", html)]


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_long_list_shows_one_page_with_the_total_of_all(client):
    _customer, url = _customer_with(invoices=60)

    html = client.get(url).text

    assert _numbers(html) == [f"INV-{n:04d}" for n in range(PER_PAGE)]
    assert "1–25 of 60 open invoices" in html and "page 1 of 3" in html
    assert "600.00" in html  # the total open is of every invoice, not of the page


def test_the_next_page_link_shows_the_next_invoices(client):
    _customer, url = _customer_with(invoices=60)
    html = client.get(url).text
    next_page = re.search(r'rel="next" href="([^"#]+)#open-title"', html).group(1)

    html = client.get(url + next_page.replace("&amp;", "&")).text

    assert _numbers(html)[0] == "INV-0025" and len(_numbers(html)) == PER_PAGE
    assert 'rel="prev"' in html and "26–50 of 60" in html


def test_a_page_past_the_end_shows_the_last_page_and_nonsense_the_first(client):
    _customer, url = _customer_with(invoices=30)

    assert _numbers(client.get(url + "?invoices_page=9").text)[-1] == "INV-0029"
    assert _numbers(client.get(url + "?invoices_page=x").text)[0] == "INV-0000"


def test_each_list_keeps_its_own_page(client):
    _customer, url = _customer_with(invoices=30, payments=30)

    html = client.get(url + "?payments_page=2").text

    assert _numbers(html)[0] == "INV-0000"  # invoices still on their first page
    assert "PAY-0004" in html and "PAY-0029" not in html  # newest first: 26th–30th newest
    assert "invoices_page=2&amp;payments_page=2" in html or (
        "payments_page=2&amp;invoices_page=2" in html
    )


def test_the_page_costs_the_same_queries_with_200_invoices_as_with_30(client):
    _small, small_url = _customer_with(invoices=30, payments=30)
    _large, large_url = _customer_with(invoices=200, payments=200)

    small = _queries(client, small_url)
    cache.clear()
    large = _queries(client, large_url)
    cache.clear()
    later_page = _queries(client, large_url + "?invoices_page=5&payments_page=3")

    assert small == large == later_page
