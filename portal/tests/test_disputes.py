"""A customer questions invoices on their page: each ticked invoice is disputed (and no
longer chased), the files they attach are kept for the collector, and it is audited,
queued, on the timeline and confirmed by email."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from dunning.models import QueueEntry
from dunning.tests.factories import MONDAY_10
from dunning.views import plans_for
from invoice_copies.tests.pdfs import pdf_bytes
from invoices.models import Dispute, DisputeStatus, InvoiceStatus, RaisedVia
from invoices.services import dispute_open
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from letters.models import Document, DocumentKind
from portal.models import Confirmation, DisputeEvidence
from portal.services import portal_link_make

pytestmark = pytest.mark.django_db
TODAY = MONDAY_10.date()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    cache.clear()
    time_machine.move_to(MONDAY_10, tick=False)


@pytest.fixture
def account(collector):
    """A customer of Colin's with two overdue invoices and a link for their contact."""
    customer = CustomerFactory(collector=collector, name="Harbour Teas")
    contact = ContactFactory(customer=customer, name="Ada Payables", email="ada@harbour.test")
    due = TODAY - dt.timedelta(days=20)
    first, second = (
        InvoiceFactory(
            customer=customer,
            number=f"HT-{n}",
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            amount=Decimal("120.00"),
        )
        for n in (1, 2)
    )
    link, url = portal_link_make(customer=customer, contact=contact, now=MONDAY_10)
    token = url.rstrip("/").rsplit("/", 1)[1]
    return customer, link, token, first, second


def _post(client, token, invoices, **fields):
    data = {"invoices": [i.pk for i in invoices], "reason": "quality", "message": "Crushed"}
    data.update(fields)
    return client.post(reverse("portal:dispute", args=[token]), data)


def _nothing_changed():
    return (
        Dispute.objects.count(),
        DisputeEvidence.objects.count(),
        Document.objects.count(),
        Confirmation.objects.count(),
        AuditEvent.objects.filter(action="ledger.dispute.opened").count(),
    )


def test_the_customers_page_links_to_the_form_listing_their_open_invoices(client, account):
    customer, link, token, first, second = account

    page = client.get(reverse("portal:page", args=[token])).content.decode()
    form = client.get(reverse("portal:dispute", args=[token])).content.decode()

    assert reverse("portal:dispute", args=[token]) in page
    assert "Question or dispute an invoice" in page
    assert f'value="{first.pk}"' in form and f'value="{second.pk}"' in form


def test_a_disputed_invoice_is_no_longer_chased_and_the_other_still_is(client, account):
    customer, link, token, first, second = account
    photo = SimpleUploadedFile("crushed.png", PNG, content_type="image/png")

    response = _post(client, token, [first], attachments=[photo])

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dispute_done", args=[token])
    dispute = Dispute.objects.get()
    assert dispute.invoice == first and dispute.status == DisputeStatus.OPEN
    assert dispute.raised_via == RaisedVia.CUSTOMER_PAGE
    assert dispute.owner == customer.collector
    assert dispute.amount == Decimal("120.00") and dispute.detail == "Crushed"
    first.refresh_from_db()
    assert first.status == InvoiceStatus.IN_DISPUTE
    (plan,) = plans_for([customer.pk], as_of=MONDAY_10)
    assert plan.plan.eligible_invoice_ids == (second.pk,)
    entry = QueueEntry.objects.get(customer=customer)
    assert entry.disputed and entry.disputed_total == Decimal("120.00")


def test_the_attachment_is_kept_as_evidence_with_its_sniffed_type(client, account):
    customer, link, token, first, _second = account
    photo = SimpleUploadedFile("crushed.png", PNG, content_type="application/x-anything")

    _post(client, token, [first], attachments=[photo])

    evidence = DisputeEvidence.objects.select_related("document").get()
    assert evidence.link == link and evidence.dispute.invoice == first
    assert evidence.document.kind == DocumentKind.CUSTOMER_UPLOAD
    assert evidence.document.content_type == "image/png"
    assert bytes(evidence.document.content) == PNG
    assert evidence.document.customer == customer


def test_it_is_audited_with_the_contact_and_link_and_confirmed_by_email(client, account):
    customer, link, token, first, _second = account
    note = SimpleUploadedFile("note.txt", b"Delivery note 5521 shows 3 boxes damaged.")

    _post(client, token, [first], attachments=[note])

    event = AuditEvent.objects.get(action="ledger.dispute.opened")
    assert event.actor_label == "customer page"
    assert event.data["contact_id"] == link.contact_id and event.data["link_id"] == link.pk
    assert event.data["raised_via"] == "customer_page"
    assert [d["filename"] for d in event.data["documents"]] == ["note.txt"]
    confirmation = Confirmation.objects.get()
    assert confirmation.to_email == "ada@harbour.test"
    assert "HT-1" in confirmation.subject
    assert "We will not chase these invoices while we look into it" in confirmation.body_text


def test_several_invoices_are_each_disputed_in_full_with_the_same_files(client, account):
    customer, link, token, first, second = account
    pdf = SimpleUploadedFile("letter.pdf", pdf_bytes("our complaint"))

    _post(client, token, [first, second], attachments=[pdf], reason="pricing")

    disputes = Dispute.objects.order_by("invoice__number")
    assert [(d.invoice.number, d.amount) for d in disputes] == [
        ("HT-1", Decimal("120.00")),
        ("HT-2", Decimal("120.00")),
    ]
    assert Document.objects.filter(kind=DocumentKind.CUSTOMER_UPLOAD).count() == 1
    assert DisputeEvidence.objects.count() == 2
    assert Confirmation.objects.count() == 1
    (plan,) = plans_for([customer.pk], as_of=MONDAY_10)
    assert plan.plan.eligible_invoice_ids == ()


