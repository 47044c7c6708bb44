from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from .money import ZERO, validate_currency
from .validators import validate_timezone

MONEY = {"max_digits": 14, "decimal_places": 2}
country_code = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO country code, e.g. GB.")


def currency_field(**kwargs):
    return models.CharField(max_length=3, validators=[validate_currency], **kwargs)


class Organisation(models.Model):
    """The business using Dunmore: one row, holding the defaults for new customers."""

    name = models.CharField(max_length=200, default="My Company Ltd")
    default_currency = currency_field(default="GBP")
    default_timezone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_timezone]
    )
    default_country = models.CharField(max_length=2, default="GB", validators=[country_code])

    def __str__(self):
        return self.name

    @classmethod
    def current(cls) -> "Organisation":
        org, _ = cls.objects.get_or_create(pk=1)
        return org


class DebtorType(models.TextChoices):
    """Who owes: the law differs for each. A sole trader is a business for late-payment
    interest but an individual for the UK Pre-Action Protocol; consumer protections (contact
    hours, opt-out, call caps) are for consumers only."""

    BUSINESS = "business", "Business"
    SOLE_TRADER = "sole_trader", "Sole trader"
    CONSUMER = "consumer", "Consumer"


class Customer(models.Model):
    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, db_index=True)
    debtor_type = models.CharField(
        max_length=12, choices=DebtorType.choices, default=DebtorType.BUSINESS
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    currency = currency_field()
    country = models.CharField(max_length=2, blank=True, validators=[country_code])
    region = models.CharField(max_length=64, blank=True, help_text="State, province or nation")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    on_hold = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=200, blank=True)
    hold_until = models.DateField(null=True, blank=True)
    do_not_contact = models.BooleanField(default=False)
    insolvent = models.BooleanField(default=False)
    credit_hold = models.BooleanField(default=False)
    credit_limit = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )
    # Set by the credit-hold rule (dunning.credit_hold), which releases only what it set:
    # a hold a person set stays until a person lifts it.
    credit_hold_by_rule = models.BooleanField(db_default=False, default=False)
    credit_hold_since = models.DateField(null=True, blank=True)
    credit_hold_reason = models.CharField(max_length=200, blank=True, db_default="", default="")
    language = models.CharField(
        max_length=16,
        blank=True,
        help_text="Language of letters and emails, e.g. en-GB, de",
        db_default="",
        default="",
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Days from the invoice date to pay, e.g. 30"
    )
    terms_accepted_on = models.DateField(null=True, blank=True)
    terms_version = models.CharField(max_length=32, blank=True)
    # Late-payment charges the customer's accepted terms give (a contractual regime, usable
    # where no statute does, e.g. in the US); only claimed with terms_accepted_on set.
    late_interest_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="Interest on late invoices under the accepted terms, percent a year",
    )
    late_fee = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="Fee per late invoice under the accepted terms",
    )
    import_batch = models.ForeignKey(
        "ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                name="customer_credit_limit_not_negative",
            ),
        ]
        # Lets the list filters find the few currencies in use without reading every row.
        indexes = [models.Index(fields=["currency"], name="customer_currency")]

    def __str__(self):
        return self.name

    @property
    def flags(self) -> list[str]:
        names = []
        if self.on_hold:
            names.append("on hold")
        if self.do_not_contact:
            names.append("do not contact")
        if self.insolvent:
            names.append("insolvent")
        if self.credit_hold:
            names.append("credit hold")
        return names


class ContactRole(models.TextChoices):
    ACCOUNTS_PAYABLE = "accounts_payable", "Billing"
    ESCALATION = "escalation", "Escalation"
    LEGAL = "legal", "Legal"
    CALLS = "calls", "The one to call"


class ContactChannel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    POST = "post", "Post"


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(
        max_length=20, choices=ContactRole.choices, default=ContactRole.ACCOUNTS_PAYABLE
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True, help_text="Postal address, one line per row")
    is_primary = models.BooleanField(default=False)
    email_opt_out = models.BooleanField(default=False)
    phone_opt_out = models.BooleanField(default=False)
    post_opt_out = models.BooleanField(db_default=False, default=False)
    # The contact each channel reaches first (at most one per customer and channel); a
    # firm step's escalation contact still comes before it.
    primary_email = models.BooleanField(db_default=False, default=False)
    primary_phone = models.BooleanField(db_default=False, default=False)
    primary_post = models.BooleanField(db_default=False, default=False)
    # Set when mail to this address bounced: automated mail skips it until someone fixes it.
    email_bounced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_primary", "role", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "role"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_role",
            ),
            *[
                models.UniqueConstraint(
                    fields=["customer"],
                    condition=Q(**{f"primary_{channel}": True}),
                    name=f"contact_one_primary_{channel}",
                )
                for channel in ("email", "phone", "post")
            ],
        ]

    def __str__(self):
        return self.name or self.email or self.phone or f"Contact {self.pk}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_DISPUTE = "in_dispute", "In dispute"
    PAID = "paid", "Paid"
    WRITTEN_OFF = "written_off", "Written off"


