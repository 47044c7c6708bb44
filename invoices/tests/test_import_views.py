"""The browser import: upload, map columns, preview, confirm, result."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from invoices.models import ColumnMapping, ImportBatch, Invoice
from invoices.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

FOREIGN = (
    b"Ref,Client,Issued,Due,Cur,Total,Memo\n"
    b"X-1,ACME,01/05/2026,02/04/2026,GBP,120.00,first\n"
    b"X-2,ACME,01/06/2026,02/05/2026,GBP,80.50,second\n"
)
MAPPING = {
    "column_0": "number",
    "column_1": "customer_external_id",
    "column_2": "issue_date",
    "column_3": "due_date",
    "column_4": "currency",
    "column_5": "amount",
    "column_6": "",
    "date_format": "%m/%d/%Y",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def acme():
    return CustomerFactory(external_id="ACME", currency="GBP")


def upload(client, content=FOREIGN, source="Ledgerly", kind="invoices"):
    response = client.post(
        reverse("import:start"),
        {
            "kind": kind,
            "source": source,
            "file": SimpleUploadedFile("export.csv", content, content_type="text/csv"),
        },
    )
    assert response.status_code == 302, response.content
    return re.search(r"/import/([0-9a-f-]{36})/map/", response.url).group(1)


def test_an_admin_uploads_maps_previews_and_confirms_a_file(admin_client_, acme):
    token = upload(admin_client_)

    mapped = admin_client_.post(reverse("import:map", args=[token]), MAPPING)
    preview = admin_client_.get(mapped.url)
    assert not Invoice.objects.exists()
    confirmed = admin_client_.post(reverse("import:confirm", args=[token]))
    result = admin_client_.get(confirmed.url)

    assert b"2 new" in preview.content
    assert b"80.50" in preview.content
    batch = ImportBatch.objects.get()
    assert confirmed.url == reverse("import:result", args=[batch.pk])
    assert result.status_code == 200
    assert b"export.csv" in result.content
    assert sorted(Invoice.objects.values_list("number", "amount")) == [
        ("X-1", Decimal("120.00")),
        ("X-2", Decimal("80.50")),
    ]


def test_the_import_is_recorded_as_done_by_the_admin(admin_client_, admin_user, acme):
    token = upload(admin_client_)
    admin_client_.post(reverse("import:map", args=[token]), MAPPING)

    admin_client_.post(reverse("import:confirm", args=[token]))

    assert ImportBatch.objects.get().user == admin_user
    assert AuditEvent.objects.get(action="import.invoices.applied").actor == admin_user


def test_the_mapping_is_remembered_for_the_next_file_from_the_same_source(admin_client_, acme):
    first = upload(admin_client_)
    admin_client_.post(reverse("import:map", args=[first]), MAPPING)

    second = upload(admin_client_)
    page = admin_client_.get(reverse("import:map", args=[second]))

    form = page.context["form"]
    assert [form[f"column_{i}"].initial for i in range(7)] == [
        MAPPING[f"column_{i}"] for i in range(7)
    ]
    assert form["date_format"].initial == "%m/%d/%Y"
    assert ColumnMapping.objects.get(source="Ledgerly").mapping["Total"] == "amount"


def test_a_file_with_our_own_headers_is_mapped_by_name(admin_client_, acme):
    content = b"number,customer_external_id,issue_date,due_date,currency,amount\n"
    token = upload(admin_client_, content=content, source="")

    page = admin_client_.get(reverse("import:map", args=[token]))

    assert page.context["form"]["column_5"].initial == "amount"


def test_a_mapping_without_a_required_column_is_refused_on_the_form(admin_client_, acme):
    token = upload(admin_client_)

    response = admin_client_.post(reverse("import:map", args=[token]), {**MAPPING, "column_5": ""})

    assert response.status_code == 200
    assert b"missing required column(s): amount" in response.content


def test_the_preview_lists_every_bad_row_and_offers_no_import(admin_client_, acme):
    bad = FOREIGN + b"X-3,NOBODY,01/07/2026,02/06/2026,GBP,5,x\nX-4,ACME,13/45/2026,,GBP,5,y\n"
    token = upload(admin_client_, content=bad)
    admin_client_.post(reverse("import:map", args=[token]), MAPPING)

    preview = admin_client_.get(reverse("import:preview", args=[token]))

    assert b"line 4: unknown customer" in preview.content
    assert b"line 5: issue_date" in preview.content
    assert reverse("import:confirm", args=[token]).encode() not in preview.content


def test_confirming_a_bad_file_imports_nothing(admin_client_, acme):
    token = upload(admin_client_, content=FOREIGN + b"X-3,NOBODY,01/07/2026,02/06/2026,GBP,5,x\n")
    admin_client_.post(reverse("import:map", args=[token]), MAPPING)

    response = admin_client_.post(reverse("import:confirm", args=[token]))

    assert response.url == reverse("import:preview", args=[token])
    assert not Invoice.objects.exists()


def test_the_start_page_lists_past_imports(admin_client_, acme):
    token = upload(admin_client_)
    admin_client_.post(reverse("import:map", args=[token]), MAPPING)
    admin_client_.post(reverse("import:confirm", args=[token]))

    page = admin_client_.get(reverse("import:start"))

    assert list(page.context["batches"]) == [ImportBatch.objects.get()]
    assert b"export.csv" in page.content


def test_an_upload_from_another_session_cannot_be_opened(admin_client_, acme, django_user_model):
    token = upload(admin_client_)
    other = Client()
    other.force_login(django_user_model.objects.create_superuser("root", password="pw"))

    response = other.get(reverse("import:map", args=[token]))

    assert response.status_code == 404


def test_the_uploaded_file_is_removed_once_imported(admin_client_, acme, tmp_path):
    token = upload(admin_client_)
    admin_client_.post(reverse("import:map", args=[token]), MAPPING)

    admin_client_.post(reverse("import:confirm", args=[token]))

    assert not (tmp_path / "imports" / f"{token}.csv").exists()


@pytest.mark.parametrize("user", ["collector", "manager", "no_role_user"])
def test_non_admins_are_refused_every_import_page(request, user, admin_client_, acme):
    token = upload(admin_client_)
    batch = ImportBatch.objects.create(kind="invoices", filename="x.csv", sha256="0")
    other = Client()
    other.force_login(request.getfixturevalue(user))
    pages = [
        reverse("import:start"),
        reverse("import:map", args=[token]),
        reverse("import:preview", args=[token]),
        reverse("import:result", args=[batch.pk]),
    ]

    refused = [other.get(url).status_code for url in pages]
    refused.append(other.post(reverse("import:confirm", args=[token])).status_code)

    assert refused == [403] * 5
    assert not Invoice.objects.exists()
