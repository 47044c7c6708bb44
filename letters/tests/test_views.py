import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from dunning.tests.factories import ladder, overdue_customer  # noqa: F401
from dunning.tests.test_delivery import plan_and_deliver
from dunning.tests.test_letters import _due_for_final_demand
from letters.models import Document, LetterSettings, PrintItem, Template

from .test_pdf import pdf_text

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)


def _template(key="friendly_reminder"):
    return Template.objects.get(key=key, language="en")


def _edit(template, **changes):
    version = template.versions.first()
    data = {
        "subject": version.subject,
        "body_text": version.body_text,
        "body_html": version.body_html,
        "letter_html": version.letter_html,
        "note": "",
        "customer": "",
        "interest": "",
    }
    data.update(changes)
    return data


def test_an_admin_saves_an_edit_as_a_new_version(admin_client_):
    template = _template()

    response = admin_client_.post(
        reverse("letters:template_edit", args=[template.pk]),
        _edit(template, subject="Still waiting on {{ total|money:currency }}", note="tone"),
    )

    assert response.status_code == 302
    assert template.versions.first().subject == "Still waiting on {{ total|money:currency }}"
    assert template.versions.count() == 2


def test_an_edit_with_an_error_shows_the_line_and_saves_nothing(admin_client_):
    template = _template()

    response = admin_client_.post(
        reverse("letters:template_edit", args=[template.pk]),
        _edit(template, body_text="Dear {{ contact.name }},\n{% debug %}\n"),
    )

    assert response.status_code == 200
    assert "Line 2: unknown tag &#x27;debug&#x27;" in response.content.decode()
    assert template.versions.count() == 1


def test_the_preview_shows_the_edit_for_a_chosen_customer(admin_client_):
    customer = overdue_customer(days=10, name="Quayside Bakery")
    template = _template()

    response = admin_client_.post(
        reverse("letters:template_preview", args=[template.pk]),
        _edit(template, subject="Hello {{ customer.name }}", customer=customer.external_id),
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert "Hello Quayside Bakery" in page
    assert customer.invoices.get().number in page


def test_the_preview_names_an_unknown_customer(admin_client_):
    template = _template()

    response = admin_client_.post(
        reverse("letters:template_preview", args=[template.pk]), _edit(template, customer="NOPE")
    )

    assert "no customer with account number NOPE" in response.content.decode()


def test_the_pdf_preview_renders_the_letter_being_edited(admin_client_):
    template = _template("final_demand")
    data = _edit(template, letter_html="<h1>Pay {{ grand_total|money:currency }} now</h1>")

    response = admin_client_.post(reverse("letters:template_preview_pdf", args=[template.pk]), data)

    assert response["Content-Type"] == "application/pdf"
    assert "Pay £1,730.50 now" in pdf_text(response.content)


def test_the_pdf_preview_refuses_a_letter_reaching_for_a_file(admin_client_):
    template = _template("final_demand")
    data = _edit(template, letter_html='<img src="file:///etc/passwd">')

    response = admin_client_.post(reverse("letters:template_preview_pdf", args=[template.pk]), data)

    assert response.status_code == 400
    assert "file:///etc/passwd" in response.content.decode()


def test_an_admin_uploads_a_letterhead_and_it_heads_the_letters(admin_client_):
    upload = io.BytesIO(PNG)
    upload.name = "logo.png"

    response = admin_client_.post(
        reverse("letters:settings"),
        {
            "address": "1 Mill Lane",
            "signature": "",
            "page_size": "letter",
            "payment_instructions": "Pay us",
            "payment_link": "",
            "logo_file": upload,
        },
    )

    settings = LetterSettings.current()
    assert response.status_code == 302
    assert bytes(settings.logo) == PNG and settings.logo_type == "image/png"
    assert settings.page_size == "letter"


def test_a_logo_that_is_not_an_image_is_refused(admin_client_):
    upload = io.BytesIO(b"<svg onload=alert(1)>")
    upload.name = "logo.png"

    response = admin_client_.post(
        reverse("letters:settings"),
        {
            "address": "",
            "signature": "",
            "page_size": "A4",
            "payment_instructions": "x",
            "payment_link": "",
            "logo_file": upload,
        },
    )

    assert "must be a PNG or JPEG" in response.content.decode()
    assert not LetterSettings.objects.filter(pk=1).exists()


@pytest.mark.usefixtures("ladder")
def test_the_print_batch_merges_the_letters_and_marks_them_printed(manager_client):
    _due_for_final_demand()
    _due_for_final_demand()
    plan_and_deliver()
    url = reverse("letters:print_batch")

    merged = manager_client.get(url, {"download": "1"})
    assert len(PdfReader(io.BytesIO(merged.content)).pages) == sum(
        len(PdfReader(io.BytesIO(bytes(d.content))).pages) for d in Document.objects.all()
    )

    manager_client.post(url, {"item": [i.pk for i in PrintItem.objects.all()]})
    assert not PrintItem.objects.filter(printed_at__isnull=True).exists()
    assert "No letters are waiting" in manager_client.get(url).content.decode()


@pytest.mark.usefixtures("ladder")
def test_a_stored_letter_downloads_as_the_identical_bytes(collector_client):
    _due_for_final_demand()
    plan_and_deliver()
    document = Document.objects.get()

    first = collector_client.get(reverse("letters:document", args=[document.pk]))
    second = collector_client.get(reverse("letters:document", args=[document.pk]))

    assert first.content == second.content == bytes(document.content)
    assert first["ETag"] == f'"{document.sha256}"'


def test_an_admin_sets_a_reference_rate_for_a_half_year(admin_client_):
    url = reverse("letters:reference_rates")

    admin_client_.post(url, {"regime": "uk", "valid_from": "2027-01-01", "rate": "3.50"})
    refused = admin_client_.post(url, {"regime": "uk", "valid_from": "2027-02-01", "rate": "3"})

    from letters.models import ReferenceRate

    assert ReferenceRate.objects.get(regime="uk", valid_from="2027-01-01").rate == 3.5
    assert "use 1 January or 1 July" in refused.content.decode()
    admin_client_.post(url, {"regime": "uk", "valid_from": "2027-01-01", "rate": "3.25"})
    assert ReferenceRate.objects.filter(regime="uk", valid_from="2027-01-01").count() == 1
