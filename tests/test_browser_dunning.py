"""An admin changes the default ladder; a collector records a promise and sees the pause."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.roles import ADMIN, COLLECTOR
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def log_in(page, url, username, password):
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def user(django_user_model, username, role):
    account = django_user_model.objects.create_user(
        username=username, password=f"pw-{username}-123", first_name=username.title()
    )
    account.groups.add(Group.objects.get(name=role))
    return account


@pytest.mark.django_db(transaction=True)
def test_an_admin_edits_the_default_policy_and_sees_version_two(
    live_server, browser_page, artifacts, django_user_model
):
    user(django_user_model, "ada", ADMIN)
    page = browser_page
    log_in(page, live_server.url, "ada", "pw-ada-123")

    page.get_by_role("link", name="Policies").click()
    page.wait_for_url("**/policies/")
    page.screenshot(path=artifacts / "dunning-01-policies.png", full_page=True)
    page.get_by_role("link", name="Standard").click()
    page.get_by_role("link", name="Edit steps").click()
    page.get_by_label("Offset (days) of step 3").fill("8")
    page.get_by_label("What changed and why").fill("Second reminder a day later")
    page.screenshot(path=artifacts / "dunning-02-policy-edit.png", full_page=True)
    page.get_by_role("button", name="Save as a new version").click()

    page.wait_for_url("**/policies/*/")
    assert page.get_by_text("Saved as Standard v2.").is_visible()
    assert page.get_by_role("heading", name="Version 2 Current").is_visible()
    page.screenshot(path=artifacts / "dunning-03-policy-v2.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_collector_records_a_promise_and_the_customer_is_paused(
    live_server, browser_page, artifacts, django_user_model
):
    collector = user(django_user_model, "colin", COLLECTOR)
    today = timezone.localdate()
    customer = CustomerFactory(name="Harbour Foods Ltd", collector=collector)
    ContactFactory(customer=customer, name="Payables at Harbour Foods")
    InvoiceFactory(
        customer=customer,
        number="INV-0042",
        issue_date=today - dt.timedelta(days=50),
        due_date=today - dt.timedelta(days=20),
    )
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    next_step = page.locator("#next-step")
    next_step.get_by_role("heading", name="Next step").wait_for()
    assert next_step.get_by_text("Paused", exact=True).count() == 0
    page.screenshot(path=artifacts / "dunning-04-customer-next-step.png", full_page=True)

    page.keyboard.press("p")  # the promise form opens in place
    promise = page.locator("#action-area form")
    promise.get_by_label("Amount").fill("100.00")
    promise.get_by_label("Promised for").fill((today + dt.timedelta(days=7)).isoformat())
    promise.get_by_label("INV-0042").check()
    promise.get_by_role("button", name="Record the promise").click()

    page.get_by_text("Promise recorded").wait_for()
    paused = page.locator("#next-step").get_by_text("Paused", exact=True)
    paused.wait_for()
    assert paused.is_visible()
    page.locator("#next-step").screenshot(path=artifacts / "dunning-05-customer-paused.png")
