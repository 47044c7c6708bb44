"""A customer pays two invoices from their page on a phone, through Stripe Checkout (a
stand-in on the loopback, its event signed Stripe's way and slower than the browser), and
sees their receipt; chasing stops at once and the collector sees the payment."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.models import ChaseStatus, QueueEntry, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.queue import queue_refresh
from invoices.models import Allocation, InvoiceStatus, Payment
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from portal.models import CheckoutSession, CheckoutStatus, Confirmation
from portal.payments.tests.stripe_stand_in import StripeStandIn
from portal.payments.tests.world import weekday_morning_before_today
from portal.services import portal_link_make
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

API_KEY = "sk_test_dunmore_browser"
WEBHOOK_SECRET = "whsec_test_dunmore_browser"


def _accessible(page, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, violations_report(where, violations)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.fixture
def stripe_stand_in(live_server, settings):
    with StripeStandIn(
        api_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        webhook=live_server.url + reverse("portal:stripe_webhook"),
    ) as stand_in:
        settings.STRIPE_SECRET_KEY = API_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = stand_in.url
        settings.STRIPE_PAYMENT_METHODS = []
        settings.PAYMENT_LINK_URL = ""
        settings.SITE_URL = live_server.url  # where Stripe sends the customer back
        yield stand_in


def test_a_customer_pays_two_invoices_on_a_phone_and_chasing_stops(
    live_server, browser_page, artifacts, django_user_model, stripe_stand_in
):
    colin = user(django_user_model, "colin", COLLECTOR)
    customer = CustomerFactory(collector=colin, name="Harbour Teas Ltd")
    contact = ContactFactory(customer=customer, name="Ada Payables")
    today = timezone.localdate()
    invoices = [
        InvoiceFactory(
            customer=customer,
            number=f"HT-{n}",
            amount=amount,
            issue_date=today - dt.timedelta(days=70),
            due_date=today - dt.timedelta(days=40 - n),
        )
        for n, amount in ((1, Decimal("120.00")), (2, Decimal("80.25")))
    ]
    dunning_run(as_of=weekday_morning_before_today())
    queue_refresh(customer_ids=[customer.pk])
    assert QueueEntry.objects.filter(customer=customer).exists()
    assert Touch.objects.filter(customer=customer, status=TouchStatus.PENDING).exists()
    _link, url = portal_link_make(customer=customer, contact=contact, now=timezone.now())
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    stripe_stand_in.delivery_delay = 1.5  # the customer is back before Stripe's event

    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + path)
    section = page.get_by_test_id("pay-now")
    section.get_by_role("heading", name="Pay now").wait_for()
    assert section.get_by_label("HT-1: £120.00").is_checked()
    assert section.get_by_label("HT-2: £80.25").is_checked()
    assert "£200.25" in section.inner_text()
    _accessible(page, "the customer's page with Pay now")
    section.screenshot(path=artifacts / "pay-section-375.png")

    section.get_by_role("button", name="Pay now").click()
    page.get_by_role("heading", name="Pay 200.25 GBP").wait_for()
    page.screenshot(path=artifacts / "pay-stand-in-checkout-375.png")
    page.get_by_role("button", name="Pay").click()

    page.get_by_role("heading", name="We are confirming your payment").wait_for()
    _accessible(page, "the receipt while the payment is confirmed")
    page.screenshot(path=artifacts / "pay-confirming-375.png", full_page=True)
    page.get_by_role("heading", name="Payment received").wait_for()  # htmx polled it
    receipt = page.get_by_test_id("receipt-invoices").inner_text()
    assert "HT-1: £120.00" in receipt and "HT-2: £80.25" in receipt
    assert page.get_by_test_id("receipt-amount").inner_text() == "£200.25"
    _accessible(page, "the receipt")
    page.screenshot(path=artifacts / "pay-receipt-375.png", full_page=True)

    payment = Payment.objects.get(customer=customer)
    assert payment.amount == Decimal("200.25") and payment.unapplied == 0
    assert Allocation.objects.filter(payment=payment).count() == 2
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
    checkout = CheckoutSession.objects.get(customer=customer)
    assert checkout.status == CheckoutStatus.PAID and checkout.payment == payment
    assert [status for _id, status in stripe_stand_in.deliveries] == [200]
    assert not QueueEntry.objects.filter(customer=customer).exists()
    assert not customer.chases.filter(status=ChaseStatus.ACTIVE).exists()
    assert not Touch.objects.filter(customer=customer, status=TouchStatus.PENDING).exists()
    assert Confirmation.objects.filter(key=f"payment:{payment.pk}", contact=contact).exists()

    # Back on their page: nothing open, no Pay now, the payment listed.
    page.goto(live_server.url + path)
    assert page.get_by_test_id("pay-now").count() == 0
    assert payment.reference in page.get_by_test_id("portal-payments").inner_text()

    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    timeline = page.locator("#timeline")
    assert "Payment of £200.25 paid online by Ada Payables" in timeline.inner_text()
    page.screenshot(path=artifacts / "pay-collector-timeline.png", full_page=True)
