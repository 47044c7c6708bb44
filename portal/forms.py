"""The forms of the customer's page. Each checks what the customer typed and posted; the
rules of the action itself are in its service (portal.contacts, portal.disputes,
portal.promises)."""

import datetime as dt
from decimal import Decimal

from django import forms

from invoices.models import DisputeReason
from invoices.money import format_money

from .contacts import FIELDS as CONTACT_FIELDS
from .disputes import MAX_FILES, PortalError, upload_check

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.01")}


class ContactCorrectionForm(forms.Form):
    """The contact's details as we hold them, to correct; details() gives what they typed.
    The message is for the collector who checks the change."""

    name = forms.CharField(label="Your name", max_length=200, required=False)
    email = forms.EmailField(label="Email address", required=False)
    phone = forms.RegexField(
        label="Phone number",
        regex=r"^[0-9+()\-. /]*$",
        max_length=40,
        required=False,
        error_messages={"invalid": "Use digits, spaces and + - ( ) only."},
    )
    address = forms.CharField(
        label="Postal address",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One line per row.",
    )
    message = forms.CharField(
        label="Anything we should know? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    AUTOCOMPLETE = {"name": "name", "email": "email", "phone": "tel", "address": "street-address"}

    def __init__(self, *args, contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
        for field in CONTACT_FIELDS:
            self.fields[field].initial = getattr(contact, field)
            self.fields[field].widget.attrs["autocomplete"] = self.AUTOCOMPLETE[field]
        self.fields["phone"].widget.attrs["inputmode"] = "tel"

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        typed = {field: (data.get(field) or "").strip() for field in CONTACT_FIELDS}
        if all(typed[field] == getattr(self.contact, field) for field in CONTACT_FIELDS):
            raise forms.ValidationError(
                "Nothing here differs from the details we hold. If they are right, "
                "choose “Yes, these are right” above."
            )
        if not (typed["email"] or typed["phone"] or typed["address"]):
            raise forms.ValidationError("Give at least one way to reach you.")
        return data

    def details(self) -> dict:
        return {field: self.cleaned_data.get(field) or "" for field in CONTACT_FIELDS}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field: cleans to a list, empty when none was chosen."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


class DisputeForm(forms.Form):
    invoices = forms.TypedMultipleChoiceField(
        coerce=int,
        label="Which invoices is it about?",
        error_messages={
            "required": "Tick the invoice or invoices your question is about.",
            "invalid_choice": "Tick only the invoices listed here.",
        },
    )
    reason = forms.ChoiceField(
        label="What is it about?", choices=[("", "Choose…"), *DisputeReason.choices]
    )
    amount = forms.DecimalField(
        label="Amount in question",
        required=False,
        help_text="Only when you tick one invoice. Leave it empty to question the whole "
        "open amount.",
        **MONEY,
    )
    message = forms.CharField(
        label="Tell us what is wrong",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = MultipleFileField(
        label="Attach files (optional)",
        required=False,
        help_text=f"Up to {MAX_FILES} files, PDF, PNG, JPEG or plain text, 10 MB each.",
    )

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_invoices = invoices
        # An invoice already under review cannot be ticked: only the others are choices.
        self.fields["invoices"].choices = [
            (i.pk, i.number) for i in invoices if not getattr(i, "under_review", False)
        ]

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Attach at most {MAX_FILES} files.")
        uploads = []
        for file in files:
            if file.size > 10 * 1024 * 1024:
                raise forms.ValidationError(f"{file.name} is larger than 10 MB.")
            try:
                uploads.append(upload_check(file.name, file.read()))
            except PortalError as error:
                raise forms.ValidationError(str(error)) from error
        return uploads

    def clean(self):
        data = super().clean()
        chosen = [i for i in self.open_invoices if i.pk in set(data.get("invoices") or ())]
        data["chosen"] = chosen
        amount = data.get("amount")
        if amount is not None and len(chosen) > 1:
            self.add_error(
                "amount",
                "With several invoices ticked each is questioned in full: leave this empty.",
            )
        elif amount is not None and len(chosen) == 1 and amount > chosen[0].open_balance:
            open_amount = format_money(chosen[0].open_balance, chosen[0].currency)
            self.add_error(
                "amount", f"{chosen[0].number} has {open_amount} open: enter at most that."
            )
        return data


class PromiseForm(forms.Form):
    promised_for = forms.DateField(label="I will pay by", widget=DATE)
    amount = forms.DecimalField(label="Amount I will pay", **MONEY)
    message = forms.CharField(
        label="Anything we should know? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["promised_for"].widget.attrs["min"] = today.isoformat()

    def clean_promised_for(self):
        day = self.cleaned_data["promised_for"]
        if day < self.today:
            raise forms.ValidationError("Choose today or a date after it.")
        return day
