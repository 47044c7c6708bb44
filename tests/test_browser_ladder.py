"""Control of the ladder in the browser: an admin adds a policy rule and the customer page
says which rule chose the policy; a collector moves a customer to a step, with a reason,
and the next step says who moved it and why."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.roles import ADMIN, COLLECTOR
from audit.models import AuditEvent
from dunning.models import Chase, ChaseStatus, Policy
from dunning.policy_services import policy_copy
from invoices.tests.factories import ContactFactory, CustomerFactory
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user
from tests.test_browser_workspace import owes

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_an_admin_adds_a_rule_and_the_customer_page_names_it(
    live_server, browser_page, artifacts, django_user_model
):
    user(django_user_model, "ada", ADMIN)
    gentle = policy_copy(actor=None, name="Gentle", source=Policy.objects.get(is_default=True))
    consumer = CustomerFactory(name="Ruth Reader", debtor_type="consumer", country="GB")
    page = browser_page
    log_in(page, live_server.url, "ada", "pw-ada-123")

    page.goto(live_server.url + reverse("dunning:policy_list"))
    page.get_by_role("link", name="Policy rules").click()
    page.get_by_label("Debtor type").select_option(label="Consumer")
    page.get_by_label("Country (two-letter code)").fill("gb")
    page.get_by_label("Follow policy").select_option(label=gentle.name)
    page.get_by_role("button", name="Add the rule").click()
    expect(page.locator("table")).to_contain_text("Gentle")
    page.screenshot(path=artifacts / "ladder-rules-1280.png", full_page=True)
    found = axe_violations(page)
    assert not found, violations_report("the policy rules", found)

    page.goto(live_server.url + reverse("customer_detail", args=[consumer.pk]))
    expect(page.locator(".customer-facts")).to_contain_text("by rule 1: consumers in GB")


@pytest.mark.django_db(transaction=True)
def test_a_collector_moves_a_customer_to_the_final_demand_with_a_reason(
    live_server, browser_page, artifacts, django_user_model
):
    colin = user(django_user_model, "colin", COLLECTOR)
    harbour = CustomerFactory(name="Harbour Foods Ltd", collector=colin, timezone="UTC")
    ContactFactory(customer=harbour, address="Harbour Foods\n1 Quay\nHull")
    owes(harbour, "INV-0042", days=12, amount="1200.00")
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")

    page.goto(live_server.url + reverse("customer_detail", args=[harbour.pk]))
    page.get_by_role("heading", name="Harbour Foods Ltd").wait_for()
    page.keyboard.press("g")  # move on the ladder, in place
    form = page.locator("#action-area form")
    form.get_by_label("Move to step").select_option(label="6. Final demand")
    form.get_by_label("Why").fill("Agreed with the sales director: no more reminders")
    form.get_by_role("button", name="Move").click()

    expect(page.get_by_text("Moved to step 6 (Final demand)").first).to_be_visible()
    expect(page.get_by_text("Agreed with the sales director").first).to_be_visible()
    page.screenshot(path=artifacts / "ladder-moved-1280.png", full_page=True)
    chase = Chase.objects.get(customer=harbour, status=ChaseStatus.ACTIVE)
    assert (chase.start_position, chase.moved_by) == (6, colin)
    moved = AuditEvent.objects.filter(action="dunning.chase.moved_to_step", customer_id=harbour.pk)
    assert moved.exists()
