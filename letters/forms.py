import io

from django import forms
from PIL import Image, UnidentifiedImageError

from invoices.forms import AmountField

from .models import InterestRegime, LetterSettings, ReferenceRate

LOGO_MAX_BYTES = 1_000_000
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def _box(kind: str, name: str, rows: int = 14) -> forms.Textarea:
    """A box of template source; the editor's field list inserts into it (kind: text or html,
    name: how the editor refers to it)."""
    return forms.Textarea(
        attrs={
            "rows": rows,
            "class": "code",
            "spellcheck": "false",
            "data-insert-kind": kind,
            "data-insert-name": name,
        }
    )


class TemplateForm(forms.Form):
    subject = forms.CharField(
        max_length=300,
        label="Subject line",
        help_text="One line: what the customer sees in their inbox before opening the email.",
        widget=forms.TextInput(
            attrs={
                "class": "code",
                "data-insert-kind": "text",
                "data-insert-name": "the subject line",
            }
        ),
    )
    body_text = forms.CharField(
        label="The email text",
        help_text="The email as plain text, shown by mail programs that do not show formatting "
        "and read out by screen readers. Every email carries it.",
        widget=_box("text", "the email text"),
        strip=False,
    )
    body_html = forms.CharField(
        label="The email, formatted (HTML)",
        help_text="The same email with formatting, as most customers see it. Written in HTML: "
        "<p> for a paragraph, <strong> for bold. Keep it saying what the text says.",
        widget=_box("html", "the formatted email"),
        strip=False,
    )
    letter_html = forms.CharField(
        label="The letter (PDF body, HTML)",
        help_text="The body of the letter that is printed, posted and attached as a PDF; the "
        "letterhead, addresses and date are added around it.",
        widget=_box("html", "the letter"),
        strip=False,
        required=False,
    )
    note = forms.CharField(max_length=200, required=False, label="What changed and why (optional)")


class PreviewForm(forms.Form):
    customer = forms.CharField(
        max_length=64,
        required=False,
        label="Preview for customer (account number)",
        help_text="Blank: a sample customer.",
    )
    interest = forms.ChoiceField(
        choices=[("", "No statutory interest"), *InterestRegime.choices],
        required=False,
        label="Statutory interest",
    )


REGISTRATION_PUNCTUATION = " -."
LINES_MAX = {"address": 6, "bank_details": 6, "signature": 5}
LINE_MAX_CHARS = 80


def _registration(value: str, what: str, example: str) -> str:
    """A company or VAT number as registries print them: letters and digits, perhaps grouped
    by spaces, hyphens or dots, with at least one digit. Lenient on purpose: formats differ
    by country, and a clear mistake (an email, a sentence, a stray symbol) is what to catch."""
    value = " ".join(value.split())
    if not value:
        return value
    allowed = all(char.isalnum() or char in REGISTRATION_PUNCTUATION for char in value)
    if not allowed or not any(char.isdigit() for char in value):
        raise forms.ValidationError(
            f"A {what} is letters and digits, perhaps with spaces or hyphens, e.g. {example}."
        )
    return value


def _lines(value: str, *, what: str, most: int) -> str:
    """Rows of a box as a letter prints them: each trimmed, no blank rows."""
    rows = [" ".join(row.split()) for row in value.splitlines()]
    rows = [row for row in rows if row]
    if len(rows) > most:
        raise forms.ValidationError(f"Keep the {what} to {most} rows; a letter has no more room.")
    if any(len(row) > LINE_MAX_CHARS for row in rows):
        raise forms.ValidationError(
            f"Each row of the {what} can be up to {LINE_MAX_CHARS} characters; split longer "
            "ones over two rows."
        )
    return "\n".join(rows)


