"""Pay now: the section on the customer's page, and opening a Stripe Checkout session
through the official library against the stand-in."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from invoices.models import InvoiceStatus
from invoices.tests.factories import InvoiceFactory
from portal.models import CheckoutSession, CheckoutStatus
from portal.payments.stripe.client import from_minor, to_minor

from .world import Account

pytestmark = pytest.mark.django_db


def _start(client, account, invoices):
    return client.post(account.url("portal:pay"), {"invoice": [i.pk for i in invoices]})


def test_the_page_offers_pay_now_with_every_open_invoice_ticked(client, account, stripe_ready):
    page = client.get(account.url()).content.decode()
    assert 'id="pay-title">Pay now</h2>' in page
    for invoice in account.invoices:
        assert f'value="{invoice.pk}"' in page
    assert page.count("checked") == 2
    assert "£250.50" in page


def test_without_a_stripe_key_there_is_no_pay_now_button(client, account, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENT_LINK_URL = ""
    assert "Pay now" not in client.get(account.url()).content.decode()


def test_the_firms_payment_link_is_shown_when_set(client, account, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENT_LINK_URL = "https://pay.example.com/dunmore"
    page = client.get(account.url()).content.decode()
    assert 'href="https://pay.example.com/dunmore"' in page
    assert 'name="invoice"' not in page.split('id="pay-title"')[1].split("</section>")[0]


def test_pay_now_opens_a_checkout_for_the_open_balances_in_minor_units(client, account, stand_in):
    response = _start(client, account, account.invoices)

    checkout = CheckoutSession.objects.get()
    assert response.status_code == 303
    assert response["Location"] == stand_in.sessions[checkout.session_id]["url"]
    assert checkout.session_id.startswith("cs_test_")
    assert (checkout.amount, checkout.currency) == (Decimal("250.50"), "GBP")
    assert checkout.invoice_ids == [i.pk for i in account.invoices]
    sent = stand_in.created[0]
    assert sent["line_items"][0]["price_data"]["unit_amount"] == "25050"
    assert sent["line_items"][0]["price_data"]["currency"] == "gbp"
    assert sent["success_url"].endswith(account.url("portal:pay_done", checkout.pk))
    assert sent["metadata"]["checkout_id"] == str(checkout.pk)
    assert sent["customer_email"] == account.contact.email
    assert "payment_method_types" not in sent  # Stripe's dynamic methods
    event = AuditEvent.objects.get(action="portal.payment.started")
    assert event.data["via"] == "customer_page" and event.data["link_id"] == account.link.pk
    assert event.actor_label == "customer page"


def test_the_firms_chosen_payment_methods_are_sent(client, account, stand_in, settings):
    settings.STRIPE_PAYMENT_METHODS = ["card", "bacs_debit"]
    _start(client, account, account.invoices[:1])
    assert stand_in.created[0]["payment_method_types"] == ["card", "bacs_debit"]
    assert stand_in.created[0]["line_items"][0]["price_data"]["unit_amount"] == "10000"


def test_a_yen_balance_goes_to_stripe_without_decimals(client, stand_in):
    account = Account(currency="JPY", amounts=(Decimal("5000.00"),))
    _start(client, account, account.invoices)
    assert stand_in.created[0]["line_items"][0]["price_data"]["unit_amount"] == "5000"
    assert stand_in.created[0]["line_items"][0]["price_data"]["currency"] == "jpy"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "GBP", 1234),
        ("5000.00", "JPY", 5000),
        ("1.20", "BHD", 1200),
        ("700.00", "ISK", 70000),  # Stripe's two-decimal special case
    ],
)
def test_amounts_go_to_stripe_in_its_minor_units_and_come_back(amount, currency, minor):
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


def test_a_fraction_a_currency_cannot_carry_is_refused_not_rounded():
    with pytest.raises(ValueError):
        to_minor(Decimal("10.50"), "JPY")


def test_another_customers_invoice_gives_the_one_404(client, account, stand_in):
    theirs = InvoiceFactory()
    response = _start(client, account, [account.invoices[0], theirs])
    forged = client.get("/c/" + "x" * 43 + "/pay/")
    assert response.status_code == 404
    assert response.content == forged.content
    assert not CheckoutSession.objects.exists() and not stand_in.created


def test_a_paid_invoice_is_refused_with_a_message_and_nothing_starts(client, account, stand_in):
    paid = account.invoices[0]
    paid.status, paid.open_balance = InvoiceStatus.PAID, Decimal("0.00")
    paid.save()
    response = _start(client, account, account.invoices)
    assert response.status_code == 200
    assert "already paid" in response.content.decode()
    assert not CheckoutSession.objects.exists() and not stand_in.created


def test_choosing_no_invoice_asks_for_one(client, account, stand_in):
    response = client.post(account.url("portal:pay"), {})
    assert "Choose at least one invoice to pay." in response.content.decode()
    assert not stand_in.created


def test_when_stripe_is_down_the_customer_is_told_and_nothing_is_left_open(
    client, account, stand_in
):
    stand_in.fail_api = True
    response = _start(client, account, account.invoices)
    assert "Card payments are not available just now" in response.content.decode()
    assert CheckoutSession.objects.get().status == CheckoutStatus.EXPIRED
    assert not AuditEvent.objects.filter(action="portal.payment.started").exists()


def test_the_choose_page_lists_what_is_open(client, account, stripe_ready):
    page = client.get(account.url("portal:pay")).content.decode()
    assert "<h1>Pay now</h1>" in page
    assert account.invoices[1].number in page


def test_an_invoice_in_dispute_is_offered_but_not_ticked(client, account, stripe_ready):
    disputed = account.invoices[0]
    disputed.status = InvoiceStatus.IN_DISPUTE
    disputed.save()
    page = client.get(account.url()).content.decode()
    assert f"{disputed.number}: £100.00 (in dispute)" in page
    assert page.count("checked") == 1
    assert "Open invoices together: <strong>£150.50</strong>" in page
