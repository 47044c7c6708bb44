"""Amounts are read in exactly the documented format, by every import and every form:
an optional minus, digits, and optionally a dot and one or two decimals."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.urls import reverse

from invoices.forms import AmountField
from invoices.models import MONEY, Invoice, Payment
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from invoices.tests.test_import_views import MAPPING, upload

pytestmark = pytest.mark.django_db

NOT_AN_AMOUNT = "is not an amount: use digits with a dot for decimals, e.g. 1234.56"
OUTSIDE_THE_FORMAT = [
    "1E3",
    "1e-2",
    "1_234.56",
    "1,234.56",
    "1 234.56",
    "+5",
    ".5",
    "5.",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "١٢٣",  # Arabic-Indic digits, which Decimal() reads as 123
    "12.50 GBP",
]


@pytest.fixture
def acme():
    return CustomerFactory(external_id="ACME", currency="GBP")


def invoices_file(tmp_path, amount: str):
    return write_csv(
        tmp_path,
        "number,customer_external_id,issue_date,due_date,currency,amount\n"
        "INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00\n"
        f'INV-2,ACME,2026-01-01,2026-01-31,GBP,"{amount}"\n',
    )


@pytest.mark.parametrize("amount", OUTSIDE_THE_FORMAT)
def test_an_invoice_amount_outside_the_format_is_refused(tmp_path, acme, amount):
    with pytest.raises(CommandError) as refusal:
        import_csv("invoices", invoices_file(tmp_path, amount))

    assert f"line 3: amount '{amount}' {NOT_AN_AMOUNT}" in str(refusal.value)
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("amount", ["1E3", "1_234.56", "NaN", "+5"])
def test_a_payment_amount_outside_the_format_is_refused(tmp_path, amount):
    InvoiceFactory(number="INV-1", amount=Decimal("100.00"))
    path = write_csv(tmp_path, f'invoice_number,date,amount\nINV-1,2026-02-01,"{amount}"\n')

    with pytest.raises(CommandError) as refusal:
        import_csv("payments", path)

    assert f"line 2: amount '{amount}' {NOT_AN_AMOUNT}" in str(refusal.value)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("amount", "cents"),
    [("1234.56", "1234.56"), ("7", "7.00"), ("0.5", "0.50"), (" 12.3 ", "12.30"), ("007", "7.00")],
)
def test_amounts_in_the_format_are_read_to_the_cent(tmp_path, acme, amount, cents):
    import_csv("invoices", invoices_file(tmp_path, amount))

    assert Invoice.objects.get(number="INV-2").amount == Decimal(cents)


def test_a_negative_invoice_amount_is_refused_as_not_more_than_zero(tmp_path, acme):
    with pytest.raises(CommandError, match="line 3: amount -12.50 must be more than zero"):
        import_csv("invoices", invoices_file(tmp_path, "-12.50"))


def test_an_amount_of_forty_digits_is_refused_as_too_large(tmp_path, acme):
    with pytest.raises(CommandError, match=r"line 3: amount 9{40} is too large"):
        import_csv("invoices", invoices_file(tmp_path, "9" * 40))


def test_a_long_junk_amount_is_quoted_back_shortened(tmp_path, acme):
    with pytest.raises(CommandError) as refusal:
        import_csv("invoices", invoices_file(tmp_path, "x" * 5000))

    assert f"amount '{'x' * 39}…' {NOT_AN_AMOUNT}" in str(refusal.value)


def test_the_browser_import_refuses_an_amount_outside_the_format(
    admin_client_, acme, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    content = b"Ref,Client,Issued,Due,Cur,Total,Memo\nX-1,ACME,01/05/2026,02/04/2026,GBP,1E3,m\n"
    token = upload(admin_client_, content=content)
    admin_client_.post(reverse("import:map", args=[token]), MAPPING)

    preview = admin_client_.get(reverse("import:preview", args=[token]))

    assert f"line 2: amount &#x27;1E3&#x27; {NOT_AN_AMOUNT}" in preview.text
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("text", OUTSIDE_THE_FORMAT)
def test_the_amount_field_of_the_forms_refuses_text_outside_the_format(text):
    field = AmountField(**MONEY, min_value=Decimal("0.01"))

    with pytest.raises(ValidationError) as refusal:
        field.clean(text)

    assert f"'{text}' {NOT_AN_AMOUNT}." in refusal.value.messages


def test_the_amount_field_reads_an_amount_in_the_format():
    assert AmountField(**MONEY).clean(" 1234.5 ") == Decimal("1234.5")


def test_the_amount_field_leaves_the_sign_to_min_value():
    with pytest.raises(ValidationError, match="greater than or equal to 0.01"):
        AmountField(**MONEY, min_value=Decimal("0.01")).clean("-12.50")
