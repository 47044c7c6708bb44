from django import forms

from .archive import MB
from .services import MAX_PDF_BYTES, pdf_problem

MAX_ZIP_BYTES = 100 * MB


class CopyForm(forms.Form):
    file = forms.FileField(
        label="Invoice PDF",
        help_text=f"The invoice as a PDF, up to {MAX_PDF_BYTES // MB} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_PDF_BYTES:
            raise forms.ValidationError(f"The file is over {MAX_PDF_BYTES // MB} MB.")
        content = upload.read()
        problem = pdf_problem(content)
        if problem:
            raise forms.ValidationError(problem)
        self.content = content
        return upload


class CopiesZipForm(forms.Form):
    file = forms.FileField(
        label="ZIP of invoice PDFs",
        help_text="Each PDF named by its invoice number (INV-1001.pdf), in any folder; "
        f"up to {MAX_ZIP_BYTES // MB} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/zip,.zip"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_ZIP_BYTES:
            raise forms.ValidationError(f"The ZIP is over {MAX_ZIP_BYTES // MB} MB.")
        return upload
