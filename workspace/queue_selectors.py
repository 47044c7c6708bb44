"""Reads for the queue page: one index scan over the queue rows, never a sum over the
ledger (the rows carry the figures; see dunning.queue)."""

import datetime as dt

from django.db.models import Q, QuerySet

from dunning.models import Priority, QueueEntry
from invoices.selectors import OVERDUE_RANGES, customers_matching, uncounted_page

# Flags the queue filters on, as conditions on a row. "call_due" needs the moment.
FLAGS = {
    "act_now": lambda now: Q(priority=Priority.ACT_NOW),
    "broken_promise": lambda now: Q(broken_promise=True),
    "call_due": lambda now: Q(call_due_at__lte=now),
    "waiting": lambda now: Q(priority=Priority.WAITING),
    "promise": lambda now: Q(promise=True),
    "plan": lambda now: Q(plan=True),
    "on_hold": lambda now: Q(on_hold=True),
    "disputed": lambda now: Q(disputed=True),
    "in_legal": lambda now: Q(in_legal=True),
    "no_contact": lambda now: Q(no_contact=True),
}


def queue_entries(
    *,
    now: dt.datetime,
    today: dt.date,
    collector=None,
    unassigned: bool = False,
    bucket: str = "",
    flag: str = "",
    currency: str = "",
    q: str = "",
) -> QuerySet[QueueEntry]:
    """Queued customers, in the queue's order: priority class, then weight, heaviest
    first. Customers with nothing overdue (priority "not due") are left out."""
    entries = QueueEntry.objects.filter(priority__lte=Priority.WAITING)
    if unassigned:
        entries = entries.filter(collector__isnull=True)
    elif collector is not None:
        entries = entries.filter(collector=collector)
    if bucket in OVERDUE_RANGES and bucket != "not_due":
        fewest, most = OVERDUE_RANGES[bucket]
        entries = entries.filter(oldest_due__lte=today - dt.timedelta(days=fewest))
        if most is not None:
            entries = entries.filter(oldest_due__gte=today - dt.timedelta(days=most))
    if flag in FLAGS:
        entries = entries.filter(FLAGS[flag](now))
    if currency:
        entries = entries.filter(currency=currency)
    if q:
        entries = entries.filter(customers_matching(q, prefix="customer__"))
    return entries.select_related("customer", "collector").order_by(
        "priority", "-weight", "customer_id"
    )


def queue_page(*, raw_page, now: dt.datetime, today: dt.date, **filters):
    """One page of the queue, uncounted: past the first pages people narrow the filters."""
    page = uncounted_page(queue_entries(now=now, today=today, **filters), raw_page)
    for entry in page.object_list:
        entry.days_late = (today - entry.oldest_due).days if entry.oldest_due else 0
        entry.call_due = entry.call_due_at is not None and entry.call_due_at <= now
    return page
