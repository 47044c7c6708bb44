"""The final demand goes out as a PDF letter: attached, stored once, queued for posting."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from dunning.models import Chase, Policy, PolicyStep, Task, TaskKind, Touch, TouchStatus
from dunning.services import plan_create
from letters.models import Document, PrintItem, Template
from letters.render import Parts
from letters.services import template_save
from letters.tests.test_pdf import pdf_text

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .test_delivery import plan_and_deliver
from .test_shell import _done, _standard_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def _due_for_final_demand():
    customer = overdue_customer(days=50)
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=[1, 2, 3, 4, 5], at=MONDAY_10.replace(day=2))
    return customer


def test_the_final_demand_is_emailed_with_its_pdf_and_queued_for_print():
    customer = _due_for_final_demand()

    plan_and_deliver()

    [email] = mail.outbox
    [(name, pdf, kind)] = email.attachments
    touch = Touch.objects.get(step__position=6)
    assert touch.status == TouchStatus.SENT
    assert kind == "application/pdf" and name.endswith(".pdf")
    assert touch.document.customer == customer
    assert bytes(touch.document.content) == pdf
    assert touch.document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert PrintItem.objects.get().document == touch.document


def test_each_sent_touch_records_the_template_version_it_used(admin_user):
    _due_for_final_demand()
    template = Template.objects.get(key="final_demand")
    first = template.versions.get()
    edited = template_save(
        actor=admin_user,
        template=template,
        parts=Parts(
            subject="Final demand for {{ customer.name }}",
            body_text=first.body_text,
            body_html=first.body_html,
            letter_html=first.letter_html,
        ),
    )

    plan_and_deliver()

    touch = Touch.objects.get(step__position=6)
    assert edited.number == 2
    assert touch.template_version == edited
    assert mail.outbox[0].subject.startswith("Final demand for ")


def test_a_stored_letter_cannot_be_changed_or_deleted():
    _due_for_final_demand()
    plan_and_deliver()
    document = Document.objects.get()

    document.filename = "other.pdf"
    with pytest.raises(Exception, match="cannot be changed"):
        document.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        document.delete()


def test_a_policy_claiming_statutory_interest_puts_it_in_the_letter(admin_client):
    _due_for_final_demand()
    policy = Policy.objects.get(name="Standard")
    admin_client.post(
        reverse("dunning:policy_interest", args=[policy.pk]), {"interest_regime": "uk"}
    )

    plan_and_deliver()

    text = pdf_text(bytes(Touch.objects.get(step__position=6).document.content))
    assert "Late Payment of Commercial Debts" in text
    assert "£40.00" in text  # fixed compensation on a debt under £1,000


def test_a_step_set_to_attach_a_statement_sends_one():
    PolicyStep.objects.filter(version__policy__name="Standard", name="Friendly reminder").update(
        attach_statement=True
    )
    customer = overdue_customer(days=3)

    plan_and_deliver()

    [(name, pdf, _kind)] = mail.outbox[0].attachments
    assert name.startswith("statement-")
    text = pdf_text(pdf)
    assert "Statement of account" in text and customer.invoices.get().number in text
    assert Touch.objects.get().document.kind == "statement"


def test_agreeing_a_plan_stores_its_promissory_note(admin_user):
    customer = overdue_customer(days=20)

    plan = plan_create(
        actor=admin_user,
        customer=customer,
        agreed_on=dt.date(2026, 3, 16),
        instalments=[
            (dt.date(2026, 4, 1), Decimal("60.00")),
            (dt.date(2026, 5, 1), Decimal("40.00")),
        ],
    )

    text = pdf_text(bytes(plan.promissory_note.content))
    assert "Promissory note" in text
    assert "1 Apr 2026" in text and "£60.00" in text and "£100.00" in text
    assert customer.name in text


def test_a_customer_gets_the_template_in_their_countrys_language(admin_client):
    template = Template.objects.get(key="friendly_reminder", language="en")
    admin_client.post(reverse("letters:template_list"), {"template": template.pk, "language": "de"})
    german = Template.objects.get(key="friendly_reminder", language="de")
    first = german.versions.get()
    template_save(
        actor=None,
        template=german,
        parts=Parts("Zahlungserinnerung", first.body_text, first.body_html),
    )
    overdue_customer(days=3, country="DE", timezone="Europe/Berlin")
    overdue_customer(days=3, country="GB")

    plan_and_deliver()

    assert sorted(m.subject.split(":")[0] for m in mail.outbox) == [
        "Friendly reminder",
        "Zahlungserinnerung",
    ]


def test_a_final_demand_without_an_email_address_is_still_posted():
    customer = _due_for_final_demand()
    customer.contacts.update(email="", address="9 Quay Street\nCardiff")

    plan_and_deliver()

    touch = Touch.objects.get(step__position=6)
    assert mail.outbox == []
    assert touch.status == TouchStatus.SENT and touch.to_email == ""
    assert PrintItem.objects.get().document == touch.document
    assert "9 Quay Street" in pdf_text(bytes(touch.document.content))
    assert Task.objects.filter(kind=TaskKind.FIX_CONTACT, customer=customer).exists()