class Invoice(models.Model):
    """An invoice. open_balance, status and closed_on are derived from allocations and
    disputes by invoices.services.invoice_refresh and never set by hand; they are stored
    so that queues and aging over a million invoices need no aggregate per row."""

    number = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    issue_date = models.DateField()
    due_date = models.DateField()
    currency = currency_field()
    amount = models.DecimalField(**MONEY)
    open_balance = models.DecimalField(**MONEY, editable=False)
    status = models.CharField(
        max_length=12, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN, editable=False
    )
    closed_on = models.DateField(null=True, blank=True, editable=False)
    import_batch = models.ForeignKey(
        "ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "number"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="invoice_status_due"),
            models.Index(fields=["customer", "due_date"], name="invoice_customer_due"),
            models.Index(fields=["due_date", "number"], name="invoice_due_number"),
            # Aging as of today reads only this: outstanding invoices by currency and due date.
            models.Index(
                fields=["currency", "due_date"],
                include=["issue_date", "open_balance", "customer"],
                condition=Q(status__in=["open", "in_dispute"]),
                name="invoice_outstanding_aging",
            ),
            # A dunning run's chunk of customers (consecutive ids) and their open invoices,
            # read from the index alone: in the table they lie scattered, and at ten million
            # invoices reading them there took five times as long.
            models.Index(
                fields=["customer", "due_date", "number"],
                include=["id", "open_balance", "status", "issue_date"],
                condition=Q(status__in=["open", "in_dispute"]),
                name="invoice_open_by_customer",
            ),
            # Whose and in which currency an invoice is, from the index alone: a period's
            # allocations (the collections by collector) are joined to their invoices here
            # rather than to the table; at 10M invoices a month's took 1.4 s, not 2.8 s.
            models.Index(fields=["id"], include=["currency", "customer"], name="invoice_owner"),
            # Credit sales by currency and period, and the invoicing check's days to due and
            # to settle (reports), read from the index alone.
            models.Index(
                fields=["currency", "issue_date"],
                include=["amount", "due_date", "closed_on"],
                name="invoice_currency_issued",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="invoice_amount_positive",
                violation_error_message="The amount must be more than zero.",
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")),
                name="invoice_due_not_before_issue",
                violation_error_message="The due date cannot be before the issue date.",
            ),
            models.CheckConstraint(
                condition=Q(open_balance__gte=0) & Q(open_balance__lte=F("amount")),
                name="invoice_balance_within_amount",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.open_balance > 0

    def days_overdue(self, as_of: date) -> int:
        if not self.is_open or as_of <= self.due_date:
            return 0
        return (as_of - self.due_date).days

    @property
    def paid_amount(self):
        return self.amount - self.open_balance


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD = "card", "Card"
    DIRECT_DEBIT = "direct_debit", "Direct debit"
    CHEQUE = "cheque", "Cheque"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"


class Payment(models.Model):
    """Money received from a customer. What is not allocated to invoices is the customer's
    unallocated credit."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    received_on = models.DateField()
    amount = models.DecimalField(**MONEY)
    currency = currency_field()
    reference = models.CharField(max_length=100, blank=True)
    method = models.CharField(
        max_length=16, choices=PaymentMethod.choices, blank=True, db_default="", default=""
    )
    # A payment that bounced (a returned cheque, a recalled transfer): its allocations are
    # removed, so the invoices it paid are open again; the row stays as the record.
    reversed_on = models.DateField(null=True, blank=True)
    reversal_reason = models.CharField(max_length=200, blank=True, db_default="", default="")
    # What is not yet applied to an invoice: derived from the allocations by the services
    # that write them (invoices.services.payment_refresh), stored so the cash-matching
    # screen finds the few unapplied payments among a million without summing them all.
    unapplied = models.DecimalField(**MONEY, default=0, db_default=0, editable=False)
    # Import idempotency: the same row imported twice maps to the same key.
    external_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    import_batch = models.ForeignKey(
        "ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(
                fields=["received_on"],
                condition=Q(unapplied__gt=0),
                name="payment_unapplied",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unapplied__gte=0) & Q(unapplied__lte=F("amount")),
                name="payment_unapplied_within_amount",
            ),
        ]

    def __str__(self):
        return f"Payment {self.reference or self.pk}"


class CreditNote(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=64, unique=True)
    issued_on = models.DateField()
    amount = models.DecimalField(**MONEY)
    currency = currency_field()
    reason = models.CharField(max_length=300, blank=True)
    is_write_off = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_amount_positive"),
        ]

    def __str__(self):
        return self.number


class Allocation(models.Model):
    """Part of a payment or credit note applied to one invoice on a date."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.DecimalField(**MONEY)
    applied_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["applied_on", "id"]
        indexes = [
            models.Index(fields=["invoice", "applied_on"], name="allocation_invoice_date"),
            # Money collected in a period, across all invoices (reports).
            models.Index(fields=["applied_on"], name="allocation_applied_on"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit_note__isnull=True))
                | (Q(payment__isnull=True) & Q(credit_note__isnull=False)),
                name="allocation_from_payment_or_credit",
            ),
        ]

    def __str__(self):
        return f"{self.amount} to {self.invoice_id} on {self.applied_on}"


