"""The shipped templates, rendered for a realistic customer, say the right facts."""

import datetime as dt
from decimal import Decimal

import pytest

from invoices.tests.factories import ContactFactory, CustomerFactory
from letters.defaults import DEFAULTS_DIR as SHIPPED_DIR
from letters.defaults import SHIPPED
from letters.models import LetterSettings, Template
from letters.render import Parts, context_build, letter_pdf, message_render

from .test_pdf import pdf_text

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 16)


@pytest.fixture
def context():
    customer = CustomerFactory(name="Harbour Fabrication Ltd", external_id="HF-204", currency="GBP")
    contact = ContactFactory(customer=customer, name="Priya Shah", address="4 Dock Road\nHull")
    LetterSettings.objects.create(
        pk=1,
        address="1 Mill Lane\nLeeds",
        signature="Sam Carter\nCredit Controller",
        payment_instructions="Sort code 12-34-56, account 12345678",
    )
    invoices = [
        {
            "number": "INV-7001",
            "due_date": TODAY - dt.timedelta(days=61),
            "balance": Decimal("1200.00"),
        },
        {
            "number": "INV-7044",
            "due_date": TODAY - dt.timedelta(days=12),
            "balance": Decimal("350.25"),
        },
    ]
    return context_build(
        customer=customer,
        contact=contact,
        invoices=invoices,
        today=TODAY,
        step="Final demand",
        deadline=dt.date(2026, 4, 3),
        deadline_days=14,
    )


def _parts(key: str) -> Parts:
    return Parts.of(Template.objects.get(key=key, language="en").versions.get())


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_every_shipped_email_names_the_invoices_and_the_total(context, key):
    message = message_render(_parts(key), context)

    for text in (message.text, message.html):
        assert "INV-7001" in text and "INV-7044" in text
        assert "£1,550.25" in text
        assert "Priya Shah" in text
        assert "Sort code 12-34-56" in text
    assert "{" not in message.subject and message.subject


def test_the_final_demand_letter_reads_back_with_amounts_days_and_deadline(context):
    text = pdf_text(letter_pdf(_parts("final_demand"), context))

    assert "Final demand for payment" in text
    assert "Priya Shah" in text and "4 Dock Road" in text  # the addressee
    assert "INV-7001" in text and "61" in text  # days overdue
    assert "£1,200.00" in text and "£1,550.25" in text
    assert "3 Apr 2026" in text and "14 business days" in text
    assert "payment plan" in text
    assert "Sort code 12-34-56" in text
    assert "Sam Carter" in text


def test_statutory_interest_appears_only_where_the_policy_enables_it(context):
    without = pdf_text(letter_pdf(_parts("final_demand"), context))
    customer = context["customer"]
    from invoices.models import Customer

    with_interest = context_build(
        customer=Customer.objects.get(external_id=customer["account"]),
        contact=None,
        invoices=[
            {
                "number": "INV-7001",
                "due_date": TODAY - dt.timedelta(days=61),
                "balance": Decimal("1200.00"),
            }
        ],
        today=TODAY,
        deadline=dt.date(2026, 4, 3),
        deadline_days=14,
        interest_regime="uk",
    )
    text = pdf_text(letter_pdf(_parts("final_demand"), with_interest))

    assert "statutory interest" not in without
    assert "Late Payment" in text
    assert "£70.00" in text  # fixed compensation on a debt of £1,000 to £9,999.99
    assert with_interest["grand_total"] == (
        Decimal("1200.00") + with_interest["interest"]["total"] + Decimal("70.00")
    )


def test_a_release_refreshes_the_shipped_templates_nobody_edited_and_keeps_edited_ones():
    from letters.defaults import refresh_shipped
    from letters.models import TemplateVersion

    untouched = Template.objects.get(key="firm_reminder", language="en")
    edited = Template.objects.get(key="friendly_reminder", language="en")
    old = untouched.versions.order_by("-number").first()
    TemplateVersion.objects.create(
        template=untouched,
        number=old.number + 1,
        note="Shipped default",
        subject="An older release's subject",
        body_text=old.body_text,
        body_html=old.body_html,
    )
    mine = edited.versions.order_by("-number").first()
    TemplateVersion.objects.create(
        template=edited,
        number=mine.number + 1,
        note="Our own wording",
        subject="Our own subject",
        body_text=mine.body_text,
        body_html=mine.body_html,
    )

    assert refresh_shipped() == 1
    assert refresh_shipped() == 0  # once only

    latest = untouched.versions.order_by("-number").first()
    assert latest.subject == (SHIPPED_DIR / "firm_reminder" / "subject.txt").read_text().strip()
    assert latest.note == "Shipped default, updated with a new release"
    assert edited.versions.order_by("-number").first().subject == "Our own subject"
