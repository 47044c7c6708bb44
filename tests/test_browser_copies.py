"""A collector attaches the invoice PDF on the customer page and downloads it back."""

import pytest
from django.urls import reverse

from accounts.roles import COLLECTOR
from invoice_copies.tests.pdfs import pdf_bytes
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_a_collector_attaches_an_invoice_copy_and_downloads_it(
    live_server, browser_page, artifacts, django_user_model, tmp_path
):
    colin = user(django_user_model, "colin", COLLECTOR)
    customer = CustomerFactory(collector=colin, name="Harbour Stores Ltd")
    invoice = InvoiceFactory(customer=customer, number="INV-2041")
    scan = tmp_path / "INV-2041.pdf"
    scan.write_bytes(pdf_bytes("INV-2041"))
    page = browser_page
    log_in(page, live_server.url, "colin", "pw-colin-123")

    page.goto(live_server.url + reverse("customer_detail", args=[customer.pk]))
    assert page.get_by_test_id("invoice-copy").count() == 0
    page.get_by_role("link", name="Attach copy of INV-2041").click()
    page.get_by_label("Invoice PDF", exact=True).set_input_files(str(scan))
    page.screenshot(path=artifacts / "copies-attach-1280.png", full_page=True)
    page.get_by_role("button", name="Attach the copy").click()

    page.locator(".message-success", has_text="Copy of invoice INV-2041 attached.").wait_for()
    link = page.get_by_role("link", name="Copy (PDF) of INV-2041")
    page.screenshot(path=artifacts / "copies-customer-1280.png", full_page=True)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "INV-2041.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == scan.read_bytes()
    assert saved.read_bytes().startswith(b"%PDF-")
    assert invoice.copies.count() == 1
