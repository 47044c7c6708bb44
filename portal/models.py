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
