"""The cell rule every CSV export goes through (invoices.safe_csv)."""

import csv
import io
from decimal import Decimal

import pytest

from invoices import safe_csv


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil","x")', "+1+1", "@SUM(A1)", "-2+3", "\tcmd", "\rcmd", "  =1+1"],
)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert safe_csv.cell(text) == "'" + text


@pytest.mark.parametrize("value", [Decimal("-12.50"), "-12.50", -3, "-3", Decimal("0.00")])
def test_a_negative_amount_stays_a_plain_number(value):
    assert safe_csv.cell(value) == str(value)


def test_a_decimal_is_written_without_an_exponent():
    assert safe_csv.cell(Decimal("1E+3")) == "1000"


def test_a_float_is_written_in_plain_digits():
    assert (safe_csv.cell(-1e-05), safe_csv.cell(31.0)) == ("-0.00001", "31.0")


@pytest.mark.parametrize("text", ["Acme Ltd", "O'Brien & Sons", "2026-03-15", "", "a=b", "1-30"])
def test_ordinary_text_is_left_alone(text):
    assert safe_csv.cell(text) == text


def test_none_is_an_empty_cell():
    assert safe_csv.cell(None) == ""


def test_the_writer_passes_every_cell_through_the_rule():
    buffer = io.StringIO()

    safe_csv.writer(buffer, lineterminator="\n").writerows(
        [["name", "amount"], ["=1+1", Decimal("-12.50")]]
    )

    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["name", "amount"],
        ["'=1+1", "-12.50"],
    ]
