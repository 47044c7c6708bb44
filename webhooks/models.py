from django.conf import settings
from django.db import models

from .events import EventType

# Back-off between attempts: about a day in all, then the delivery is given up.
RETRY_DELAYS_MINUTES = (1, 5, 30, 120, 300, 600)
MAX_ATTEMPTS = len(RETRY_DELAYS_MINUTES) + 1
# An endpoint failing this many deliveries in a row is disabled.
DISABLE_AFTER_FAILURES = 20
RESPONSE_BODY_LIMIT = 2048


class Endpoint(models.Model):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # A Standard Webhooks secret, "whsec_" and base64; shown to the admin, who gives it to
    # the receiver so it can verify our signatures.
    secret = models.CharField(max_length=100)
    event_types = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    # It hears audit events after this one: its creation's, or its re-enabling's. Not the
    # whole history.
    starts_after_audit_id = models.BigIntegerField(default=0)
    # While disabled: the planner's cursor at the moment it was disabled. Later events were
    # planned without it, so re-enabling may send those it missed.
    missed_after_audit_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url

    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [labels.get(event, event) for event in self.event_types]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed, will retry"
    GIVEN_UP = "given_up", "Given up"


class Delivery(models.Model):
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    # The webhook-id header: the same on every attempt and replay, so receivers dedupe by it.
    event_id = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response_body = models.TextField(blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self):
        return f"{self.event_type} {self.event_id} to {self.endpoint_id} ({self.status})"


class Cursor(models.Model):
    """One row: the id of the last audit event turned into deliveries."""

    last_audit_id = models.BigIntegerField(default=0)

    def __str__(self):
        return f"after audit event {self.last_audit_id}"

    @classmethod
    def current(cls) -> "Cursor":
        cursor, _ = cls.objects.get_or_create(pk=1)
        return cursor
