"""An invoices file without a currency column: each invoice takes its customer's currency."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError
from django.urls import reverse

from audit.models import AuditEvent
from invoices.models import Invoice
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = "number,customer_external_id,issue_date,due_date,amount\n"


@pytest.fixture
def customers():
    return (
        CustomerFactory(external_id="ACME", currency="GBP"),
        CustomerFactory(external_id="EURO", currency="EUR"),
    )


def invoices_file(tmp_path, *rows, header=HEADER):
    return write_csv(tmp_path, header + "".join(row + "\n" for row in rows))


def test_each_invoice_takes_its_customers_currency_and_the_output_says_so(tmp_path, customers):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,100.00",
        "INV-2,ACME,2026-01-02,2026-02-01,20.00",
        "INV-3,EURO,2026-01-03,2026-02-02,30.00",
    )

    out = import_csv("invoices", path)

    assert "3 created" in out
    assert (
        "No currency column: each invoice took its customer's currency (GBP for 2, EUR for 1)"
        in out
    )
    assert dict(Invoice.objects.values_list("number", "currency")) == {
        "INV-1": "GBP",
        "INV-2": "GBP",
        "INV-3": "EUR",
    }
    event = AuditEvent.objects.get(action="import.invoices.applied")
    assert event.data["notes"] == [
        "No currency column: each invoice took its customer's currency (GBP for 2, EUR for 1)"
    ]


def test_reimporting_a_file_without_currency_changes_nothing(tmp_path, customers):
    path = invoices_file(tmp_path, "INV-1,ACME,2026-01-01,2026-01-31,100.00")
    import_csv("invoices", path)

    out = import_csv("invoices", path)

    assert "0 created, 0 updated, 1 unchanged" in out
    assert Invoice.objects.count() == 1


def test_an_unknown_customer_is_still_a_bad_row_and_nothing_is_imported(tmp_path, customers):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,100.00",
        "INV-2,NOBODY,2026-01-01,2026-01-31,100.00",
    )

    with pytest.raises(CommandError) as raised:
        import_csv("invoices", path)

    assert "line 3: unknown customer 'NOBODY'" in str(raised.value)
    assert not Invoice.objects.exists()


def test_a_file_with_the_currency_column_still_refuses_another_currency(tmp_path, customers):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,EUR,100.00",
        header="number,customer_external_id,issue_date,due_date,currency,amount\n",
    )

    with pytest.raises(CommandError) as raised:
        import_csv("invoices", path)

    assert "line 2: invoice INV-1 is in EUR but customer ACME is billed in GBP" in str(raised.value)
    assert "No currency column" not in str(raised.value)


def test_a_blank_currency_cell_in_a_file_with_the_column_is_a_bad_row(tmp_path, customers):
    path = invoices_file(
        tmp_path,
        "INV-1,ACME,2026-01-01,2026-01-31,,100.00",
        header="number,customer_external_id,issue_date,due_date,currency,amount\n",
    )

    with pytest.raises(CommandError, match="line 2: currency is missing"):
        import_csv("invoices", path)


def test_the_preview_and_result_pages_say_where_the_currency_came_from(
    admin_client_, customers, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    content = (HEADER + "INV-1,EURO,2026-01-01,2026-01-31,10.00\n").encode()
    started = admin_client_.post(
        reverse("import:start"),
        {
            "kind": "invoices",
            "source": "",
            "file": SimpleUploadedFile("export.csv", content, content_type="text/csv"),
        },
    )
    token = re.search(r"/import/([0-9a-f-]{36})/map/", started.url).group(1)
    mapping = {f"column_{i}": name for i, name in enumerate(HEADER.strip().split(","))}
    admin_client_.post(reverse("import:map", args=[token]), {**mapping, "date_format": "%Y-%m-%d"})

    preview = admin_client_.get(reverse("import:preview", args=[token]))
    confirmed = admin_client_.post(reverse("import:confirm", args=[token]))
    result = admin_client_.get(confirmed.url)

    note = "each invoice took its customer&#x27;s currency (EUR for 1)"
    assert note in preview.content.decode()
    assert note in result.content.decode()
