"""Files that are garbled or made to attack: control characters in fields, NUL bytes, binary
junk. Each is refused with its line number and a plain reason, and nothing is imported."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.urls import reverse

from invoices.models import Customer, Invoice, Payment
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from invoices.tests.test_import_views import upload

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = b"external_id,name,email,phone,region\n"
GOOD_CUSTOMER = b"C1,Good Ltd,ap@good.example,+44 20 7946 0000,\n"
NUL_MESSAGE = "contains a NUL byte (0x00); the file does not look like CSV text"


def rejected(kind: str, path) -> str:
    with pytest.raises(CommandError) as refusal:
        import_csv(kind, path)
    return str(refusal.value)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (b'C2,"Two\nLines Ltd",,,\n', "name contains a line break; it must fit on one line"),
        (b'C2,"Two\rLines Ltd",,,\n', "name contains a line break"),
        (b"C2,Bell\x07 Ltd,,,\n", "name contains a control character (0x07)"),
        (b"C2,Esc\x1b[2J Ltd,,,\n", "name contains a control character (0x1B)"),
        (b"C2,Tab\tLtd,,,\n", "name contains a tab character"),
        ("C2,Sep\u2028Ltd,,,\n".encode(), "name contains a line break"),
        (b'"C\n2",Ok Ltd,,,\n', "external_id contains a line break"),
        (b'C2,Ok Ltd,"ap@ok.example\nBcc: x@evil.example",,\n', "email contains a line break"),
        (b'C2,Ok Ltd,,"020\n7946",\n', "phone contains a line break"),
        (b'C2,Ok Ltd,,,"North\nWest"\n', "region contains a line break"),
    ],
)
def test_a_customer_field_with_a_control_character_is_refused(tmp_path, row, reason):
    message = rejected("customers", write_csv(tmp_path, CUSTOMERS + GOOD_CUSTOMER + row))

    assert f"line 3: {reason}" in message
    assert not Customer.objects.exists()


def test_a_refused_email_is_not_also_called_not_an_email_address(tmp_path):
    row = b'C2,Ok Ltd,"ap@ok.example\nBcc: x@evil.example",,\n'

    message = rejected("customers", write_csv(tmp_path, CUSTOMERS + row))

    assert "is not an email address" not in message


@pytest.mark.parametrize("name", ["+Plus Ltd", "=Equals & Co", "@Home Ltd", "-Minus GmbH"])
def test_a_name_that_starts_with_a_formula_character_is_imported_as_it_is(tmp_path, name):
    content = CUSTOMERS + f'C1,"{name}",,,\n'.encode()

    import_csv("customers", write_csv(tmp_path, content))

    assert Customer.objects.get(external_id="C1").name == name


def test_an_invoice_number_with_a_line_break_is_refused(tmp_path):
    CustomerFactory(external_id="ACME", currency="GBP")
    content = (
        b"number,customer_external_id,issue_date,due_date,currency,amount\n"
        b'"INV\n1",ACME,2026-01-01,2026-01-31,GBP,10.00\n'
    )

    message = rejected("invoices", write_csv(tmp_path, content))

    assert "line 2: number contains a line break" in message
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (b'INV-1,2026-02-01,10.00,"BACS\r\nref"\n', "reference contains a line break"),
        (b"INV-1,2026-02-01,10.00,ref\x1b]0;title\x07\n", "reference contains a control character"),
        (b'"INV\n-1",2026-02-01,10.00,\n', "invoice_number contains a line break"),
    ],
)
def test_a_payment_field_with_a_control_character_is_refused(tmp_path, row, reason):
    InvoiceFactory(number="INV-1", amount=Decimal("100.00"))
    content = b"invoice_number,date,amount,reference\n" + row

    message = rejected("payments", write_csv(tmp_path, content))

    assert f"line 2: {reason}" in message
    assert not Payment.objects.exists()


def test_a_nul_byte_is_named_with_its_line_and_nothing_is_imported(tmp_path):
    content = CUSTOMERS + GOOD_CUSTOMER + b"C2,Bad\x00 Ltd,,,\n" + b"C3,Later Ltd,,,\n"

    message = rejected("customers", write_csv(tmp_path, content))

    assert f"line 3: {NUL_MESSAGE}" in message
    assert not Customer.objects.exists()


def test_a_nul_byte_in_the_header_row_is_named_too(tmp_path):
    message = rejected("customers", write_csv(tmp_path, b"external_id,na\x00me\n" + GOOD_CUSTOMER))

    assert f"line 1: the header row {NUL_MESSAGE}" in message


def test_a_utf16_file_is_refused_as_not_csv_text(tmp_path):
    content = "external_id,name\nC1,Good Ltd\n".encode("utf-16")

    message = rejected("customers", write_csv(tmp_path, content))

    assert f"line 1: the header row {NUL_MESSAGE}" in message


def test_binary_junk_without_nul_bytes_is_refused_as_not_utf8(tmp_path):
    junk = bytes(range(0x80, 0x100)) * 8

    message = rejected("customers", write_csv(tmp_path, CUSTOMERS + junk + b"\n"))

    assert "line 2: is not UTF-8 text (save the file as UTF-8)" in message
    assert not Customer.objects.exists()


def test_a_file_with_old_mac_line_endings_is_refused_with_a_plain_reason(tmp_path):
    content = (CUSTOMERS + GOOD_CUSTOMER).replace(b"\n", b"\r")

    message = rejected("customers", write_csv(tmp_path, content))

    assert "line 1: the header row cannot be read as CSV: it holds a carriage return" in message


def test_a_field_too_long_for_csv_is_refused_with_a_plain_reason(tmp_path):
    content = CUSTOMERS + GOOD_CUSTOMER + b'C2,"' + b"x" * 200_000 + b'",,,\n'

    message = rejected("customers", write_csv(tmp_path, content))

    assert "line 3: cannot be read as CSV: a field is longer than 131072 characters" in message


def test_control_characters_quoted_back_in_errors_are_shown_escaped(tmp_path):
    content = b"external_id,name,timezone\nC1,Ok Ltd,Europe/London\x1b[2J\n"

    message = rejected("customers", write_csv(tmp_path, content))

    assert "Europe/London\\x1b[2J" in message
    assert "\x1b" not in message


@pytest.mark.slow
def test_the_command_line_names_a_nul_byte_without_a_traceback(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "collections_app.settings",
    }
    path = write_csv(tmp_path, CUSTOMERS + GOOD_CUSTOMER + b"C2,Bad\x00 Ltd,,,\n")

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert manage("migrate", "-v0").returncode == 0
    result = manage("import_csv", "customers", str(path))

    assert result.returncode != 0
    assert f"line 3: {NUL_MESSAGE}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_browser_import_shows_a_nul_byte_as_a_problem(admin_client_, media):
    token = upload(
        admin_client_, content=CUSTOMERS + GOOD_CUSTOMER + b"C2,Bad\x00,,,\n", kind="customers"
    )
    admin_client_.post(
        reverse("import:map", args=[token]),
        {
            "column_0": "external_id",
            "column_1": "name",
            "column_2": "email",
            "column_3": "phone",
            "column_4": "region",
            "date_format": "%Y-%m-%d",
        },
    )

    preview = admin_client_.get(reverse("import:preview", args=[token]))
    confirm = admin_client_.post(reverse("import:confirm", args=[token]))

    assert preview.status_code == 200
    assert f"line 3: {NUL_MESSAGE}" in preview.text
    assert confirm.status_code == 302
    assert not Customer.objects.exists()


def test_the_browser_import_refuses_a_nul_byte_in_the_header_row(admin_client_, media):
    token = upload(admin_client_, content="external_id,name\n".encode("utf-16"), kind="customers")

    response = admin_client_.get(reverse("import:map", args=[token]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("import:start")
    assert NUL_MESSAGE in response.text