class DisputeReason(models.TextChoices):
    PRICING = "pricing", "Pricing or rate"
    NOT_RECEIVED = "not_received", "Goods or service not received"
    QUALITY = "quality", "Quality or damage"
    QUANTITY = "quantity", "Wrong quantity"
    DUPLICATE = "duplicate", "Duplicate billing"
    ALREADY_PAID = "already_paid", "Already paid"
    NO_PO = "no_po", "Missing purchase order"
    OTHER = "other", "Other"


class RaisedVia(models.TextChoices):
    STAFF = "staff", "By the team"
    CUSTOMER_PAGE = "customer_page", "On the customer's page"
    CHECK = "check", "Answering the satisfaction check"
    REPLY = "reply", "In a reply"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED_FOR_US = "resolved_for_us", "Resolved for us"
    RESOLVED_FOR_CUSTOMER = "resolved_for_customer", "Resolved for the customer"


class Dispute(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="disputes")
    reason = models.CharField(max_length=20, choices=DisputeReason.choices)
    detail = models.TextField(blank=True)
    amount = models.DecimalField(**MONEY)
    status = models.CharField(
        max_length=24, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="disputes",
    )
    opened_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    # Where it came from: the reports count problems the satisfaction check found early.
    raised_via = models.CharField(
        max_length=14, choices=RaisedVia.choices, default=RaisedVia.STAFF, db_default="staff"
    )

    class Meta:
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive"),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="open"),
                name="dispute_one_open_per_invoice",
            ),
        ]

    def __str__(self):
        return f"Dispute on {self.invoice_id}: {self.get_reason_display()}"

    @property
    def is_open(self) -> bool:
        return self.status == DisputeStatus.OPEN


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", "Customers"
    INVOICES = "invoices", "Invoices"
    PAYMENTS = "payments", "Payments"


class ImportBatch(models.Model):
    """One applied import file: who, what, and what it changed."""

    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} import {self.filename}"


class ColumnMapping(models.Model):
    """How the headers of one source system's export map onto ours; remembered per source."""

    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    source = models.CharField(max_length=100)
    mapping = models.JSONField(default=dict)
    date_format = models.CharField(max_length=32, default="%Y-%m-%d")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "source"], name="mapping_unique_per_source"),
        ]

    def __str__(self):
        return f"{self.source} ({self.kind})"


class WriteOffStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class WriteOffRequest(models.Model):
    """A collector's proposal to write off an invoice's open balance; a manager approves
    (the write-off credit note is issued then) or declines it."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="write_offs")
    amount = models.DecimalField(**MONEY, help_text="The open balance when proposed")
    currency = currency_field()
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-proposed_at", "-id"]
        indexes = [
            # The managers' page and the dashboard read pending requests oldest first.
            models.Index(fields=["status", "proposed_at"], name="write_off_status_proposed"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="write_off_amount_positive"),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="pending"),
                name="write_off_one_pending_per_invoice",
            ),
        ]

    def __str__(self):
        return f"Write-off of {self.amount} {self.currency} on {self.invoice_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == WriteOffStatus.PENDING
