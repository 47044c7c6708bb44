"""Templates (versioned), the organisation's letter settings, stored documents and the
print queue."""

import hashlib

from django.conf import settings
from django.db import models

from invoices.models import Customer, Invoice

USER = settings.AUTH_USER_MODEL


class ImmutableError(Exception):
    pass


class Template(models.Model):
    """The words of one ladder step (or document) in one language. Its text lives in
    versions: every save adds one, and a sent message records the version it used."""

    key = models.SlugField(max_length=100, help_text="The step's template key, e.g. final_demand")
    language = models.CharField(max_length=10, default="en")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["key", "language"]
        constraints = [
            models.UniqueConstraint(fields=["key", "language"], name="template_key_language")
        ]

    def __str__(self):
        return f"{self.name} ({self.language})"


class TemplateVersion(models.Model):
    """One saved text of a template; never changed once written."""

    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField(help_text="Plain-text email")
    body_html = models.TextField(help_text="HTML email")
    letter_html = models.TextField(blank=True, help_text="Letter (PDF); blank for email only")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_number")
        ]

    def __str__(self):
        return f"{self.template} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("A template version cannot be changed; save a new one.")
        super().save(*args, **kwargs)


class PageSize(models.TextChoices):
    A4 = "A4", "A4"
    LETTER = "letter", "US Letter"


OLD_PAYMENT_INSTRUCTIONS = (
    "Please pay by bank transfer to the account shown on the invoice, quoting the "
    "invoice numbers as the reference."
)
# True whether or not bank details are set: the letter shows them beside this text.
PAYMENT_INSTRUCTIONS = (
    "Please pay by bank transfer, quoting your account number and the invoice numbers as "
    "the reference."
)


class LetterSettings(models.Model):
    """What letters carry: letterhead, address, signature, paper and how to pay (one row)."""

    logo = models.BinaryField(blank=True, default=b"", editable=True)
    logo_type = models.CharField(max_length=30, blank=True)  # image/png, image/jpeg
    address = models.TextField(
        blank=True, help_text="Your postal address as it heads each letter, one line per row."
    )
    company_number = models.CharField(
        max_length=40,
        blank=True,
        help_text="As registered, e.g. 01234567 (Companies House) or HRB 12345; shown in "
        "the letterhead and the footer of every page.",
    )
    vat_id = models.CharField(
        max_length=40,
        blank=True,
        verbose_name="VAT number",
        help_text="With its country prefix, e.g. GB 123 4567 89 or DE123456789.",
    )
    bank_details = models.TextField(
        blank=True,
        help_text="Account name, sort code and account number or IBAN and BIC, one per row. "
        "Letters show them in a payment box.",
    )
    payment_reference = models.CharField(
        max_length=120,
        blank=True,
        default="your account number and the invoice numbers",
        help_text="What the customer quotes when paying, shown in the payment box.",
    )
    signature = models.TextField(blank=True, help_text="Name and title, one line per row.")
    page_size = models.CharField(max_length=10, choices=PageSize.choices, default=PageSize.A4)
    payment_instructions = models.TextField(
        blank=True,
        default=PAYMENT_INSTRUCTIONS,
        help_text='The "How to pay" paragraph of the letters and emails.',
    )
    payment_link = models.CharField(
        max_length=300,
        blank=True,
        help_text="A payment page per invoice, with {number} for the invoice number, e.g. "
        "https://pay.example.com/invoices/{number}",
    )

    def __str__(self):
        return "Letter settings"

    @classmethod
    def current(cls) -> "LetterSettings":
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    def payment_link_for(self, number: str) -> str:
        return self.payment_link.replace("{number}", number) if self.payment_link else ""

    @property
    def payment_link_on_paper(self) -> str:
        """The payment link as a printed letter can show it, for any of its invoices."""
        return self.payment_link_for("[invoice number]").removeprefix("https://")

    @property
    def registration(self) -> list[str]:
        """The company number and VAT number as a letter prints them."""
        return [
            label + value
            for label, value in (("Company no. ", self.company_number), ("VAT ", self.vat_id))
            if value
        ]


class DocumentKind(models.TextChoices):
    LETTER = "letter", "Letter"
    STATEMENT = "statement", "Statement of account"
    PROMISSORY_NOTE = "promissory_note", "Promissory note"
    REFERRAL_PACK = "referral_pack", "Referral pack"
    INVOICE_COPY = "invoice_copy", "Invoice copy"
    SIGNED_TERMS = "signed_terms", "Signed credit terms"
    CUSTOMER_UPLOAD = "customer_upload", "Sent by the customer"


class Document(models.Model):
    """A generated file, stored once and never changed: downloading it again returns the
    identical bytes, which its SHA-256 proves."""

    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="documents")
    # Invoice copies: the invoice it is a copy of (the newest copy is the one sent).
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="copies"
    )
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, default="application/pdf")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    template_version = models.ForeignKey(
        TemplateVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.filename

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("A stored document cannot be changed.")
        self.sha256 = hashlib.sha256(bytes(self.content)).hexdigest()
        self.size = len(self.content)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("A stored document cannot be deleted.")


class PrintItem(models.Model):
    """A letter waiting to be posted; printed_at is set when its batch is marked printed."""

    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="print_item")
    queued_at = models.DateTimeField(auto_now_add=True)
    printed_at = models.DateTimeField(null=True, blank=True)
    printed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["queued_at", "id"]
        indexes = [models.Index(fields=["printed_at", "queued_at"], name="print_queue")]

    def __str__(self):
        return f"Print {self.document}"


class InterestRegime(models.TextChoices):
    EU = "eu", "EU Late Payment Directive 2011/7/EU"
    UK = "uk", "UK Late Payment of Commercial Debts (Interest) Act 1998"
    DE = "de", "Germany, BGB § 288 (2): base rate + 9 points between businesses"


class ReferenceRate(models.Model):
    """The dated table of reference rates statutory interest is built on (ECB main
    refinancing rate, Bank of England base rate), one row per half-year; admins edit it."""

    regime = models.CharField(max_length=2, choices=InterestRegime.choices)
    valid_from = models.DateField(help_text="1 January or 1 July: the half-year it applies to")
    rate = models.DecimalField(max_digits=6, decimal_places=3, help_text="Percent per year")

    class Meta:
        ordering = ["regime", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "valid_from"], name="reference_rate_once")
        ]

    def __str__(self):
        return f"{self.get_regime_display()}: {self.rate}% from {self.valid_from}"
