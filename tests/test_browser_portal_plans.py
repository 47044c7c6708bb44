"""A customer asks for a payment plan on their phone, watching the schedule change as they
choose; a collector approves it (or offers another schedule, which the customer accepts on
their page); chasing pauses for the plan, and the queue and the timeline say so."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.models import PaymentPlan, PlanStatus, QueueEntry
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.models import CustomerRequest, RequestStatus
from portal.plans import customer_today, plan_request_make
from portal.services import portal_link_make
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 900}


def _customer(colin):
    customer = CustomerFactory(collector=colin, name="Harbour Teas Ltd")
    contact = ContactFactory(customer=customer, name="Ada Payables")
    today = customer_today(customer, timezone.now())
    for n in range(3):
        InvoiceFactory(
            customer=customer,
            number=f"HT-{n}",
            issue_date=today - dt.timedelta(days=60),
            due_date=today - dt.timedelta(days=30),
            amount=Decimal("100.00"),
        )
    link, url = portal_link_make(customer=customer, contact=contact, now=timezone.now())
    return link, "/" + url.split("://", 1)[1].split("/", 1)[1]


def _fits_and_passes_axe(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not axe_violations(page), violations_report(axe_violations(page))


def _as_collector(page, live_server):
    page.set_viewport_size(DESK)
    log_in(page, live_server.url, "colin", "pw-colin-123")


def _check_plan_pauses_chasing(page, live_server, customer, *, instalments):
    plan = PaymentPlan.objects.get(customer=customer, status=PlanStatus.ACTIVE)
    assert plan.instalments.count() == instalments
    entry = QueueEntry.objects.get(customer=customer)
    assert entry.plan and "plan" in entry.paused_by.lower()
    page.goto(live_server.url + reverse("queue") + "?flag=plan")
    page.get_by_role("link", name="Harbour Teas Ltd").first.wait_for()
    assert "Requests (0 waiting)" in page.get_by_test_id("requests-link").inner_text()


def test_a_customer_asks_for_a_plan_on_a_phone_and_a_collector_approves_it(
    live_server, browser_page, artifacts, django_user_model
):
    colin = user(django_user_model, "colin", COLLECTOR)
    link, path = _customer(colin)
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + path)

    page.get_by_role("link", name="Ask to pay in instalments (a payment plan)").click()
    page.get_by_role("heading", name="Ask for a payment plan").wait_for()
    schedule = page.get_by_test_id("plan-schedule")
    assert schedule.locator("tbody tr").count() == 3
    assert "£300.00" in page.get_by_test_id("plan-total").inner_text()
    _fits_and_passes_axe(page)

    # The schedule follows each field as the customer changes it (htmx, server-rendered).
    page.get_by_label("Number of instalments").fill("6")
    page.get_by_text("6 payments, £300.00 in all").wait_for()
    assert schedule.locator("tbody tr").count() == 6
    first = customer_today(link.customer, timezone.now()) + dt.timedelta(days=10)
    page.get_by_label("First payment on").fill(first.isoformat())
    page.get_by_label("How often").select_option("week")
    second = first + dt.timedelta(weeks=1)
    page.get_by_role("cell", name=f"{second.day} {second:%b %Y}").wait_for()
    page.get_by_label("Number of instalments").fill("7")
    page.get_by_text("7 payments, £300.00 in all").wait_for()
    # £300.00 / 7: six of £42.85, the remainder on the last.
    assert schedule.locator("tbody tr").last.inner_text().endswith("£42.90")
    _fits_and_passes_axe(page)
    page.screenshot(path=artifacts / "plans-ask-live-schedule-375.png", full_page=True)

    page.get_by_role("button", name="Send my request").click()
    page.get_by_role("heading", name="Your requests").wait_for()
    assert "Waiting for a decision" in page.get_by_test_id("portal-requests").inner_text()
    _fits_and_passes_axe(page)
    page.screenshot(path=artifacts / "plans-asked-page-375.png", full_page=True)

    page.context.clear_cookies()
    _as_collector(page, live_server)
    page.goto(live_server.url + reverse("queue"))
    page.get_by_role("link", name="Requests (1 waiting)").click()
    page.get_by_role("link", name="Decide the payment plan request from Harbour Teas Ltd").click()
    page.get_by_role("heading", name="Payment plan request from Harbour Teas Ltd").wait_for()
    assert not axe_violations(page), violations_report(axe_violations(page))
    page.screenshot(path=artifacts / "plans-collector-decides-1280.png", full_page=True)
    page.get_by_label("Note to the customer").first.fill("Agreed: thank you.")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Payment plan request from Harbour Teas Ltd approved.").wait_for()

    assert CustomerRequest.objects.get().status == RequestStatus.APPROVED
    _check_plan_pauses_chasing(page, live_server, link.customer, instalments=7)
    page.goto(live_server.url + reverse("customer_detail", args=[link.customer.pk]))
    page.get_by_text("Payment plan request approved").first.wait_for()
    page.get_by_text("Agreed: thank you.").first.wait_for()
    page.get_by_text("Asked for a payment plan: £300.00 in 7 instalments").first.wait_for()
    page.screenshot(path=artifacts / "plans-timeline-1280.png", full_page=True)


def test_a_collector_counters_and_the_customer_accepts_on_their_phone(
    live_server, browser_page, artifacts, django_user_model
):
    colin = user(django_user_model, "colin", COLLECTOR)
    link, path = _customer(colin)
    today = customer_today(link.customer, timezone.now())
    plan_request_make(
        link=link,
        count=2,
        first_date=today + dt.timedelta(days=1),
        every="month",
        message="Two payments would suit us.",
        now=timezone.now(),
    )
    page = browser_page
    _as_collector(page, live_server)
    page.goto(live_server.url + reverse("portal:requests"))
    page.get_by_role("link", name="Decide the payment plan request from Harbour Teas Ltd").click()
    counter = page.get_by_role("region", name="Offer something else")
    counter.get_by_label("Instalments").fill("3")
    counter.get_by_label("First instalment on").fill((today + dt.timedelta(days=7)).isoformat())
    counter.get_by_label("Note to the customer").fill("Three months, starting next week.")
    counter.get_by_role("button", name="Send this offer").click()
    page.get_by_text("answered with your offer").wait_for()
    assert CustomerRequest.objects.get().status == RequestStatus.COUNTERED

    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + path)
    requests = page.get_by_test_id("portal-requests")
    assert "Three months, starting next week." in requests.inner_text()
    page.get_by_role("link", name="See our offer and accept it").click()
    page.get_by_role("heading", name="Our offer: payment plan").wait_for()
    assert page.get_by_test_id("plan-schedule").locator("tbody tr").count() == 3
    _fits_and_passes_axe(page)
    page.screenshot(path=artifacts / "plans-offer-375.png", full_page=True)
    page.get_by_role("button", name="Accept this offer").click()
    page.get_by_text("you accepted our offer and it is now agreed").wait_for()
    assert "Approved" in page.get_by_test_id("portal-requests").inner_text()
    _fits_and_passes_axe(page)
    page.screenshot(path=artifacts / "plans-offer-accepted-375.png", full_page=True)

    assert CustomerRequest.objects.get().status == RequestStatus.APPROVED
    _as_collector(page, live_server)
    _check_plan_pauses_chasing(page, live_server, link.customer, instalments=3)
    page.goto(live_server.url + reverse("customer_detail", args=[link.customer.pk]))
    page.get_by_text("Customer accepted the offer on their payment plan request").first.wait_for()
