"""The organisation's letterhead: set on the letter settings screen, printed on every letter
and document, and laid out so a final demand looks finished however long it runs."""

import datetime as dt
import importlib
import io
import re
from collections.abc import Callable

import pytest
from django.apps import apps
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from dunning.models import Chase
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from dunning.tests.test_delivery import plan_and_deliver
from dunning.tests.test_shell import _done, _standard_version
from invoices.tests.factories import ContactFactory, InvoiceFactory
from letters.demo import DEMO_LETTERHEAD, demo_letterhead_set
from letters.documents import statement_pdf
from letters.forms import LetterSettingsForm
from letters.models import (
    OLD_PAYMENT_INSTRUCTIONS,
    PAYMENT_INSTRUCTIONS,
    Document,
    DocumentKind,
    LetterSettings,
)

pytestmark = pytest.mark.django_db

LETTERHEAD = {
    "address": "Unit 4, Mill Lane\nLeeds\nLS1 4AB",
    "company_number": "01234567",
    "vat_id": "GB 123 4567 89",
    "bank_details": "Northgate Bank plc\nSort code 20-45-77\nAccount 43917265",
    "payment_reference": "your account number",
    "payment_instructions": "Please pay by bank transfer.",
    "payment_link": "",
    "signature": "Sam Carter\nCredit Controller",
    "page_size": "A4",
}
CLOSING = "Yours faithfully"
FOOTER_MM = 22  # the bottom page margin of the letter frame


def letterhead_set(**changes) -> LetterSettings:
    return LetterSettings.objects.update_or_create(pk=1, defaults={**LETTERHEAD, **changes})[0]


def final_demand_pdf(*, invoices: int = 2, numbers: Callable[[int], str] | None = None) -> bytes:
    """The final demand as delivery stores it, for a customer with `invoices` overdue
    (numbered by `numbers`, else the factory's INV-000123)."""
    customer = overdue_customer(days=50, invoices=0, email=False, name="Harbour Fab Ltd")
    due = MONDAY_10.date() - dt.timedelta(days=50)
    for n in range(invoices):
        named = {"number": numbers(n)} if numbers else {}
        InvoiceFactory(
            customer=customer, issue_date=due - dt.timedelta(days=30), due_date=due, **named
        )
    ContactFactory(customer=customer, name="Priya Shah", address="4 Dock Road\nHull\nHU1 2AB")
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=[1, 2, 3, 4, 5], at=MONDAY_10.replace(day=2))
    plan_and_deliver()
    return bytes(Document.objects.get(customer=customer, kind=DocumentKind.LETTER).content)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def body_lines(page_text: str) -> list[str]:
    """A page's lines without the footer's company line and page number."""
    lines = [line.strip() for line in page_text.splitlines() if line.strip()]
    return [line for line in lines if not re.search(r"Page \d+ of \d+|Company no\.", line)]


def fonts_by_page_part(pdf: bytes) -> tuple[set[str], set[str]]:
    """The fonts drawing the letter's own text and those drawing the page footer."""
    body, footer = set(), set()

    def visit(text, cm, tm, font_dict, font_size):
        if not text.strip() or font_dict is None:
            return
        name = str(font_dict["/BaseFont"]).split("+")[-1]
        # The footer sits in the bottom margin: its baseline is in the lowest FOOTER_MM.
        (footer if tm[5] * cm[3] + cm[5] < FOOTER_MM / 25.4 * 72 else body).add(name)

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return body, footer


# The settings screen


def test_an_admin_sets_the_letterhead_and_each_change_is_audited(admin_client_):
    response = admin_client_.post(reverse("letters:settings"), LETTERHEAD)

    saved = LetterSettings.current()
    assert response.status_code == 302
    assert saved.company_number == "01234567" and saved.vat_id == "GB 123 4567 89"
    assert saved.bank_details.splitlines() == [
        "Northgate Bank plc",
        "Sort code 20-45-77",
        "Account 43917265",
    ]
    event = AuditEvent.objects.get(action="letters.settings.updated")
    assert {"address", "company_number", "vat_id", "bank_details"} <= set(event.data["changes"])


def test_the_letterhead_is_trimmed_row_by_row(admin_client_):
    admin_client_.post(
        reverse("letters:settings"),
        {**LETTERHEAD, "address": "  Unit 4,  Mill Lane \n\n Leeds\n", "vat_id": " GB  123 "},
    )

    saved = LetterSettings.current()
    assert saved.address == "Unit 4, Mill Lane\nLeeds"
    assert saved.vat_id == "GB 123"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("company_number", "accounts@mill.example", "A company number is letters and digits"),
        ("vat_id", "see invoice", "A VAT number is letters and digits"),
        ("vat_id", "GB<123>", "A VAT number is letters and digits"),
        ("bank_details", "\n".join(f"row {n}" for n in range(9)), "Keep the bank details to 6"),
        ("address", "x" * 90, "up to 80 characters"),
    ],
)
def test_a_malformed_letterhead_is_refused_and_nothing_changes(
    admin_client_, field, value, message
):
    before = letterhead_set()

    response = admin_client_.post(reverse("letters:settings"), {**LETTERHEAD, field: value})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert getattr(LetterSettings.current(), field) == getattr(before, field)
    assert not AuditEvent.objects.filter(action="letters.settings.updated").exists()


