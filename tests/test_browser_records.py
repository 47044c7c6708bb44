"""A new finance team keeps its own records: a collector creates a customer in the browser,
gives them a postal contact, and finds both on the customer page."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import COLLECTOR
from dunning.models import Task, TaskStatus, Touch
from dunning.services import dunning_cycle, task_complete
from invoices.models import Customer
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from letters.tests.test_pdf import pdf_text
from tests.a11y import axe_violations, violations_report
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


def _weekday_at_ten(day):
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)


def _run_ladder_to_the_final_demand(customer, start):
    """Run the engine day by day, as the schedule would, until the final demand is posted."""
    as_of = _weekday_at_ten(start)
    for _ in range(60):
        dunning_cycle(as_of=as_of)
        for task in Task.objects.filter(customer=customer, status=TaskStatus.OPEN):
            # The collector makes the phone step's call; nobody answers.
            task_complete(actor=None, task=task, outcome="no_answer", at=as_of)
        letter = Touch.objects.filter(customer=customer, channel="letter").first()
        if letter is not None and letter.document_id:
            return letter
        as_of = _weekday_at_ten(as_of.date() + dt.timedelta(days=1))
    raise AssertionError("the ladder never reached the final demand")


@pytest.mark.django_db(transaction=True)
def test_a_customer_created_in_the_browser_gets_the_final_demand_at_their_postal_address(
    live_server, browser_page, artifacts, django_user_model, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user(django_user_model, "colin", COLLECTOR)
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("new_customer"))
    page.get_by_label("Name", exact=True).fill("Harbour Nets Ltd")
    page.get_by_label("External id").fill("HN-9")
    page.get_by_label("Time zone").select_option("UTC")
    page.get_by_role("button", name="Create the customer").click()
    page.get_by_role("link", name="Add contact").click()
    form = page.locator("#action-area form")
    form.get_by_label("Name", exact=True).fill("Nell Harbour")
    form.get_by_label("Email", exact=True).fill("accounts@harbournets.example")
    form.get_by_label("Postal address").fill("Harbour Nets Ltd\n4 Pier Road\nWhitby\nYO21 3PU")
    form.get_by_label("Primary for letters").check()
    page.screenshot(path=artifacts / "records-contact-form-1280.png", full_page=True)
    found = axe_violations(page)
    assert not found, violations_report("the contact form", found)
    form.get_by_role("button", name="Add the contact").click()
    page.locator(".message-success", has_text="Contact Nell Harbour added.").wait_for()
    customer = Customer.objects.get(external_id="HN-9")
    today = timezone.localdate()
    InvoiceFactory(
        customer=customer,
        number="HN-INV-1",
        issue_date=today - dt.timedelta(days=40),
        due_date=today - dt.timedelta(days=10),
    )

    letter = _run_ladder_to_the_final_demand(customer, today)

    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    with page.expect_download() as download:
        page.get_by_role("link", name="Letter (PDF)").first.click()
    text = pdf_text(download.value.path().read_bytes())
    lines = [line.strip() for line in text.splitlines()]
    for line in ("Nell Harbour", "4 Pier Road", "Whitby", "YO21 3PU"):
        assert line in lines, f"{line!r} is not on the letter"
    assert "HN-INV-1" in text
    assert letter.contact.name == "Nell Harbour"
    page.screenshot(path=artifacts / "records-final-demand-customer-1280.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_fixing_a_bounced_email_in_the_browser_lets_mail_resume(
    live_server, browser_page, django_user_model, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    colin = user(django_user_model, "colin", COLLECTOR)
    customer = CustomerFactory(name="Gull Cafe", collector=colin, timezone="UTC")
    contact = ContactFactory(
        customer=customer, name="Gil", email="old@gull.example", email_bounced_at=timezone.now()
    )
    today = timezone.localdate()
    InvoiceFactory(
        customer=customer,
        number="GC-1",
        issue_date=today - dt.timedelta(days=40),
        due_date=today - dt.timedelta(days=10),
    )
    as_of = _weekday_at_ten(today)
    dunning_cycle(as_of=as_of)
    assert not [m for m in mail.outbox if "old@gull.example" in m.to]

    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")
    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    bounced = page.locator(".contact-list .badge-danger", has_text="Bounced")
    bounced.wait_for()
    page.get_by_role("link", name=f"Edit {contact}").click()
    form = page.locator("#action-area form")
    form.get_by_label("Email", exact=True).fill("accounts@gull.example")
    form.get_by_role("button", name="Save the contact").click()
    page.locator(".message-success", has_text="The bounce is cleared").wait_for()
    assert bounced.count() == 0

    _settle_open_tasks(customer, as_of)
    dunning_cycle(as_of=_weekday_at_ten(as_of.date() + dt.timedelta(days=1)))

    assert [m.to for m in mail.outbox] == [["accounts@gull.example"]]


def _settle_open_tasks(customer, as_of):
    # The mail that could not go left a task to fix the contact; fixing it is that task done.
    for task in Task.objects.filter(customer=customer, status=TaskStatus.OPEN):
        task_complete(actor=None, task=task, notes="address fixed", at=as_of)
