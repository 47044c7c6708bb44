"""What the reports keep between requests. Every table here is derived from the ledger: the
months and the cached parts can be emptied at any time (they are computed again on demand),
the open balances by due date rebuilt from it (reports.rollup.rebuild)."""

from django.conf import settings
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


class OpenByDue(models.Model):
    """Today's aging, kept by the database itself: the outstanding invoices and their open
    balance per currency, collector and due date (PostgreSQL; see reports.rollup). A row
    holds what was folded in; the changes since are OpenByDueChange rows, and the two summed
    are the ledger's figure at every moment. Derived: rebuilt from the ledger at will."""

    currency = models.CharField(max_length=3)
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    due_date = models.DateField()
    invoices = models.IntegerField()
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "collector", "due_date"],
                nulls_distinct=False,
                name="open_by_due_unique",
            )
        ]

    def __str__(self):
        return f"{self.currency} {self.collector_id} {self.due_date}"


class OpenByDueChange(models.Model):
    """A change to OpenByDue written by the ledger's own statements (database triggers),
    appended rather than applied so that writers never wait on one another; folded in by
    the worker. A row of a customer's (invoices written) counts under that customer's
    collector at the time it is read; a row without a customer counts under its own
    collector (a customer's share moved out when the customer changed collector)."""

    customer = models.ForeignKey(
        "invoices.Customer", null=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    currency = models.CharField(max_length=3)
    due_date = models.DateField()
    invoices = models.IntegerField()
    amount = models.DecimalField(**MONEY)

    def __str__(self):
        whose = f"customer {self.customer_id}" if self.customer_id else f"{self.collector_id}"
        return f"{self.currency} {whose} {self.due_date} {self.invoices:+d}"


class OpenHistory(models.Model):
    """What moved the open balance on each day, per currency and due date, kept by the
    database itself (PostgreSQL; see reports.history): an invoice adds itself on its issue
    date and leaves the count on the day it closed, each allocation takes its amount off on
    the day it applied. Summed up to a day, the rows give that day's aging and AR without
    reading the invoices; `issued` is the credit sales of the day. Derived: rebuilt from the
    ledger at will."""

    currency = models.CharField(max_length=3)
    on_date = models.DateField()
    due_date = models.DateField()
    invoices = models.IntegerField()
    amount = models.DecimalField(**MONEY)
    issued = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "on_date", "due_date"], name="open_history_unique"
            )
        ]

    def __str__(self):
        return f"{self.currency} {self.on_date} due {self.due_date}"


class OpenHistoryChange(models.Model):
    """A change to OpenHistory appended by the ledger's own statements (triggers), so that
    writers never wait on one another; folded in by the worker."""

    currency = models.CharField(max_length=3)
    on_date = models.DateField()
    due_date = models.DateField()
    invoices = models.IntegerField()
    amount = models.DecimalField(**MONEY)
    issued = models.DecimalField(**MONEY)

    def __str__(self):
        return f"{self.currency} {self.on_date} due {self.due_date} {self.amount:+}"