def test_the_settings_screen_groups_the_letterhead_and_how_to_pay(admin_client_):
    page = admin_client_.get(reverse("letters:settings")).content.decode()

    for label in ("Letterhead", "How to pay", "Company number", "VAT number", "Bank details"):
        assert label in page


# The final demand


@pytest.mark.usefixtures("ladder")
def test_the_final_demand_carries_the_letterhead_and_the_bank_details():
    letterhead_set()

    text = "\n".join(pages_text(final_demand_pdf()))

    assert "Unit 4, Mill Lane" in text and "LS1 4AB" in text
    assert "Company no. 01234567" in text and "VAT GB 123 4567 89" in text
    assert "Sort code 20-45-77" in text and "Account 43917265" in text
    assert "Reference: your account number" in text


@pytest.mark.usefixtures("ladder")
def test_without_bank_details_there_is_no_empty_payment_box():
    letterhead_set(bank_details="")

    text = "\n".join(pages_text(final_demand_pdf()))

    assert "PAYMENT DETAILS" not in text
    assert "Company no. 01234567" in text


# Fifteen lengths in a row move the page break across a whole page's worth of closing text,
# so one of them would leave the signature alone on the last page without the layout rules.
@pytest.mark.usefixtures("ladder")
@pytest.mark.parametrize("invoices", range(30, 45))
def test_a_long_final_demand_never_starts_a_page_with_the_signature_alone(invoices):
    letterhead_set()

    pages = pages_text(final_demand_pdf(invoices=invoices))

    closing_page = next(i for i, text in enumerate(pages) if CLOSING in text)
    lines = body_lines(pages[closing_page])
    before_closing = lines[: next(i for i, line in enumerate(lines) if CLOSING in line)]
    assert before_closing, "the page starts with the closing and signature alone"
    assert "Sam Carter" in pages[closing_page]  # the signature stays with the closing


def wrapping_number(n: int) -> str:
    # Too long for its column: the row takes two lines, and could be cut between them.
    return f"INV-{n:04d}-MAINTENANCE-CONTRACT-NORTH-YARD-WAREHOUSE-LOT-Q{n:04d}"


# A taller letterhead moves every row down the page: across these six, a row of four lines
# meets the page break part-way more than once without the layout rule.
@pytest.mark.usefixtures("ladder")
@pytest.mark.parametrize("address_rows", range(1, 7))
def test_a_long_final_demand_splits_no_invoice_row_across_pages(address_rows):
    letterhead_set(address="\n".join(f"Address line {n}" for n in range(address_rows)))

    pages = pages_text(final_demand_pdf(invoices=20, numbers=wrapping_number))

    assert len(pages) >= 2
    for text in pages:
        starts = re.findall(r"INV-(\d{4})-", text)
        ends = re.findall(r"LOT-\s*Q(\d{4})", text)
        balances = re.findall(r"£100\.00", text)
        assert len(starts) == len(ends) == len(balances), "a row is cut between two pages"


@pytest.mark.usefixtures("ladder")
def test_a_long_invoice_list_repeats_its_heading_on_each_page():
    letterhead_set()

    pages = pages_text(final_demand_pdf(invoices=40))

    with_rows = [text for text in pages if re.search(r"^INV-\d+", text, re.M)]
    assert len(with_rows) >= 2
    assert all("Days overdue" in text for text in with_rows)


@pytest.mark.usefixtures("ladder")
def test_the_footer_is_set_in_the_letters_font():
    letterhead_set()

    body, footer = fonts_by_page_part(final_demand_pdf(invoices=34))

    assert footer and footer <= body
    assert all(name.startswith("DejaVu-Sans") for name in body | footer)


# Documents


def test_the_statement_carries_the_letterhead_and_the_payment_box():
    letterhead_set()
    customer = overdue_customer(days=20, invoices=2, name="Harbour Fab Ltd")

    text = "\n".join(pages_text(statement_pdf(customer, today=MONDAY_10.date())))

    assert "Unit 4, Mill Lane" in text and "Company no. 01234567" in text
    assert "Sort code 20-45-77" in text


# The shipped wording and the demo


def test_the_old_default_wording_is_replaced_and_a_reworded_one_kept():
    migration = importlib.import_module(
        "letters.migrations.0004_payment_wording_and_letterhead_help"
    )
    letterhead_set(payment_instructions=OLD_PAYMENT_INSTRUCTIONS)

    migration.payment_wording_update(apps, None)

    assert LetterSettings.current().payment_instructions == PAYMENT_INSTRUCTIONS
    letterhead_set(payment_instructions="Pay by cheque to our Leeds office.")
    migration.payment_wording_update(apps, None)
    assert LetterSettings.current().payment_instructions == "Pay by cheque to our Leeds office."


def test_no_letter_points_at_an_account_on_the_invoice():
    assert "shown on the invoice" not in LetterSettings().payment_instructions


def test_the_demo_letterhead_is_one_the_settings_screen_accepts():
    form = LetterSettingsForm(data={**LETTERHEAD, **DEMO_LETTERHEAD}, instance=LetterSettings())

    assert form.is_valid(), form.errors


def test_the_demo_letterhead_is_set_once_and_an_admins_letterhead_stays():
    assert demo_letterhead_set() is True
    assert LetterSettings.current().vat_id == DEMO_LETTERHEAD["vat_id"]

    letterhead_set(address="1 Other Road")
    assert demo_letterhead_set() is False
    assert LetterSettings.current().address == "1 Other Road"
