"""The screens: attaching a copy from the customer page, downloading it, the ZIP upload and
its report, and the customer page's cost with copies on file."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoice_copies.services import copy_attach
from invoices.models import Invoice
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from letters.models import Document

from .pdfs import pdf_bytes, zip_bytes

pytestmark = pytest.mark.django_db


def _pdf(content: bytes, name: str = "INV-1.pdf"):
    return SimpleUploadedFile(name, content, "application/pdf")


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_copy_uploaded_on_an_invoice_downloads_as_the_same_bytes(collector_client, collector):
    invoice = InvoiceFactory(customer__collector=collector)
    pdf = pdf_bytes()

    response = collector_client.post(
        reverse("invoice_copies:attach", args=[invoice.pk]), {"file": _pdf(pdf)}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("customer_detail", args=[invoice.customer_id])
    assert _messages(response) == [f"Copy of invoice {invoice.number} attached."]
    download = collector_client.get(reverse("invoice_copies:download", args=[invoice.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="INV-1.pdf"'
    assert download.content == pdf


def test_the_same_pdf_twice_says_nothing_new_was_stored(collector_client, collector):
    invoice = InvoiceFactory(customer__collector=collector)
    url = reverse("invoice_copies:attach", args=[invoice.pk])
    collector_client.post(url, {"file": _pdf(pdf_bytes())})

    response = collector_client.post(url, {"file": _pdf(pdf_bytes())}, follow=True)

    assert "nothing new was stored" in _messages(response)[-1]
    assert Document.objects.count() == 1


def test_a_file_that_is_not_a_pdf_is_refused_with_a_message(collector_client, collector):
    invoice = InvoiceFactory(customer__collector=collector)

    response = collector_client.post(
        reverse("invoice_copies:attach", args=[invoice.pk]),
        {"file": _pdf(b"Dear customer, please pay.", "invoice.pdf")},
    )

    assert response.status_code == 200
    assert "The file is not a PDF." in response.text
    assert not Document.objects.exists()


def test_no_file_chosen_is_refused_with_a_message(collector_client, collector):
    invoice = InvoiceFactory(customer__collector=collector)

    response = collector_client.post(reverse("invoice_copies:attach", args=[invoice.pk]), {})

    assert response.status_code == 200
    assert "This field is required." in response.text


def test_a_collector_cannot_attach_to_a_colleagues_customer(collector_client, django_user_model):
    colleague = django_user_model.objects.create_user(username="cara", first_name="Cara")
    invoice = InvoiceFactory(customer__collector=colleague)

    response = collector_client.post(
        reverse("invoice_copies:attach", args=[invoice.pk]), {"file": _pdf(pdf_bytes())}
    )

    assert response.status_code == 403
    assert not Document.objects.exists()


def test_an_invoice_without_a_copy_has_nothing_to_download(collector_client):
    invoice = InvoiceFactory()

    assert (
        collector_client.get(reverse("invoice_copies:download", args=[invoice.pk])).status_code
        == 404
    )


def test_the_zip_upload_leads_to_its_report(collector_client, collector):
    InvoiceFactory(customer__collector=collector, number="INV-1001")
    upload = zip_bytes({"INV-1001.pdf": pdf_bytes(), "INV-404.pdf": pdf_bytes("x"), "a.txt": b"a"})

    response = collector_client.post(
        reverse("invoice_copies:import"),
        {"file": SimpleUploadedFile("march.zip", upload, "application/zip")},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("invoice_copies:report")
    report = response.context["report"]
    assert {f.name: f.label for f in report.files} == {
        "INV-1001.pdf": "Attached",
        "INV-404.pdf": "Unknown invoice",
        "a.txt": "Not a PDF",
    }
    assert "Invoice copies from march.zip" in response.text


def test_a_damaged_zip_is_refused_on_the_upload_page(collector_client):
    response = collector_client.post(
        reverse("invoice_copies:import"),
        {"file": SimpleUploadedFile("march.zip", b"not a zip", "application/zip")},
    )

    assert response.status_code == 200
    assert "not a ZIP archive that can be read" in response.text
    assert not Document.objects.exists()


def test_the_invoices_list_leads_to_the_zip_upload(collector_client):
    response = collector_client.get(reverse("invoice_list"))

    assert reverse("invoice_copies:import") in response.text


# --- the customer page ----------------------------------------------------------------------


def test_the_customer_page_links_each_invoices_copy_and_its_upload(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    with_copy = InvoiceFactory(customer=customer, due_date=dt.date(2026, 1, 1))
    without = InvoiceFactory(customer=customer, due_date=dt.date(2026, 1, 2))
    copy_attach(actor=collector, invoice=with_copy, filename="a.pdf", content=pdf_bytes())

    text = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    assert reverse("invoice_copies:download", args=[with_copy.pk]) in text
    assert reverse("invoice_copies:download", args=[without.pk]) not in text
    assert text.count("Copy (PDF)") == 1
    assert reverse("invoice_copies:attach", args=[without.pk]) in text


def test_a_colleague_reads_the_copy_but_is_not_offered_the_upload(client, collector, manager):
    customer = CustomerFactory(collector=manager)
    invoice = InvoiceFactory(customer=customer)
    copy_attach(actor=manager, invoice=invoice, filename="a.pdf", content=pdf_bytes())
    client.force_login(collector)

    text = client.get(reverse("customer_detail", args=[customer.pk])).text

    assert reverse("invoice_copies:download", args=[invoice.pk]) in text
    assert reverse("invoice_copies:attach", args=[invoice.pk]) not in text


def _customer_with_copies(size: int, collector):
    customer = CustomerFactory(collector=collector)
    Invoice.objects.bulk_create(
        Invoice(
            customer=customer,
            number=f"C{customer.pk}-{i:04d}",
            issue_date=dt.date(2026, 1, 1),
            due_date=dt.date(2026, 2, 1),
            currency="GBP",
            amount=Decimal("100.00"),
            open_balance=Decimal("100.00"),
        )
        for i in range(size)
    )
    for invoice in customer.invoices.all():
        for n in range(2):  # an older copy and the newest
            copy_attach(
                actor=collector, invoice=invoice, filename="c.pdf", content=pdf_bytes(f"{n}")
            )
    return customer


def test_the_customer_page_costs_the_same_queries_with_5_or_50_invoices_with_copies(
    collector_client, collector
):
    def queries_for(size):
        customer = _customer_with_copies(size, collector)
        url = reverse("customer_detail", args=[customer.pk])
        with CaptureQueriesContext(connection) as captured:
            response = collector_client.get(url)
        assert response.text.count("Copy (PDF)") == size
        return len(captured)

    assert queries_for(5) == queries_for(50)


def test_the_invoice_page_shows_its_newest_copy_and_offers_a_newer_one(collector_client, collector):
    invoice = InvoiceFactory(customer=CustomerFactory(collector=collector))
    page = collector_client.get(reverse("invoice_detail", args=[invoice.pk])).text
    assert "None on file" in page and "Attach copy" in page

    copy_attach(actor=collector, invoice=invoice, filename="inv-signed.pdf", content=pdf_bytes())

    page = collector_client.get(reverse("invoice_detail", args=[invoice.pk])).text
    assert reverse("invoice_copies:download", args=[invoice.pk]) in page
    assert "inv-signed.pdf" in page and "Attach a newer copy" in page
