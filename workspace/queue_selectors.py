"""Reads for the queue page: one index scan over the queue rows, never a sum over the
ledger (the rows carry the figures; see dunning.queue). Each row's flags, next step and
last touch are worded by workspace.situation, as the customer page words them."""

import datetime as dt

from django.db.models import Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, QuerySet

from dunning.models import Priority, QueueEntry, Task, TaskKind, TaskStatus
from invoices.selectors import OVERDUE_RANGES, customers_matching, uncounted_page

from .situation import OpenTasks, account_flags, last_touch, next_step

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
    "credit_hold": lambda now: Q(credit_hold=True),
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
    order = ("priority", "-weight", "customer_id")
    if bucket in OVERDUE_RANGES and bucket != "not_due":
        fewest, most = OVERDUE_RANGES[bucket]
        in_bucket = Q(oldest_due__lte=today - dt.timedelta(days=fewest))
        if most is not None:
            in_bucket &= Q(oldest_due__gte=today - dt.timedelta(days=most))
        entries = entries.filter(in_bucket)
        if _few(in_bucket):
            order = (ExpressionWrapper(F("priority") + 0, output_field=IntegerField()), *order[1:])
    if flag in FLAGS:
        entries = entries.filter(FLAGS[flag](now))
    if currency:
        entries = entries.filter(currency=currency)
    if q:
        entries = entries.filter(customers_matching(q, prefix="customer__"))
    return (
        entries.select_related("customer", "collector")
        .annotate(
            # Read in the same query, only for the rows of the page: the open tasks the
            # flags name, as the customer page names them.
            open_check=_open_task(TaskKind.CHECK_SEND),
            open_referral=_open_task(TaskKind.REFERRAL),
        )
        .order_by(*order)
    )


# An age bucket holding at most this many queue rows is read through the oldest_due index and
# sorted; a larger one is found walking the queue's order. The planner cannot tell: it
# expects a bucket's rows spread along the queue's order, where the younger buckets sit at
# its end (their weight is lower), so with a million rows it walked them all (2.8 s).
FEW_IN_BUCKET = 50_000


def _few(in_bucket: Q) -> bool:
    """Whether the bucket holds few enough rows to sort, counted along the oldest_due index
    no further than the limit."""
    rows = QueueEntry.objects.filter(in_bucket).order_by().values("pk")[: FEW_IN_BUCKET + 1]
    return rows.count() <= FEW_IN_BUCKET


def _open_task(kind: str) -> Exists:
    return Exists(
        Task.objects.filter(customer_id=OuterRef("customer_id"), kind=kind, status=TaskStatus.OPEN)
    )


def queue_page(*, raw_page, now: dt.datetime, today: dt.date, **filters):
    """One page of the queue, uncounted: past the first pages people narrow the filters."""
    page = uncounted_page(queue_entries(now=now, today=today, **filters), raw_page)
    for entry in page.object_list:
        entry.days_late = (today - entry.oldest_due).days if entry.oldest_due else 0
        tasks = OpenTasks(checks=int(entry.open_check), referral=entry.open_referral)
        entry.flags = account_flags(entry, entry.customer, now=now, tasks=tasks)
        entry.next = next_step(entry, has_open=True, now=now)
        entry.touched = last_touch(entry)
    return page
