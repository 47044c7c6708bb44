"""Contacts by channel (which may be used, one primary for each) and the customer's terms:
language, payment terms and the signed terms document."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from dunning.delivery import contact_choose, postal_contact
from dunning.models import CustomerPolicy, Policy, Touch
from dunning.policy_services import policy_copy
from dunning.services import dunning_cycle
from dunning.tests.factories import MONDAY_10, overdue_customer
from invoices.models import Contact, ContactRole
from invoices.services import contact_create, contact_update
from invoices.tests.factories import ContactFactory, CustomerFactory
from letters.models import Document, DocumentKind, Template
from letters.services import template_translate

from .test_record_edit import _contact_data, _edit, _form

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _add(client, customer, **values):
    return client.post(reverse("customer_contact_add", args=[customer.pk]), _contact_data(**values))


def test_the_first_contact_with_an_email_becomes_primary_for_email(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    _add(collector_client, customer, name="Ann", email="ann@example.com")

    ann = customer.contacts.get()
    assert (ann.primary_email, ann.primary_phone, ann.primary_post) == (True, False, False)
    page = collector_client.get(reverse("customer_detail", args=[customer.pk])).text
    assert "Emailed first" in page


def test_making_a_contact_primary_for_letters_moves_it_from_the_other(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    _add(collector_client, customer, name="Ann", address="1 High St\nLeeds")
    _add(
        collector_client,
        customer,
        name="Lee Legal",
        role="legal",
        address="2 Court Rd\nYork",
        primary_post="on",
    )

    primaries = list(Contact.objects.filter(customer=customer, primary_post=True))
    assert [c.name for c in primaries] == ["Lee Legal"]
    assert postal_contact(customer, escalation=False).name == "Lee Legal"


def test_primary_for_a_channel_needs_its_detail_and_changes_nothing_else(
    collector_client, collector
):
    customer = CustomerFactory(collector=collector)

    response = _add(collector_client, customer, name="Ann", email="a@x.com", primary_phone="on")

    assert "Give their phone to make them primary for phone." in response.text
    assert not customer.contacts.exists()


def test_a_contact_who_may_not_be_emailed_cannot_be_primary_for_email(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    response = _add(
        collector_client,
        customer,
        name="Ann",
        email="a@x.com",
        email_opt_out="on",
        primary_email="on",
    )

    assert "They may not be reached by email: untick one." in response.text
    assert not customer.contacts.exists()


def test_reminders_go_to_the_primary_for_email_and_letters_skip_a_do_not_post_address():
    customer = CustomerFactory()
    billing = ContactFactory(customer=customer, email="billing@x.com", address="1 A St")
    contact_create(
        actor=None,
        customer=customer,
        name="Finance lead",
        role=ContactRole.CALLS,
        email="lead@x.com",
        primary_email=True,
    )
    Contact.objects.filter(pk=billing.pk).update(post_opt_out=True)

    assert contact_choose(customer, escalation=False).email == "lead@x.com"
    assert postal_contact(customer, escalation=False) is None


def test_removing_the_email_of_the_primary_hands_email_to_another_contact(collector_client):
    customer = CustomerFactory()
    first = contact_create(actor=None, customer=customer, name="A", email="a@x.com")
    second = contact_create(actor=None, customer=customer, name="B", email="b@x.com")
    first.refresh_from_db()
    assert first.primary_email and not Contact.objects.get(pk=second.pk).primary_email

    contact_update(actor=None, contact=first, email="", phone="0113 496 0000")

    assert Contact.objects.get(pk=second.pk).primary_email
    assert not Contact.objects.get(pk=first.pk).primary_email


def test_language_and_payment_terms_are_saved_and_shown(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    response = _edit(collector_client, customer, language="de_de", payment_terms_days="30")

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.language, customer.payment_terms_days) == ("de-DE", 30)
    page = collector_client.get(reverse("customer_detail", args=[customer.pk])).text
    assert "30 days to pay" in page and "writes in de-DE" in page
    [event] = AuditEvent.objects.filter(action="ledger.customer.updated")
    assert event.data["changes"]["payment_terms_days"] == [None, 30]


def test_a_bad_language_or_payment_terms_is_refused(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    response = _edit(collector_client, customer, language="English!", payment_terms_days="400")

    assert "Use a language code such as en, en-GB or de." in response.text
    assert "Ensure this value is less than or equal to 365." in response.text
    customer.refresh_from_db()
    assert (customer.language, customer.payment_terms_days) == ("", None)


def test_the_signed_terms_are_kept_as_a_document_and_audited(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    upload = SimpleUploadedFile("terms-v3.pdf", PDF, content_type="application/pdf")

    response = collector_client.post(
        reverse("customer_edit", args=[customer.pk]),
        {**_form(customer), "terms_document": upload},
    )

    assert response.status_code == 302
    document = Document.objects.get(customer=customer, kind=DocumentKind.SIGNED_TERMS)
    assert bytes(document.content) == PDF and document.filename == "terms-v3.pdf"
    assert AuditEvent.objects.filter(action="ledger.customer.terms_attached").count() == 1
    page = collector_client.get(reverse("customer_edit", args=[customer.pk])).text
    assert "terms-v3.pdf" in page
    download = collector_client.get(reverse("letters:document", args=[document.pk]))
    assert download.content == PDF


def test_signed_terms_that_are_not_a_pdf_are_refused_and_nothing_changes(
    collector_client, collector
):
    customer = CustomerFactory(collector=collector)
    upload = SimpleUploadedFile("terms.docx", b"PK\x03\x04 not a pdf")

    response = collector_client.post(
        reverse("customer_edit", args=[customer.pk]),
        {**_form(customer, name="Renamed"), "terms_document": upload},
    )

    assert "That is not a PDF" in response.text
    assert not Document.objects.filter(customer=customer).exists()
    customer.refresh_from_db()
    assert customer.name != "Renamed"


def test_a_credit_hold_set_by_hand_is_the_persons_and_dated(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    customer.credit_hold_by_rule = True
    customer.save(update_fields=["credit_hold_by_rule"])

    _edit(collector_client, customer, credit_hold="on")

    customer.refresh_from_db()
    assert customer.credit_hold and not customer.credit_hold_by_rule
    assert customer.credit_hold_reason == "set by hand"
    assert customer.credit_hold_since is not None


def test_a_customers_chosen_language_picks_its_templates_over_their_countrys(admin_user):
    english = Template.objects.get(key="friendly_reminder", language="en")
    template_translate(actor=admin_user, template=english, language="de")
    in_german = overdue_customer(days=3, country="GB", timezone="UTC", language="de-AT")
    in_english = overdue_customer(days=3, country="GB", timezone="UTC")

    dunning_cycle(as_of=MONDAY_10)

    def language(customer):
        touch = Touch.objects.get(customer=customer)
        return touch.template_version.template.language

    assert (language(in_german), language(in_english)) == ("de", "en")


def test_the_customer_form_chooses_the_policy_and_back_to_the_rules(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    gentle = policy_copy(actor=None, name="Gentle", source=Policy.objects.get(is_default=True))

    _edit(collector_client, customer, policy=str(gentle.pk))

    assert CustomerPolicy.objects.get(customer=customer).policy == gentle
    page = collector_client.get(reverse("customer_edit", args=[customer.pk])).text
    assert f'<option value="{gentle.pk}" selected>Gentle</option>' in page

    _edit(collector_client, customer, policy="")

    assert not CustomerPolicy.objects.filter(customer=customer).exists()
    assert AuditEvent.objects.filter(action="dunning.policy.assigned").count() == 2
