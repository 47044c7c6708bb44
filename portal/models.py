"""Links to the customer's page. Only the SHA-256 hash of a link's token is kept: the raw
token lives in the URL sent to the contact, so a copy of the database opens no page."""

from django.conf import settings
from django.db import models

from invoices.models import Contact, Customer


class PortalLink(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_links")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="portal_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    # Null: made by the system for a message.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["contact", "expires_at"])]

    def __str__(self):
        return f"Customer page link {self.pk} for {self.contact}"

    def live(self, now) -> bool:
        return self.revoked_at is None and now < self.expires_at


class RequestKind(models.TextChoices):
    PROMISE = "promise", "Promise to pay"
    PLAN = "plan", "Payment plan"
    CONTACT = "contact", "Contact details"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    COUNTERED = "countered", "Answered with another offer"


class CustomerRequest(models.Model):
    """What a customer asked for on their page that a collector decides: a promise outside
    the policy's limits, a payment plan, a change of contact details. `proposal` holds what
    they asked for (promise: amount, date, invoice ids; plan: instalments as [date, amount];
    contact: the fields and their new values); `counter` what the collector offered back."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="requests")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="requests")
    link = models.ForeignKey(
        PortalLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    kind = models.CharField(max_length=8, choices=RequestKind.choices)
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    proposal = models.JSONField()
    message = models.TextField(blank=True, help_text="What the customer wrote with it")
    made_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    counter = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-made_at", "-id"]
        indexes = [
            models.Index(fields=["status", "made_at"], name="request_waiting"),
            models.Index(fields=["customer", "made_at"], name="request_customer"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} request from {self.contact}"


class DisputeEvidence(models.Model):
    """A file the customer attached when raising a dispute on their page."""

    dispute = models.ForeignKey(
        "invoices.Dispute", on_delete=models.PROTECT, related_name="evidence"
    )
    document = models.ForeignKey("letters.Document", on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(
        PortalLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"Evidence {self.document_id} for dispute {self.dispute_id}"


class CheckoutStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired"


class CheckoutSession(models.Model):
    """A payment the customer started from their page at a provider (Stripe Checkout): what
    it is for, and the payment it became once the provider's signed event confirmed it."""

    provider = models.CharField(max_length=20, default="stripe")
    session_id = models.CharField(max_length=255)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="checkouts")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(
        PortalLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    invoice_ids = models.JSONField(help_text="The invoices it pays, oldest first")
    status = models.CharField(
        max_length=8, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN
    )
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(
        "invoices.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "session_id"], name="checkout_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="checkout_positive"),
        ]

    def __str__(self):
        return f"{self.provider} checkout {self.session_id}"


class ProviderEvent(models.Model):
    """A payment provider's webhook event, stored once: providers deliver at least once."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=100)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")
        ]

    def __str__(self):
        return f"{self.provider} {self.kind} {self.event_id}"


class ConfirmationStatus(models.TextChoices):
    PENDING = "pending", "Waiting to go"
    SENDING = "sending", "Being handed to the mail server"
    SENT = "sent", "Sent"
    UNKNOWN = "unknown", "Perhaps sent (no answer came)"
    FAILED = "failed", "Could not be sent"


class Confirmation(models.Model):
    """The email confirming to a contact what they did on their page. Written in the same
    transaction as the action; delivered once (portal.confirmations)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    to_email = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    # What it confirms, e.g. "dispute:12": one confirmation per action.
    key = models.CharField(max_length=100)
    status = models.CharField(
        max_length=8, choices=ConfirmationStatus.choices, default=ConfirmationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    handoff_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["key"], name="confirmation_once")]
        indexes = [models.Index(fields=["status", "created_at"], name="confirmation_due")]

    def __str__(self):
        return f"Confirmation {self.key} to {self.to_email}"
