"""On a phone, a customer corrects their email on their page; a collector approves the change
and sees it on the customer's page and timeline. A consumer stops collection email."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR
from invoices.models import Contact, DebtorType
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.models import CustomerRequest, RequestStatus
from portal.services import portal_link_make
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 812}


def _page_path(contact) -> str:
    _link, url = portal_link_make(customer=contact.customer, contact=contact, now=timezone.now())
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _fits_and_is_accessible(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    found = axe_violations(page)
    assert not found, violations_report(page.url, found)


def test_a_customer_corrects_their_email_and_a_collector_approves_it(
    live_server, browser_page, artifacts, django_user_model
):
    colin = user(django_user_model, "colin", COLLECTOR)
    customer = CustomerFactory(collector=colin, name="Harbour Teas Ltd")
    contact = ContactFactory(customer=customer, name="Ada Payables", email="ada@old.example")
    InvoiceFactory(customer=customer, due_date=dt.date.today() - dt.timedelta(days=20))
    page = browser_page
    page.set_viewport_size(PHONE)

    page.goto(live_server.url + _page_path(contact))
    page.get_by_role("link", name="Check or correct your contact details").click()
    page.get_by_role("heading", name="Your contact details").wait_for()
    assert "ada@old.example" in page.get_by_test_id("contact-held").inner_text()
    _fits_and_is_accessible(page)
    page.screenshot(path=artifacts / "portal-contacts-details-375.png", full_page=True)

    page.get_by_label("Email address").fill("ada@new.example")
    page.get_by_label("Anything we should know? (optional)").fill("The old mailbox is closed.")
    page.get_by_role("button", name="Send my corrected details").click()
    page.get_by_role("status").wait_for()
    assert "we will check your corrected details" in page.get_by_role("status").inner_text()
    assert "ada@new.example" in page.get_by_test_id("contact-waiting").inner_text()
    assert Contact.objects.get(pk=contact.pk).email == "ada@old.example"  # not yet
    _fits_and_is_accessible(page)
    page.screenshot(path=artifacts / "portal-contacts-waiting-375.png", full_page=True)

    asked = CustomerRequest.objects.get()
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("portal:request_detail", args=[asked.pk]))
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Contact details request from Harbour Teas Ltd approved").wait_for()
    asked.refresh_from_db()
    assert asked.status == RequestStatus.APPROVED

    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    body = page.locator("main").inner_text()
    assert "ada@new.example" in body
    assert "asked on the customer page to correct their details" in body
    page.screenshot(path=artifacts / "portal-contacts-approved-1280.png", full_page=True)


def test_a_consumer_stops_collection_email_from_their_page(
    live_server, browser_page, artifacts, django_user_model
):
    customer = CustomerFactory(
        name="Sam Rivera", debtor_type=DebtorType.CONSUMER, country="US", currency="USD"
    )
    contact = ContactFactory(customer=customer, name="Sam Rivera")
    for n in range(30):
        InvoiceFactory(customer=customer, due_date=dt.date.today() - dt.timedelta(days=40 - n))
    page = browser_page
    page.set_viewport_size(PHONE)

    page.goto(live_server.url + _page_path(contact))
    # A long account comes a page at a time, with page links that fit the phone.
    invoices = page.get_by_test_id("portal-invoices").locator(":scope > li")
    assert invoices.count() == 25
    pages = page.get_by_role("navigation", name="Pages of open invoices")
    pages.get_by_role("link", name="Next page").click()
    page.wait_for_url("**invoices_page=2**")
    assert invoices.count() == 5
    _fits_and_is_accessible(page)
    page.screenshot(path=artifacts / "portal-contacts-page-2-375.png", full_page=True)
    page.get_by_role("link", name="Stop collection emails").click()
    page.get_by_role("heading", name="Stop collection emails").wait_for()
    assert "Regulation F" in page.locator("main").inner_text()
    _fits_and_is_accessible(page)
    page.screenshot(path=artifacts / "portal-contacts-opt-out-375.png", full_page=True)

    page.get_by_role("button", name="Stop collection emails").click()
    page.get_by_test_id("opt-out-done").wait_for()
    assert not page.get_by_role("button", name="Stop collection emails").count()
    assert Contact.objects.get(pk=contact.pk).email_opt_out
    _fits_and_is_accessible(page)
    page.screenshot(path=artifacts / "portal-contacts-opted-out-375.png", full_page=True)
