"""A new finance team keeps its own records: a collector creates a customer in the browser,
gives them a postal contact, and finds both on the customer page."""

import pytest
from django.urls import reverse

from accounts.roles import COLLECTOR
from invoices.models import Customer
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_a_collector_creates_a_customer_with_a_postal_contact(
    live_server, browser_page, artifacts, django_user_model
):
    colin = user(django_user_model, "colin", COLLECTOR)
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")

    page.goto(live_server.url + reverse("customer_list"))
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Name", exact=True).fill("Lantern Books Ltd")
    page.get_by_label("External id").fill("LB-001")
    page.get_by_label("Debtor type").select_option(label="Sole trader")
    page.get_by_label("Region").fill("Yorkshire")
    page.get_by_label("Credit limit").fill("2500.00")
    page.screenshot(path=artifacts / "records-new-customer-1280.png", full_page=True)
    page.get_by_role("button", name="Create the customer").click()

    page.get_by_role("heading", name="Lantern Books Ltd").wait_for()
    page.get_by_role("link", name="Add contact").click()
    form = page.locator("#action-area form")
    form.get_by_label("Name", exact=True).fill("Pat Post")
    form.get_by_label("Role", exact=True).select_option(label="Legal")
    form.get_by_label("Postal address").fill("Lantern Books\n1 Quay Street\nWhitby\nYO21 1AA")
    form.get_by_label("Primary for its role").check()
    form.get_by_role("button", name="Add the contact").click()

    page.locator(".message-success", has_text="Contact Pat Post added.").wait_for()
    address = page.get_by_test_id("contact-address")
    assert address.inner_text().splitlines() == [
        "Lantern Books",
        "1 Quay Street",
        "Whitby",
        "YO21 1AA",
    ]
    customer = Customer.objects.get(external_id="LB-001")
    assert customer.collector == colin
    assert customer.contacts.get().role == "legal"
    page.screenshot(path=artifacts / "records-customer-1280.png", full_page=True)
    page.set_viewport_size({"width": 768, "height": 900})
    page.get_by_test_id("contact-address").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "records-customer-768.png", full_page=True)
