"""Attaching invoice copies: one PDF at a time, or a ZIP of them named by invoice number."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from invoice_copies import archive
from invoice_copies.exceptions import ArchiveRefused, CopyError
from invoice_copies.selectors import invoice_copy_newest
from invoice_copies.services import copies_import_zip, copy_attach
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from letters.models import Document, DocumentKind

from .pdfs import pdf_bytes, zip_bytes

pytestmark = pytest.mark.django_db


def _upload(content: bytes, name: str = "copies.zip"):
    return SimpleUploadedFile(name, content, "application/zip")


def _fates(report) -> dict[str, str]:
    return {f.name: f.fate for f in report.files}


# --- one PDF ------------------------------------------------------------------------------


def test_an_attached_pdf_becomes_the_invoices_copy_and_is_audited(collector):
    invoice = InvoiceFactory(customer__collector=collector)
    pdf = pdf_bytes()

    attached = copy_attach(actor=collector, invoice=invoice, filename="scan 01.pdf", content=pdf)

    copy = invoice_copy_newest(invoice.pk)
    assert attached.created and copy == attached.document
    assert (copy.kind, copy.customer, bytes(copy.content)) == (
        DocumentKind.INVOICE_COPY,
        invoice.customer,
        pdf,
    )
    event = AuditEvent.objects.get(action="ledger.invoice.copy_attached")
    assert (event.invoice_id, event.customer_id) == (invoice.pk, invoice.customer_id)
    assert event.data["sha256"] == copy.sha256 and event.data["size"] == len(pdf)
    assert event.data["filename"] == "scan 01.pdf"


def test_the_same_pdf_again_stores_nothing_new(collector):
    invoice = InvoiceFactory(customer__collector=collector)
    pdf = pdf_bytes()
    first = copy_attach(actor=collector, invoice=invoice, filename="a.pdf", content=pdf)

    again = copy_attach(actor=collector, invoice=invoice, filename="b.pdf", content=pdf)

    assert not again.created and again.document == first.document
    assert Document.objects.count() == 1
    assert AuditEvent.objects.filter(action="ledger.invoice.copy_attached").count() == 1


def test_a_newer_copy_is_the_one_shown_and_the_older_stays(collector):
    invoice = InvoiceFactory(customer__collector=collector)
    copy_attach(actor=collector, invoice=invoice, filename="old.pdf", content=pdf_bytes("old"))

    newer = copy_attach(actor=collector, invoice=invoice, filename="new.pdf", content=pdf_bytes())

    assert invoice_copy_newest(invoice.pk) == newer.document
    assert invoice.copies.count() == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"Invoice 1001, total 100.00", "not a PDF"),
        (b"", "empty"),
        (b"%PDF-1.7 and then nothing a reader can use", "damaged"),
    ],
)
def test_what_is_not_a_readable_pdf_is_refused_and_nothing_stored(collector, content, problem):
    invoice = InvoiceFactory(customer__collector=collector)

    with pytest.raises(CopyError, match=problem):
        copy_attach(actor=collector, invoice=invoice, filename="x.pdf", content=content)

    assert not Document.objects.exists() and not AuditEvent.objects.exists()


def test_a_collector_cannot_attach_to_a_colleagues_customer(collector, django_user_model):
    colleague = django_user_model.objects.create_user(username="cara", first_name="Cara")
    invoice = InvoiceFactory(customer__collector=colleague)

    with pytest.raises(CopyError, match="Cara's customer"):
        copy_attach(actor=collector, invoice=invoice, filename="x.pdf", content=pdf_bytes())

    assert not Document.objects.exists()


# --- a ZIP --------------------------------------------------------------------------------


def test_a_zip_reports_what_matched_and_what_did_not(collector):
    customer = CustomerFactory(collector=collector, name="Harbour Stores")
    first = InvoiceFactory(customer=customer, number="INV-1001")
    second = InvoiceFactory(customer=customer, number="INV-1002")
    upload = zip_bytes(
        {
            "march/": b"",
            "march/INV-1001.pdf": pdf_bytes("1001"),
            "march/deep/inv-1002.PDF": pdf_bytes("1002"),
            "INV-9999.pdf": pdf_bytes("9999"),
            "notes.txt": b"remember the milk",
            "INV-1003.pdf": b"not really a pdf",
        }
    )

    report = copies_import_zip(actor=collector, upload=_upload(upload))

    assert _fates(report) == {
        "march/": "folder",
        "march/INV-1001.pdf": "attached",
        "march/deep/inv-1002.PDF": "attached",
        "INV-9999.pdf": "unknown",
        "notes.txt": "not_pdf",
        "INV-1003.pdf": "unknown",
    }
    attached = [f for f in report.files if f.fate == "attached"]
    assert {(f.invoice, f.customer) for f in attached} == {
        ("INV-1001", "Harbour Stores"),
        ("INV-1002", "Harbour Stores"),
    }
    assert bytes(invoice_copy_newest(first.pk).content) == pdf_bytes("1001")
    assert bytes(invoice_copy_newest(second.pk).content) == pdf_bytes("1002")


def test_a_pdf_named_by_an_invoice_that_is_not_a_pdf_is_reported_with_why(collector):
    InvoiceFactory(customer__collector=collector, number="INV-1003")

    report = copies_import_zip(
        actor=collector, upload=_upload(zip_bytes({"INV-1003.pdf": b"plain text"}))
    )

    [fate] = report.files
    assert (fate.fate, fate.explanation) == ("not_pdf", "The file is not a PDF.")
    assert not Document.objects.exists()


def test_the_same_zip_twice_reports_duplicates_and_stores_nothing_new(collector):
    InvoiceFactory(customer__collector=collector, number="INV-1001")
    upload = zip_bytes({"INV-1001.pdf": pdf_bytes()})
    copies_import_zip(actor=collector, upload=_upload(upload))

    report = copies_import_zip(actor=collector, upload=_upload(upload))

    assert _fates(report) == {"INV-1001.pdf": "duplicate"}
    assert Document.objects.count() == 1


def test_a_collector_attaches_only_to_their_own_customers_invoices(collector, django_user_model):
    colleague = django_user_model.objects.create_user(username="cara")
    InvoiceFactory(customer__collector=collector, number="MINE-1")
    theirs = InvoiceFactory(customer__collector=colleague, number="THEIRS-1")

    report = copies_import_zip(
        actor=collector,
        upload=_upload(zip_bytes({"MINE-1.pdf": pdf_bytes("1"), "THEIRS-1.pdf": pdf_bytes("2")})),
    )

    assert _fates(report) == {"MINE-1.pdf": "attached", "THEIRS-1.pdf": "not_yours"}
    assert not theirs.copies.exists()


def test_a_manager_attaches_to_anyones_invoices(manager, collector):
    invoice = InvoiceFactory(customer__collector=collector, number="INV-7")

    copies_import_zip(actor=manager, upload=_upload(zip_bytes({"INV-7.pdf": pdf_bytes()})))

    assert invoice.copies.count() == 1


def test_names_that_climb_out_of_the_zip_are_ignored(collector):
    InvoiceFactory(customer__collector=collector, number="INV-1001")

    report = copies_import_zip(
        actor=collector,
        upload=_upload(
            zip_bytes({"../INV-1001.pdf": pdf_bytes(), "/etc/INV-1001.pdf": pdf_bytes()})
        ),
    )

    assert set(_fates(report).values()) == {"unsafe"}
    assert not Document.objects.exists()


def test_an_encrypted_member_is_refused(collector):
    InvoiceFactory(customer__collector=collector, number="INV-1001")
    data = bytearray(zip_bytes({"INV-1001.pdf": pdf_bytes()}))
    # Mark the member password-protected, as an encrypting tool does (bit 0 of its flags,
    # in the local header and in the central directory).
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + offset] |= 0x1

    report = copies_import_zip(actor=collector, upload=_upload(bytes(data)))

    assert _fates(report) == {"INV-1001.pdf": "encrypted"}
    assert not Document.objects.exists()


def test_a_member_that_unpacks_past_its_cap_is_not_attached(collector):
    InvoiceFactory(customer__collector=collector, number="INV-1001")
    InvoiceFactory(customer__collector=collector, number="INV-1002")
    bomb = b"%PDF-1.7\n" + b"0" * (archive.MAX_MEMBER_BYTES + 1)

    report = copies_import_zip(
        actor=collector,
        upload=_upload(zip_bytes({"INV-1001.pdf": bomb, "INV-1002.pdf": pdf_bytes()})),
    )

    assert _fates(report) == {"INV-1001.pdf": "too_large", "INV-1002.pdf": "attached"}


def test_a_zip_that_unpacks_past_the_total_cap_is_refused_whole(collector, monkeypatch):
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 1024 * 1024)
    InvoiceFactory(customer__collector=collector, number="INV-1")
    files = {"INV-1.pdf": pdf_bytes()} | {f"F-{i}.pdf": b"0" * 400_000 for i in range(3)}

    with pytest.raises(ArchiveRefused, match="unpacks to more than"):
        copies_import_zip(actor=collector, upload=_upload(zip_bytes(files)))

    assert not Document.objects.exists() and not AuditEvent.objects.exists()


def test_a_zip_of_too_many_files_is_refused_whole(collector):
    InvoiceFactory(customer__collector=collector, number="INV-0")
    files = {f"INV-{i}.pdf": pdf_bytes() for i in range(archive.MAX_ENTRIES + 1)}

    with pytest.raises(ArchiveRefused, match="at most 500"):
        copies_import_zip(actor=collector, upload=_upload(zip_bytes(files)))

    assert not Document.objects.exists()


@pytest.mark.parametrize("content", [b"PK\x03\x04 cut short", b"just text", b""])
def test_a_damaged_zip_is_a_clear_error_that_changes_nothing(collector, content):
    with pytest.raises(ArchiveRefused, match="not a ZIP archive that can be read"):
        copies_import_zip(actor=collector, upload=_upload(content))


def test_a_member_whose_bytes_were_damaged_fails_the_whole_zip(collector):
    InvoiceFactory(customer__collector=collector, number="INV-1")
    InvoiceFactory(customer__collector=collector, number="INV-2")
    good = zip_bytes({"INV-1.pdf": pdf_bytes("1"), "INV-2.pdf": pdf_bytes("2")}, compression=0)
    damaged = good.replace(b"/Title (2)", b"/Title (X)")  # the CRC no longer matches

    with pytest.raises(ArchiveRefused):
        copies_import_zip(actor=collector, upload=_upload(damaged))

    assert not Document.objects.exists()
