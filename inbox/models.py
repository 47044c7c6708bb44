"""Replies that come back in: each mail stored once, matched to its customer (or waiting to
be assigned), with what it seems to say, until a collector marks it handled."""

from django.conf import settings
from django.db import models

from invoices.models import Contact, Customer


class Source(models.TextChoices):
    IMAP = "imap", "Mailbox (IMAP)"
    WEBHOOK = "webhook", "Email service"


class Status(models.TextChoices):
    NEW = "new", "New"
    HANDLED = "handled", "Handled"
    UNMATCHED = "unmatched", "Unassigned"


class MatchedBy(models.TextChoices):
    TOKEN = "token", "Reply address"
    THREAD = "thread", "Reply to our message"
    SENDER = "sender", "Sender's address"
    PERSON = "person", "Assigned by hand"


class Suggestion(models.TextChoices):
    ALREADY_PAID = "already_paid", "Already paid"
    DISPUTE = "dispute", "Dispute"
    PROMISE = "promise", "Promise to pay"
    OUT_OF_OFFICE = "out_of_office", "Out of office"
    STOP = "stop", "Stop request"
    OTHER = "other", "Other"


class InboundMessage(models.Model):
    source = models.CharField(max_length=10, choices=Source.choices)
    # The mailbox or ESP it came through: the same Message-ID may reach two of them.
    mailbox = models.CharField(max_length=200, blank=True)
    message_id = models.CharField(max_length=255)
    received_at = models.DateTimeField()
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_address = models.TextField(blank=True)
    subject = models.CharField(max_length=500, blank=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    text = models.TextField(blank=True, help_text="The body with the quoted history trimmed")
    original_text = models.TextField(blank=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    matched_by = models.CharField(max_length=10, choices=MatchedBy.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNMATCHED)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    suggestion = models.CharField(
        max_length=15, choices=Suggestion.choices, default=Suggestion.OTHER
    )
    suggested_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "customer"], name="inbound_status_customer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "mailbox", "message_id"], name="inbound_message_once"
            ),
        ]

    def __str__(self):
        return f"{self.from_address}: {self.subject}"


class InboundAttachment(models.Model):
    message = models.ForeignKey(
        InboundMessage, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.filename

    @property
    def kept(self) -> bool:
        """False for a file over INBOX_ATTACHMENT_MAX_MB: its name and size are noted, its
        content (and so its hash) is not stored."""
        return bool(self.sha256)

    @property
    def too_large_note(self) -> str:
        return too_large_note(self.filename, self.size)


def too_large_note(filename: str, size: int) -> str:
    return f"attachment {filename} ({size / 1_000_000:.1f} MB) was too large to keep"
