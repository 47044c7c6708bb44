"""What the reports keep between requests. Both tables are derived from the ledger and can
be emptied at any time: everything in them is computed again on demand."""

from django.db import models

from invoices.models import MONEY


class MonthSummary(models.Model):
    """A closed month's figures in one currency (for every customer, or one collector's),
    as the ledger gives them today.

    Deleted, from the month of the change on, whenever an invoice or an allocation dated in
    or before a month is written (reports.receivers), so a stored month is never stale."""

    # "" for every customer, "collector:<id>" for one collector's, "unassigned" (summary.Scope)
    scope = models.CharField(max_length=40, default="", blank=True)
    currency = models.CharField(max_length=3)
    month = models.DateField()  # its first day
    sales = models.DecimalField(**MONEY)  # invoices issued in the month
    ar_close = models.DecimalField(**MONEY)  # AR at the end of its last day
    ar_current = models.DecimalField(**MONEY)  # the part of ar_close not yet past due
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "currency", "month"], name="month_summary_scope_unique"
            )
        ]

    def __str__(self):
        return f"{self.scope or 'all'} {self.currency} {self.month:%Y-%m}"


class CachedPart(models.Model):
    """A slow, read-only part of the dashboard (activity over a period, alerts) kept for a
    few minutes; the page says when it was computed."""

    key = models.CharField(max_length=200, unique=True)
    value = models.BinaryField()  # pickled
    computed_at = models.DateTimeField()

    def __str__(self):
        return self.key
