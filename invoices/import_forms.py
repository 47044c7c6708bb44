from django import forms
from django.core.exceptions import ValidationError

from .importing.columns import (
    HeaderError,
    Schema,
    check_date_format,
    resolve_header,
    targets,
)
from .models import ColumnMapping, ImportKind

MAX_UPLOAD_MB = 200


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="What the file holds", choices=ImportKind.choices)
    source = forms.CharField(
        label="Source system",
        max_length=100,
        required=False,
        help_text="Choose a saved source (Xero, QuickBooks Online and Sage Accounting come "
        "ready) or name a new one. The column mapping is remembered for the next file "
        "from the same source.",
        widget=forms.TextInput(attrs={"list": "import-sources", "autocomplete": "off"}),
    )
    file = forms.FileField(label="CSV file", help_text="UTF-8, with a header row.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The sources with a saved mapping, offered as the source field's suggestions.
        self.sources = list(
            ColumnMapping.objects.order_by("source").values_list("source", flat=True).distinct()
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise ValidationError(f"The file is larger than {MAX_UPLOAD_MB} MB.")
        return upload


class MappingForm(forms.Form):
    """One choice per column of the file: which of our columns it is, or none."""

    date_format = forms.CharField(
        max_length=32,
        help_text="How the file writes dates, in strptime codes: %Y-%m-%d is 2026-01-31, "
        "%m/%d/%Y is 01/31/2026, %d.%m.%Y is 31.01.2026.",
    )

    def __init__(
        self, *args, headers: list[str], schema: Schema, suggestion: dict[str, str], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.schema = schema
        choices = [("", "(ignore this column)")] + [
            (column, column + ("" if column in schema.optional else " *"))
            for column in schema.columns
        ]
        # One file column feeding two of ours (a name that is also the key): offered where
        # it is common, and kept wherever a saved mapping has one.
        combined = {*schema.combined, *(v for v in suggestion.values() if "+" in v)}
        choices += [(value, " and ".join(targets(value))) for value in sorted(combined)]
        self.column_fields = []
        for index, header in enumerate(headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header.strip() or f"(column {index + 1} has no header)",
                choices=choices,
                required=False,
                initial=suggestion.get(header.strip(), ""),
            )
            self.column_fields.append(name)

    def clean_date_format(self):
        value = self.cleaned_data["date_format"].strip()
        try:
            check_date_format(value)
        except HeaderError as exc:
            raise ValidationError(exc.messages) from None
        return value

    def clean(self):
        cleaned = super().clean()
        mapping = {
            header.strip(): cleaned.get(name, "")
            for header, name in zip(self.headers, self.column_fields, strict=True)
        }
        try:
            resolve_header(self.headers, self.schema, mapping)
        except HeaderError as exc:
            raise ValidationError(exc.messages) from None
        cleaned["mapping"] = mapping
        return cleaned
