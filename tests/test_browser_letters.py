"""An admin edits a template, watches the preview change, saves, and the next email uses it."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts.roles import ADMIN
from dunning.models import Touch
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from invoices.models import ContactRole
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

from .test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_an_admin_edits_a_template_with_a_live_preview_and_the_next_email_uses_it(
    live_server, browser_page, artifacts, django_user_model, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user(django_user_model, "ada", ADMIN)
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
    log_in(page, live_server.url, "ada", "pw-ada-123")

    page.get_by_role("link", name="Templates").click()
    page.get_by_role("link", name="Friendly reminder").first.click()
    preview_subject = page.get_by_test_id("preview-subject")
    preview_subject.wait_for()
    assert preview_subject.inner_text().startswith("Friendly reminder")

    page.get_by_label("Preview for customer").fill("QB-77")
    page.get_by_label("Subject").fill("A note about {{ count }} invoice for {{ customer.name }}")
    page.get_by_text("A note about 1 invoice for Quayside Bakery").wait_for()
    assert "INV-5150" in page.get_by_test_id("preview-text").inner_text()
    email_preview = page.frame_locator("iframe[title='HTML email preview']")
    email_preview.get_by_text("INV-5150").wait_for()
    page.screenshot(path=artifacts / "letters-01-editor-preview.png", full_page=True)

    page.get_by_label("Plain-text email").fill("Dear {{ contact.name }},\n{% debug %}\n")
    page.get_by_text("unknown tag 'debug'").first.wait_for()
    page.screenshot(path=artifacts / "letters-02-editor-error.png", full_page=True)
    page.get_by_label("Plain-text email").fill(
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
