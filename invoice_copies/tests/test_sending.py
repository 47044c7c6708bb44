"""A policy step that attaches invoice copies: the email carries the newest copy of each
invoice it chases, a posted letter carries them as pages behind it."""

import io

import pytest
from django.core import mail
from pypdf import PdfReader

from dunning.models import PolicyStep, Touch, TouchStatus
from dunning.tests.factories import ladder, overdue_customer  # noqa: F401
from dunning.tests.test_delivery import plan_and_deliver
from dunning.tests.test_letters import _due_for_final_demand
from invoice_copies.services import copy_attach
from letters.models import Document, DocumentKind, PrintItem

from .pdfs import pdf_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def _attach_copies(step_name: str) -> None:
    PolicyStep.objects.filter(version__policy__name="Standard", name=step_name).update(
        attach_copies=True
    )


def test_a_step_set_to_attach_copies_emails_the_newest_copy_of_each_invoice(admin_user):
    _attach_copies("Friendly reminder")
    customer = overdue_customer(days=3, invoices=2)
    first, second = customer.invoices.order_by("id")
    copy_attach(actor=admin_user, invoice=first, filename="old.pdf", content=pdf_bytes("old"))
    newest = pdf_bytes("newest")
    copy_attach(actor=admin_user, invoice=first, filename="new.pdf", content=newest)

    plan_and_deliver()

    [email] = mail.outbox
    assert email.attachments == [(f"invoice-{first.number}.pdf", newest, "application/pdf")]
    assert Touch.objects.get().status == TouchStatus.SENT


def test_a_sent_copy_is_not_stored_again(admin_user):
    _attach_copies("Friendly reminder")
    customer = overdue_customer(days=3)
    invoice = customer.invoices.get()
    attached = copy_attach(actor=admin_user, invoice=invoice, filename="a.pdf", content=pdf_bytes())

    plan_and_deliver()

    assert Document.objects.filter(kind=DocumentKind.INVOICE_COPY).get() == attached.document
    assert Touch.objects.get().document == attached.document


def test_without_copies_on_file_the_email_goes_without_them():
    _attach_copies("Friendly reminder")
    overdue_customer(days=3)

    plan_and_deliver()

    [email] = mail.outbox
    assert email.attachments == []
    assert Touch.objects.get().status == TouchStatus.SENT


def test_a_step_not_set_to_attach_copies_sends_none(admin_user):
    customer = overdue_customer(days=3)
    copy_attach(
        actor=admin_user, invoice=customer.invoices.get(), filename="a.pdf", content=pdf_bytes()
    )

    plan_and_deliver()

    assert mail.outbox[0].attachments == []


def test_a_letter_step_carries_the_copies_as_pages_behind_the_letter(admin_user):
    _attach_copies("Final demand")
    customer = _due_for_final_demand()
    # A copy of a size no letter has, to find its page behind the letter.
    copy = pdf_bytes(width=300, height=400)
    copy_attach(actor=admin_user, invoice=customer.invoices.get(), filename="a.pdf", content=copy)

    plan_and_deliver()

    [(name, pdf, _type)] = mail.outbox[0].attachments  # the letter alone, copies inside
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert name.startswith("final-demand-")
    assert [(p.mediabox.width, p.mediabox.height) for p in pages][-1] == (300, 400)
    assert all(p.mediabox.width != 300 for p in pages[:-1])
    # The letter queued for the post is the same PDF, copies and all.
    touch = Touch.objects.get(step__position=6)
    assert bytes(touch.document.content) == pdf
    assert PrintItem.objects.get().document == touch.document
