"""API tokens (only a hash is kept) and stored answers to POSTs sent with an Idempotency-Key."""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE_LEDGER = "write_ledger", "Write ledger (customers, invoices)"
    # For the collections endpoints (promises, notes, tasks) still to come.
    WRITE_COLLECTIONS = "write_collections", "Write collections (promises, notes, tasks)"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    # A token acts for the firm as a whole, like an admin's import: no collector owns it, so
    # the ownership rule of the screens (accounts.roles.require_change) does not apply.
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it")
    hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def label(self) -> str:
        return f"API token {self.prefix}"

    def usable(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def actor(self):
        """Who the audit trail names for this token's writes: an unsaved user whose name is
        the token's label, so the ledger's services (which take an actor) record the token
        as the actor's label with no user behind it."""
        return get_user_model()(username=self.label)


class IdempotentRequest(models.Model):
    """The answer given to a POST with an Idempotency-Key, replayed for 24 hours."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="api_idempotent_token_key")
        ]

    def __str__(self):
        return f"{self.key} ({self.status})"
