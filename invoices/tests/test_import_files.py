"""Reading the file itself: encodings, headers, the column mapping and the date format."""

import io

import pytest
from django.core.management.base import CommandError

from invoices.importing import ImportRejected, import_run
from invoices.models import ColumnMapping, Invoice
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = b"number,customer_external_id,issue_date,due_date,currency,amount\n"
ROW = b"INV-1,ACME,2026-01-01,2026-01-31,GBP,100.00\n"


@pytest.fixture(autouse=True)
def acme():
    return CustomerFactory(external_id="ACME", currency="GBP")


def test_it_reads_a_file_that_starts_with_a_utf8_byte_order_mark(tmp_path):
    import_csv("invoices", write_csv(tmp_path, b"\xef\xbb\xbf" + HEADER + ROW))

    assert Invoice.objects.filter(number="INV-1").exists()


def test_it_reads_windows_line_endings(tmp_path):
    content = (HEADER + ROW).replace(b"\n", b"\r\n")

    import_csv("invoices", write_csv(tmp_path, content))

    assert Invoice.objects.filter(number="INV-1").exists()


def test_it_names_the_line_that_is_not_utf8(tmp_path):
    latin1 = "INV-2,ACME,2026-01-01,2026-01-31,GBP,5.00,Café\n".encode("latin-1")
    header = HEADER.rstrip(b"\n") + b",note\n"
    content = header + ROW.rstrip(b"\n") + b",ok\n" + latin1

    with pytest.raises(CommandError, match="line 3: is not UTF-8 text"):
        import_csv("invoices", write_csv(tmp_path, content))

    assert not Invoice.objects.exists()


def test_a_quoted_field_over_two_lines_keeps_later_line_numbers_physical(tmp_path):
    content = (
        HEADER.rstrip(b"\n")
        + b",note\n"
        + b'INV-1,ACME,2026-01-01,2026-01-31,GBP,1,"two\nlines"\n'
        + b"INV-2,ACME,2026-01-01,2026-01-31,GBP,-1,x\n"
    )

    with pytest.raises(CommandError, match="line 4: amount -1"):
        import_csv("invoices", write_csv(tmp_path, content))


def test_it_skips_blank_lines(tmp_path):
    out = import_csv("invoices", write_csv(tmp_path, HEADER + b"\n" + ROW + b",,,,,\n"))

    assert "Imported 1 invoices row(s)" in out


def test_it_names_a_missing_required_column(tmp_path):
    content = b"number,customer_external_id,issue_date,currency,amount\n"

    with pytest.raises(CommandError, match="line 1: missing required column.s.: due_date"):
        import_csv("invoices", write_csv(tmp_path, content))


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="the file is empty"):
        import_csv("invoices", write_csv(tmp_path, b""))


def test_map_renames_the_files_headers(tmp_path):
    content = b"Ref,Client,Date,Due,Cur,Total\n" + ROW
    mapping = (
        "Ref=number,Client=customer_external_id,Date=issue_date,Due=due_date,"
        "Cur=currency,Total=amount"
    )

    import_csv("invoices", write_csv(tmp_path, content), "--map", mapping)

    assert Invoice.objects.filter(number="INV-1").exists()


def test_map_naming_a_column_we_do_not_have_is_refused(tmp_path):
    with pytest.raises(
        CommandError, match="mapping names 'total', which is not one of the invoices columns"
    ):
        import_csv("invoices", write_csv(tmp_path, HEADER + ROW), "--map", "amount=total")


def test_two_columns_mapped_to_the_same_name_are_refused(tmp_path):
    content = b"number,customer_external_id,issue_date,due_date,currency,amount,Total\n"

    with pytest.raises(CommandError, match="'amount' and 'Total' both map to 'amount'"):
        import_csv("invoices", write_csv(tmp_path, content), "--map", "Total=amount")


def test_a_date_format_that_cannot_read_dates_is_refused(tmp_path):
    with pytest.raises(CommandError, match="'%Y' is not a usable date format"):
        import_csv("invoices", write_csv(tmp_path, HEADER + ROW), "--date-format", "%Y")


def test_a_source_reuses_the_mapping_saved_for_it(tmp_path):
    ColumnMapping.objects.create(
        kind="invoices",
        source="Ledgerly",
        date_format="%d.%m.%Y",
        mapping={
            "No": "number",
            "Kunde": "customer_external_id",
            "Datum": "issue_date",
            "Faellig": "due_date",
            "Waehrung": "currency",
            "Betrag": "amount",
        },
    )
    content = b"No,Kunde,Datum,Faellig,Waehrung,Betrag\nINV-1,ACME,01.01.2026,31.01.2026,GBP,9\n"

    import_csv("invoices", write_csv(tmp_path, content), "--source", "Ledgerly")

    assert Invoice.objects.get().due_date.isoformat() == "2026-01-31"


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        import_csv("invoices", tmp_path / "nope.csv")


def test_the_preview_holds_the_first_rows_as_they_will_be_read():
    content = HEADER + b"INV-1,ACME,2026-01-01,2026-01-31,gbp,100\n"

    result = import_run(kind="invoices", file=io.BytesIO(content), filename="x.csv", dry_run=True)

    assert result.preview[0]["line"] == 2
    assert (result.preview[0]["currency"], str(result.preview[0]["amount"])) == ("GBP", "100.00")


def test_a_rejected_file_lists_its_errors_in_line_order():
    content = HEADER + b"INV-1,NOBODY,2026-01-01,2026-01-31,GBP,1\nINV-2,ACME,x,2026-01-31,GBP,1\n"

    with pytest.raises(ImportRejected) as rejected:
        import_run(kind="invoices", file=io.BytesIO(content), filename="x.csv")

    assert [error.split(":")[0] for error in rejected.value.errors] == ["line 2", "line 3"]