def test_one_invoice_can_be_questioned_for_part_of_its_balance(client, account):
    _customer, _link, token, first, _second = account

    _post(client, token, [first], amount="45.50")

    assert Dispute.objects.get().amount == Decimal("45.50")


def test_more_than_the_open_balance_is_refused_and_nothing_changes(client, account):
    _customer, _link, token, first, _second = account
    before = _nothing_changed()

    response = _post(client, token, [first], amount="120.01")

    assert response.status_code == 200
    assert "HT-1 has £120.00 open: enter at most that." in response.content.decode()
    assert _nothing_changed() == before


def test_an_amount_with_several_invoices_ticked_is_refused(client, account):
    _customer, _link, token, first, second = account
    before = _nothing_changed()

    response = _post(client, token, [first, second], amount="10.00")

    assert "each is questioned in full" in response.content.decode()
    assert _nothing_changed() == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("sheet.xlsx", b"PK\x03\x04\x14\x00\x06\x00"),
    ],
)
def test_a_file_of_another_type_is_refused_and_nothing_changes(client, account, name, content):
    _customer, _link, token, first, _second = account
    before = _nothing_changed()

    response = _post(client, token, [first], attachments=[SimpleUploadedFile(name, content)])

    assert response.status_code == 200
    assert f"{name} is not a PDF, PNG, JPEG or plain text file." in response.content.decode()
    assert _nothing_changed() == before


def test_a_file_over_ten_megabytes_is_refused(client, account):
    _customer, _link, token, first, _second = account
    big = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024))
    before = _nothing_changed()

    response = _post(client, token, [first], attachments=[big])

    assert "scan.pdf is larger than 10 MB." in response.content.decode()
    assert _nothing_changed() == before


def test_more_than_three_files_are_refused(client, account):
    _customer, _link, token, first, _second = account
    files = [SimpleUploadedFile(f"n{n}.txt", b"note") for n in range(4)]
    before = _nothing_changed()

    response = _post(client, token, [first], attachments=files)

    assert "Attach at most 3 files." in response.content.decode()
    assert _nothing_changed() == before


def test_an_invoice_already_under_review_is_shown_and_cannot_be_ticked(client, account):
    _customer, _link, token, first, _second = account
    dispute_open(actor=None, invoice=first, reason="pricing", opened_on=TODAY)
    before = _nothing_changed()

    form = client.get(reverse("portal:dispute", args=[token])).content.decode()
    response = _post(client, token, [first])

    assert "Already under review" in form and f'name="invoices" value="{first.pk}"' not in form
    assert "Tick only the invoices listed here." in response.content.decode()
    assert _nothing_changed() == before


def test_another_customers_invoice_posted_in_the_form_changes_nothing(client, account):
    _customer, _link, token, _first, _second = account
    theirs = InvoiceFactory(number="OTHER-1", due_date=TODAY - dt.timedelta(days=5))
    before = _nothing_changed()

    response = _post(client, token, [theirs])

    assert response.status_code == 200
    assert "Tick only the invoices listed here." in response.content.decode()
    assert _nothing_changed() == before
    assert not Dispute.objects.filter(invoice=theirs).exists()


def test_the_done_page_lists_what_is_under_review(client, account):
    _customer, _link, token, first, _second = account
    _post(client, token, [first])

    page = client.get(reverse("portal:dispute_done", args=[token])).content.decode()

    assert "Thank you: we have your question" in page
    assert "HT-1" in page and "HT-2" not in page


def test_a_forged_token_gets_the_plain_404(client):
    forged = client.get(reverse("portal:dispute", args=["x" * 43]))
    assert forged.status_code == 404


# --- the collector's side --------------------------------------------------------------------


def test_the_collector_sees_it_came_from_the_customer_page_and_downloads_the_file(client, account):
    customer, _link, token, first, _second = account
    _post(client, token, [first], attachments=[SimpleUploadedFile("crushed.png", PNG)])
    document = Document.objects.get(kind=DocumentKind.CUSTOMER_UPLOAD)
    client.force_login(customer.collector)

    page = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()
    download = client.get(reverse("portal:evidence", args=[document.pk]))

    assert "Raised on the customer&#x27;s page" in page
    assert reverse("portal:evidence", args=[document.pk]) in page
    assert "crushed.png" in page
    assert download.status_code == 200 and download.content == PNG
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")


def test_the_timeline_says_the_customer_raised_it_on_their_page(client, account):
    customer, _link, token, first, _second = account
    _post(client, token, [first], attachments=[SimpleUploadedFile("note.txt", b"Crushed.")])
    client.force_login(customer.collector)

    page = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()

    assert "Dispute opened on HT-1 for £120.00: Quality or damage" in page
    assert "Raised on the customer&#x27;s page by Ada Payables" in page


def test_only_staff_with_a_role_download_evidence_and_only_customer_uploads(
    client, account, no_role_user
):
    customer, _link, _token, _first, _second = account
    upload = Document.objects.create(
        kind=DocumentKind.CUSTOMER_UPLOAD,
        customer=customer,
        filename="n.txt",
        content_type="text/plain",
        content=b"x",
    )
    letter = Document.objects.create(
        kind=DocumentKind.LETTER, customer=customer, filename="l.pdf", content=b"%PDF-1.7"
    )
    url = reverse("portal:evidence", args=[upload.pk])

    anonymous = client.get(url)
    client.force_login(no_role_user)
    no_role = client.get(url)
    client.force_login(customer.collector)
    not_an_upload = client.get(reverse("portal:evidence", args=[letter.pk]))

    assert anonymous.status_code == 302
    assert no_role.status_code == 403
    assert not_an_upload.status_code == 404
