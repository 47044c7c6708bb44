"""A customer opens the page behind their message on a phone and at a desk: their open
invoices, payments and a statement, readable and accessible at both widths."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import COLLECTOR
from invoices.models import Payment
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_collector_makes_a_link_and_the_customer_reads_their_page_on_a_phone(
    live_server, browser_page, artifacts, django_user_model
):
    colin = user(django_user_model, "colin", COLLECTOR)
    customer = CustomerFactory(collector=colin, name="Harbour Teas Ltd")
    contact = ContactFactory(customer=customer, name="Ada Payables")
    today = dt.date.today()
    for n in range(3):
        InvoiceFactory(
            customer=customer,
            number=f"HT-{n}",
            issue_date=today - dt.timedelta(days=60),
            due_date=today - dt.timedelta(days=30 - n),
        )
    Payment.objects.create(
        customer=customer,
        amount=Decimal("75.00"),
        unapplied=Decimal("75.00"),
        received_on=today,
        currency=customer.currency,
        reference="BACS 1234",
    )
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    page.get_by_role("button", name=f"Customer page link for {contact}").click()
    shown = page.locator(".message-success").inner_text()
    url = re.search(r"https?://\S+/c/[\w-]+/", shown).group(0)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]

    page.context.clear_cookies()  # the customer has no session
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + path)

    page.get_by_role("heading", name="Your account: Harbour Teas Ltd").wait_for()
    items = page.get_by_test_id("portal-invoices").locator(":scope > li")
    assert items.count() == 3
    assert "BACS 1234" in page.get_by_test_id("portal-payments").inner_text()
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    found = axe_violations(page)
    assert not found, violations_report("the customer's page at 375 px", found)
    page.screenshot(path=artifacts / "portal-page-375.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download a statement of account (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + path)
    found = axe_violations(page)
    assert not found, violations_report("the customer's page at 1280 px", found)
    page.screenshot(path=artifacts / "portal-page-1280.png", full_page=True)

    page.goto(live_server.url + reverse("portal:page", args=["forged-" + "x" * 40]))
    assert page.get_by_role("heading", name="Page not found").is_visible()
    page.screenshot(path=artifacts / "portal-not-found-375.png", full_page=True)
