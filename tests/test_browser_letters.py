"""An admin finds the templates in ladder order, edits one with the fields beside the boxes and
a live preview, sees the letter as a PDF, saves, and the next email uses it."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN
from dunning.models import Touch
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from invoices.models import ContactRole
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from letters.models import Template

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "pw-ada-123"


@pytest.fixture
def ada(django_user_model):
    account = django_user_model.objects.create_user(
        username="ada", password=PASSWORD, first_name="Ada"
    )
    account.groups.add(Group.objects.get(name=ADMIN))
    return account


def log_in(page, url):
    page.goto(f"{url}{reverse('login')}")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda address: "/login/" not in address)


def open_editor(page, url, key):
    template = Template.objects.get(key=key, language="en")
    page.goto(f"{url}{reverse('letters:template_edit', args=[template.pk])}")
    page.get_by_test_id("preview-subject").wait_for()


@pytest.mark.django_db(transaction=True)
def test_an_admin_edits_a_template_with_a_live_preview_and_the_next_email_uses_it(
    live_server, browser_page, artifacts, ada, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # The run happens at 10:00 UTC on a weekday: inside the sending window whenever CI runs.
    day = timezone.localdate()
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    as_of = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
    today = day
    customer = CustomerFactory(name="Quayside Bakery", external_id="QB-77", timezone="UTC")
    ContactFactory(customer=customer, role=ContactRole.ACCOUNTS_PAYABLE, name="Rosa Quay")
    InvoiceFactory(
        customer=customer,
        number="INV-5150",
        due_date=today - dt.timedelta(days=2),
        issue_date=today - dt.timedelta(days=32),
    )
    page = browser_page
    log_in(page, live_server.url)

    page.get_by_role("link", name="Templates").click()
    page.get_by_role("link", name="Friendly reminder").first.click()
    preview_subject = page.get_by_test_id("preview-subject")
    preview_subject.wait_for()
    assert preview_subject.inner_text().startswith("Friendly reminder")

    page.get_by_label("Preview for customer").fill("QB-77")
    page.get_by_label("Subject line").fill(
        "A note about {{ count }} invoice for {{ customer.name }}"
    )
    page.get_by_text("A note about 1 invoice for Quayside Bakery").wait_for()
    assert "INV-5150" in page.get_by_test_id("preview-text").inner_text()
    email_preview = page.frame_locator("iframe[title='HTML email preview']")
    email_preview.get_by_text("INV-5150").wait_for()
    page.screenshot(path=artifacts / "letters-01-editor-preview.png", full_page=True)

    page.get_by_label("The email text").fill("Dear {{ contact.name }},\n{% debug %}\n")
    page.get_by_text("unknown tag 'debug'").first.wait_for()
    page.screenshot(path=artifacts / "letters-02-editor-error.png", full_page=True)
    page.get_by_label("The email text").fill(
        'Dear {{ contact.name }},\n\n{% include "statement.txt" %}\n\nThank you.'
    )
    page.get_by_label("What changed and why").fill("Shorter friendly reminder")
    page.get_by_role("button", name="Save as version 2").click()
    page.get_by_text("Friendly reminder saved as version 2.").wait_for()
    page.screenshot(path=artifacts / "letters-03-saved.png", full_page=True)

    dunning_run(as_of=as_of)
    touches_deliver(as_of=as_of)
    [email] = mail.outbox
    assert email.subject == "A note about 1 invoice for Quayside Bakery"
    assert email.body.startswith("Dear Rosa Quay,")
    assert Touch.objects.get().template_version.number == 2


@pytest.mark.django_db(transaction=True)
def test_the_letter_preview_shows_the_pdf_in_its_frame(live_server, browser_page, artifacts, ada):
    page = browser_page
    log_in(page, live_server.url)
    open_editor(page, live_server.url, "final_demand")
    refusals = []
    page.on(
        "console",
        lambda message: refusals.append(message.text) if "frame" in message.text else None,
    )

    with page.expect_response(lambda response: "preview.pdf" in response.url) as answer:
        page.get_by_role("button", name="Show the letter as PDF").click()
    pdf = answer.value
    frame = page.frame(name="pdf-preview")
    frame.wait_for_url(lambda address: not address.startswith("about:"))
    frame.wait_for_load_state()

    assert frame.url == pdf.url  # a refused frame shows chrome-error://chromewebdata/
    assert refusals == []
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
    page.frame_locator("iframe[title='HTML email preview']").get_by_text("INV-1001").wait_for()
    page.wait_for_timeout(1500)  # the PDF viewer paints after the load; no event tells when
    page.screenshot(path=artifacts / "letters-04-pdf-preview.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_an_admin_finds_the_ladder_in_order_and_inserts_fields_by_keyboard(
    live_server, browser_page, artifacts, ada
):
    page = browser_page
    log_in(page, live_server.url)

    page.get_by_role("link", name="Templates").click()
    rows = page.get_by_test_id("template-row")
    rows.first.wait_for()
    keys = [rows.nth(i).get_attribute("data-key") for i in range(rows.count())]
    assert keys[:5] == [
        "courtesy_reminder",
        "friendly_reminder",
        "second_reminder",
        "firm_reminder",
        "final_demand",
    ]
    page.screenshot(path=artifacts / "letters-05-template-list-1280.png", full_page=True)

    open_editor(page, live_server.url, "friendly_reminder")
    subject = page.get_by_label("Subject line")
    subject.fill("Overdue: ")
    subject.press("End")
    # Out of the box by keyboard to the field list, Enter on a field, and back in the box.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "customer.name":
            break
    page.keyboard.press("Enter")
    assert subject.input_value() == "Overdue: {{ customer.name }}"
    assert page.evaluate("document.activeElement.id") == "id_subject"
    page.get_by_test_id("preview-subject").get_by_text("Overdue: Example Trading Ltd").wait_for()

    body = page.get_by_label("The email, formatted (HTML)")
    body.focus()
    page.keyboard.press("Control+Home")
    with page.expect_response(lambda response: response.url.endswith("/preview/")):
        page.get_by_role("button", name="organisation.address").click()
    assert body.input_value().startswith("{{ organisation.address|linebreaksbr }}")
    assert page.get_by_role("status").filter(has_text="Inserted").inner_text() == (
        "Inserted organisation.address into the formatted email."
    )
    assert page.get_by_test_id("field-list").is_visible()
    email_preview = page.frame_locator("iframe[title='HTML email preview']")
    email_preview.get_by_text("INV-1001").wait_for()
    page.screenshot(path=artifacts / "letters-06-editor-1280.png", full_page=True)

    page.set_viewport_size({"width": 768, "height": 1024})
    fields_box = page.get_by_test_id("field-list").bounding_box()
    boxes_box = page.get_by_label("The email text").bounding_box()
    assert fields_box["x"] > boxes_box["x"] + boxes_box["width"] - 1  # beside, not below
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.screenshot(path=artifacts / "letters-07-editor-768.png", full_page=True)
    page.get_by_role("link", name="All templates").click()
    rows.first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.screenshot(path=artifacts / "letters-08-template-list-768.png", full_page=True)
