"""Stored months (reports.summary) are forgotten from the month of every ledger write on.

An allocation counts from its applied date, or its invoice's issue date when later; an
invoice from its issue date. A changed invoice is forgotten from the earlier of its old and
new issue dates, in its old and new currencies. A customer moved to another collector (or
to none) forgets every month of both collectors' scopes. Whatever was forgotten, the worker
is asked to store again once the write commits, so managers do not wait for it."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django_q.tasks import async_task

from invoices.models import Allocation, Customer, Invoice
from invoices.signals import ledger_changed

from . import summary

LEDGER_FIELDS = {"amount", "currency", "issue_date", "due_date"}
REFILL = "reports.tasks.refill_months"


def _refill_soon(forgotten: int) -> None:
    if forgotten:
        # robust: a broker that is down must not fail a write that has committed.
        transaction.on_commit(lambda: async_task(REFILL, task_name="reports refill"), robust=True)


def _invoice_before(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        return
    if update_fields is not None and not LEDGER_FIELDS & set(update_fields):
        return
    instance._ledger_was = (
        Invoice.objects.filter(pk=instance.pk).values_list("currency", "issue_date").first()
    )


def _invoice_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if update_fields is not None and not LEDGER_FIELDS & set(update_fields):
        return
    currencies, since = {instance.currency}, instance.issue_date
    was = getattr(instance, "_ledger_was", None)
    if was:
        currencies.add(was[0])
        since = min(since, was[1])
    _refill_soon(summary.forget(currencies, since))


def _invoice_deleted(sender, instance, **kwargs):
    _refill_soon(summary.forget({instance.currency}, instance.issue_date))


def _allocation_saved(sender, instance, created=False, **kwargs):
    invoice = instance.invoice
    # A changed allocation may have moved from any date after the invoice's issue.
    since = max(instance.applied_on, invoice.issue_date) if created else invoice.issue_date
    _refill_soon(summary.forget({invoice.currency}, since))


def _allocation_deleted(sender, instance, **kwargs):
    invoice = instance.invoice
    _refill_soon(summary.forget({invoice.currency}, max(instance.applied_on, invoice.issue_date)))


def _customer_before(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        return
    if update_fields is not None and "collector" not in update_fields:
        return
    instance._collector_was = (
        Customer.objects.filter(pk=instance.pk).values_list("collector_id", flat=True).first()
    )


def _customer_saved(sender, instance, created=False, **kwargs):
    if created or not hasattr(instance, "_collector_was"):
        return  # a new customer has no invoices yet
    was, now = instance._collector_was, instance.collector_id
    del instance._collector_was
    if was != now:
        keys = {summary.scope_key(**summary.customers_of(pk)) for pk in (was, now)}
        _refill_soon(summary.forget_scopes(keys))


def _ledger_changed(sender, currencies=None, since=None, **kwargs):
    summary.forget(currencies, since)
    # Sent after bulk writes (imports, loads): whatever months they touched, the worker
    # folds their many aging changes (reports.rollup) soon, so pages add up few of them.
    _refill_soon(1)


def connect() -> None:
    uid = "reports.summary"
    pre_save.connect(_invoice_before, sender=Invoice, dispatch_uid=f"{uid}.invoice_before")
    post_save.connect(_invoice_saved, sender=Invoice, dispatch_uid=f"{uid}.invoice_saved")
    post_delete.connect(_invoice_deleted, sender=Invoice, dispatch_uid=f"{uid}.invoice_deleted")
    post_save.connect(_allocation_saved, sender=Allocation, dispatch_uid=f"{uid}.allocation")
    post_delete.connect(
        _allocation_deleted, sender=Allocation, dispatch_uid=f"{uid}.allocation_deleted"
    )
    pre_save.connect(_customer_before, sender=Customer, dispatch_uid=f"{uid}.customer_before")
    post_save.connect(_customer_saved, sender=Customer, dispatch_uid=f"{uid}.customer_saved")
    ledger_changed.connect(_ledger_changed, dispatch_uid=f"{uid}.ledger")
