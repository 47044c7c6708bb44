"""A collector's inbox: a reply promising to pay is confirmed in one click, which opens the
promise form filled in from the reply; the reply then shows under Handled."""

import datetime as dt
from decimal import Decimal
from email.message import EmailMessage

import pytest
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.models import PromiseToPay
from inbox.parsing import mail_from_message
from inbox.services import inbound_store
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from tests.a11y import axe_violations
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _reply_from(contact, text: str):
    message = EmailMessage()
    message["From"] = f"{contact.name} <{contact.email}>"
    message["To"] = "collections@example.com"
    message["Subject"] = "Re: Invoice INV-0042 is overdue"
    message["Message-ID"] = "<promise-1@harbour.example.com>"
    message.set_content(f"{text}\n\nOn Monday, Collections wrote:\n> Please pay INV-0042")
    return inbound_store(mail=mail_from_message(message), source="imap", mailbox="test")


def _fits(page):
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    assert axe_violations(page) == []


@pytest.mark.django_db(transaction=True)
def test_a_collector_confirms_a_promise_from_a_reply_and_records_it(
    live_server, browser_page, artifacts, django_user_model
):
    colin = user(django_user_model, "colin", COLLECTOR)
    harbour = CustomerFactory(name="Harbour Foods Ltd", collector=colin)
    pat = ContactFactory(customer=harbour, name="Pat Payables", email="pat@harbour.example.com")
    today = timezone.localdate()
    InvoiceFactory(
        customer=harbour,
        number="INV-0042",
        issue_date=today - dt.timedelta(days=70),
        due_date=today - dt.timedelta(days=40),
        amount=Decimal("1200.00"),
    )
    promised_for = today + dt.timedelta(days=5)
    _reply_from(pat, f"We will pay £1,200.00 on {promised_for.isoformat()}. Sorry for the delay.")
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")

    page.goto(f"{live_server.url}/inbox/")
    reply = page.locator("article.reply", has_text="Pat Payables")
    reply.get_by_text("We will pay £1,200.00").wait_for()
    assert "Sorry for the delay." in reply.inner_text()
    assert "Please pay INV-0042" not in reply.inner_text()  # the quoted history is trimmed
    reply.get_by_text("Promise to pay:").wait_for()
    _fits(page)
    page.screenshot(path=artifacts / "inbox-01-waiting-1280.png", full_page=True)

    page.get_by_role("button", name="Confirm: record the promise").click()

    page.wait_for_url(f"**/customers/{harbour.pk}/promise/**")
    form = page.locator("#action-area form")
    assert form.get_by_label("Promised for").input_value() == promised_for.isoformat()
    assert form.get_by_label("Amount").input_value() == "1200.00"
    page.screenshot(path=artifacts / "inbox-02-promise-prefilled-1280.png", full_page=True)
    form.get_by_role("button", name="Record the promise").click()

    page.locator(".message-success", has_text="Promise recorded").wait_for()
    promise = PromiseToPay.objects.get(customer=harbour)
    assert (promise.amount, promise.promised_for) == (Decimal("1200.00"), promised_for)

    page.goto(f"{live_server.url}/inbox/")
    page.get_by_text("No replies waiting.").wait_for()
    page.get_by_role("link", name="Handled").click()
    page.get_by_text("Handled by Colin").wait_for()
    _fits(page)
    page.screenshot(path=artifacts / "inbox-03-handled-1280.png", full_page=True)