class LetterSettingsForm(forms.ModelForm):
    """The letterhead, how to pay and the signature. SECTIONS order the screen."""

    SECTIONS = (
        (
            "Letterhead",
            "Heads every letter and document; the company and VAT numbers also sit in the "
            "footer of each page.",
            ("logo_file", "remove_logo", "address", "company_number", "vat_id"),
        ),
        (
            "How to pay",
            "A payment box in each letter shows the bank details, the reference and the "
            "payment link when they are set.",
            ("bank_details", "payment_reference", "payment_instructions", "payment_link"),
        ),
        ("Signature and paper", "", ("signature", "page_size")),
    )

    logo_file = forms.FileField(
        required=False, label="Letterhead logo", help_text="PNG or JPEG, up to 1 MB."
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = LetterSettings
        fields = [
            "address",
            "company_number",
            "vat_id",
            "bank_details",
            "payment_reference",
            "payment_instructions",
            "payment_link",
            "signature",
            "page_size",
        ]
        labels = {
            "address": "Postal address",
            "company_number": "Company number",
            "bank_details": "Bank details",
            "payment_reference": "Payment reference",
            "payment_instructions": "How to pay (wording)",
            "payment_link": "Payment link",
        }
        widgets = {
            "address": forms.Textarea(attrs={"rows": 4}),
            "bank_details": forms.Textarea(attrs={"rows": 4}),
            "signature": forms.Textarea(attrs={"rows": 3}),
            "payment_instructions": forms.Textarea(attrs={"rows": 3}),
        }

    def sections(self):
        """(title, help, bound fields) per part of the screen; Remove the logo only when
        there is one to remove."""
        has_logo = bool(self.instance.logo)
        for title, help_text, names in self.SECTIONS:
            shown = [n for n in names if n != "remove_logo" or has_logo]
            yield title, help_text, [self[name] for name in shown]

    def clean_address(self):
        return _lines(self.cleaned_data["address"], what="address", most=LINES_MAX["address"])

    def clean_bank_details(self):
        value = self.cleaned_data["bank_details"]
        return _lines(value, what="bank details", most=LINES_MAX["bank_details"])

    def clean_signature(self):
        value = self.cleaned_data["signature"]
        return _lines(value, what="signature", most=LINES_MAX["signature"])

    def clean_company_number(self):
        value = self.cleaned_data["company_number"]
        return _registration(value, "company number", "01234567 or HRB 12345")

    def clean_vat_id(self):
        return _registration(self.cleaned_data["vat_id"], "VAT number", "GB 123 4567 89")

    def clean_payment_reference(self):
        return " ".join(self.cleaned_data["payment_reference"].split())

    def clean_payment_link(self):
        link = self.cleaned_data["payment_link"].strip()
        if link and not link.startswith("https://"):
            raise forms.ValidationError("A payment link must start with https://.")
        if link and "{number}" not in link:
            raise forms.ValidationError("Put {number} where the invoice number goes.")
        return link

    def clean_logo_file(self):
        upload = self.cleaned_data.get("logo_file")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError("The logo is larger than 1 MB.")
        data = upload.read()
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
                kind = LOGO_FORMATS.get(image.format)
        except (UnidentifiedImageError, OSError, SyntaxError):
            kind = None
        if kind is None:
            raise forms.ValidationError("The logo must be a PNG or JPEG image.")
        return data, kind


class ReferenceRateForm(forms.ModelForm):
    rate = AmountField(
        max_digits=6, decimal_places=3, what="a rate", example="4.25", help_text="Percent per year"
    )

    class Meta:
        model = ReferenceRate
        fields = ["regime", "valid_from", "rate"]
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"})}

    def clean_valid_from(self):
        day = self.cleaned_data["valid_from"]
        if (day.month, day.day) not in ((1, 1), (7, 1)):
            raise forms.ValidationError("Rates apply by half-year: use 1 January or 1 July.")
        return day

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        if not -5 <= rate <= 50:
            raise forms.ValidationError("A reference rate is a percentage, e.g. 4.25.")
        return rate

    def validate_unique(self):
        pass  # an existing half-year is replaced (services.reference_rate_set)
