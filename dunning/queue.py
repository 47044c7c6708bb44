"""The collector's queue, kept as one row per chased customer (QueueEntry).

Every dunning run writes the rows of the customers it plans, from the facts and plans it
has loaded anyway; every collector action rewrites the row of the customer it touched
(queue_refresh), so the queue shows the change at once. The priority, documented on the
queue page:

  0 act now   a promise was broken and nobody has called since, a phone task is due, or
              a message waits for a collector's decision (dunning.outcomes)
  1 chase     overdue money not in dispute, and nothing pauses chasing
  2 waiting   overdue, but paused: a promise, a plan, a hold, a dispute, legal, no contact
  3 not due   open invoices, none overdue (kept for the customer page, not queued)

Within a class, the overdue balance weighted by days late (sum of balance x days late)
ranks high-value old debt first.

The last touch is the last time the customer was contacted: a message or letter that went
out (by a run or by hand; its step named) or a call logged (with its outcome). Pending
messages are not touches yet. Every write that sends or logs one refreshes it: a call
(calls.call_log), a message settled or sent now (outcomes, sending: queue_refresh), and
each delivery from the outbox (queue_touched: one UPDATE in the transaction that records
the send; the outbox then rewrites the rows of the customers it sent to, in one pass)."""

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from collections_app.pgcopy import copy_rows
from invoices.models import Customer, Invoice

from .engine import plan_customer, step_heading
from .facts import CustomerPlan
from .models import (
    CallOutcome,
    Channel,
    Chase,
    ChaseStatus,
    HoldStatus,
    Priority,
    PromiseToPay,
    QueueEntry,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from .selectors import (
    MESSAGE_CHANNELS,
    OPEN_STATUSES,
    Loaded,
    Steps,
    _of_customers,
    calendar_for,
    chunks,
    customers_to_chase,
    facts_load,
)

ZERO = Decimal("0.00")

# Written in this order; customer_id first, as the conflict target.
_COLUMNS = (
    "customer_id",
    "collector_id",
    "currency",
    "priority",
    "weight",
    "open_total",
    "overdue_total",
    "overdue_count",
    "disputed_total",
    "oldest_due",
    "last_touch_at",
    "last_touch",
    "next_step",
    "next_channel",
    "next_at",
    "next_reason",
    "paused_by",
    "paused_until",
    "call_due_at",
    "broken_promise",
    "promise",
    "promised_for",
    "plan",
    "on_hold",
    "disputed",
    "in_legal",
    "no_contact",
    "credit_hold",
    "planned_at",
)


# A message in one of these states went out (a bounce or a complaint came after it did).
WENT_OUT = (TouchStatus.SENT, TouchStatus.DELIVERED, TouchStatus.BOUNCED, TouchStatus.COMPLAINED)
NO_CALLS = (None, None, "")
NO_MESSAGE = (None, "")
LABEL_MAX = QueueEntry._meta.get_field("last_touch").max_length


def touch_label(step_name: str, channel: str) -> str:
    """What the last touch says for a message or letter that went out."""
    if not step_name:
        return Channel(channel).label if channel in Channel.values else channel
    heading = step_heading(step_name, channel)
    return heading if len(heading) <= LABEL_MAX else step_name[:LABEL_MAX]


def call_label(outcome: str) -> str:
    """What the last touch says for a call logged."""
    if outcome not in CallOutcome.values:
        return "Call"
    words = CallOutcome(outcome).label
    return f"Call: {words[0].lower()}{words[1:]}"


def _calls(ids: Sequence[int]) -> dict[int, tuple]:
    """customer id -> (earliest open phone task, last call logged, its outcome): the first
    row of each customer's open calls (soonest) and of their done ones (latest)."""
    first = Window(
        RowNumber(),
        partition_by=[F("customer_id"), F("status")],
        order_by=[F("completed_at").desc(nulls_last=True), F("due_at").asc(), F("id").asc()],
    )
    rows = (
        Task.objects.filter(
            **_of_customers(ids),
            kind=TaskKind.CALL,
            status__in=(TaskStatus.OPEN, TaskStatus.DONE),
        )
        .annotate(first=first)
        .filter(first=1)
        .order_by()
        .values_list("customer_id", "status", "due_at", "completed_at", "outcome")
    )
    calls: dict[int, tuple] = {}
    for cid, status, due, logged, outcome in rows:
        due_at, logged_at, last = calls.get(cid, NO_CALLS)
        if status == TaskStatus.OPEN:
            calls[cid] = (due, logged_at, last)
        else:
            calls[cid] = (due_at, logged, outcome)
    return calls


def _messages(ids: Sequence[int]) -> dict[int, tuple]:
    """customer id -> (when the last message or letter went out, its label)."""
    latest = Window(
        RowNumber(),
        partition_by=[F("customer_id")],
        order_by=[F("sent_at").desc(), F("id").desc()],
    )
    rows = (
        Touch.objects.filter(
            **_of_customers(ids),
            channel__in=MESSAGE_CHANNELS,
            status__in=WENT_OUT,
            sent_at__isnull=False,
        )
        .annotate(latest=latest)
        .filter(latest=1)
        .order_by()
        .values_list("customer_id", "sent_at", "channel", "step__name")
    )
    return {cid: (at, touch_label(name or "", channel)) for cid, at, channel, name in rows}


def last_touch(calls: tuple, message: tuple) -> tuple:
    """(when, label) of the customer's last touch: the later of their last call logged and
    their last message that went out; (None, "") when there is neither."""
    _, call_at, outcome = calls
    message_at, label = message
    if call_at is not None and (message_at is None or call_at > message_at):
        return call_at, call_label(outcome)
    return message_at, label


def queue_touched(*, customer_id: int, at: dt.datetime, label: str) -> None:
    """A touch happened (a delivery from the outbox): make it the row's last touch unless a
    later one is there already. One UPDATE in the caller's transaction; no re-plan."""
    QueueEntry.objects.filter(customer_id=customer_id).filter(
        Q(last_touch_at__isnull=True) | Q(last_touch_at__lte=at)
    ).update(last_touch_at=at, last_touch=label[:LABEL_MAX])


def _promises(ids: Sequence[int]) -> dict[int, tuple]:
    """customer id -> (earliest date an open promise names, day the latest broken promise
    was found broken)."""
    rows = (
        PromiseToPay.objects.filter(**_of_customers(ids))
        .filter(status__in=(HoldStatus.OPEN, HoldStatus.BROKEN))
        .order_by()
        .values_list("customer_id")
        .annotate(
            promised_for=Min("promised_for", filter=Q(status=HoldStatus.OPEN)),
            broken_on=Max("resolved_on", filter=Q(status=HoldStatus.BROKEN)),
        )
    )
    return {cid: (promised_for, broken_on) for cid, promised_for, broken_on in rows}


def entry_row(
    item: Loaded,
    plan: CustomerPlan,
    *,
    as_of: dt.datetime,
    today: dt.date,
    calls: tuple = NO_CALLS,
    promises: tuple = (None, None),
    message: tuple = NO_MESSAGE,
    credit_hold: bool = False,
) -> tuple:
    """One customer's queue row, as values in _COLUMNS order. today: as_of's local date.
    calls: (earliest open call, last call logged, its outcome); message: (when the last
    message went out, its label); credit_hold: no new sales on credit (it pauses nothing)."""
    facts = item.facts
    weight = overdue = disputed = open_total = ZERO
    count = 0
    oldest = None
    promised = None
    for invoice in facts.invoices:
        open_total += invoice.balance
        if invoice.promised_until and (promised is None or invoice.promised_until > promised):
            promised = invoice.promised_until
        if invoice.due_date >= today:
            continue
        if invoice.disputed:
            disputed += invoice.balance
            continue
        overdue += invoice.balance
        count += 1
        weight += invoice.balance * (today - invoice.due_date).days
        if oldest is None or invoice.due_date < oldest:
            oldest = invoice.due_date
    if facts.account_promise_until and (promised is None or facts.account_promise_until > promised):
        promised = facts.account_promise_until
    call_due_at, last_call_at, _ = calls
    promised_for, broken_on = promises
    action = plan.action
    if action and action.step.channel == Channel.PHONE and action.due_at <= as_of:
        # The run records this phone task after the row is built.
        call_due_at = min(call_due_at or action.due_at, action.due_at)
    on_hold = facts.on_hold and (facts.hold_until is None or facts.hold_until >= today)
    in_legal = facts.in_legal_since is not None
    no_contact = facts.do_not_contact or facts.insolvent
    broken = facts.broken_promise and (
        last_call_at is None or broken_on is None or timezone.localdate(last_call_at) < broken_on
    )
    paused_until = max(
        (d for d in (promised, facts.hold_until if on_hold else None) if d), default=None
    )

    if broken or facts.unsettled or (call_due_at is not None and call_due_at <= as_of):
        priority = Priority.ACT_NOW
    elif overdue and not (plan.paused_by or in_legal or no_contact):
        priority = Priority.CHASE
    elif overdue or disputed:
        priority = Priority.WAITING
    else:
        priority = Priority.NOT_DUE

    touched_at, touched = last_touch(calls, message)

    return (
        facts.customer_id,
        item.customer.collector_id,
        facts.currency,
        int(priority),
        weight,
        open_total,
        overdue,
        count,
        disputed,
        oldest,
        touched_at,
        touched,
        action.step.name if action else "",
        action.step.channel if action else "",
        action.due_at if action else None,
        action.reason if action else plan.explanation,
        "; ".join(plan.paused_by),
        paused_until,
        call_due_at,
        broken,
        promised is not None,
        promised_for if promised is not None else None,
        facts.plan_active,
        on_hold,
        disputed > 0,
        in_legal,
        no_contact,
        credit_hold,
        as_of,
    )


def entries_rows(plans: Sequence[tuple[Loaded, CustomerPlan]], *, as_of: dt.datetime) -> list:
    """The queue rows of these planned customers (four small queries besides the facts)."""
    if not plans:
        return []
    ids = [item.customer.id for item, _ in plans]
    calls = _calls(ids)
    promises = _promises(ids)
    messages = _messages(ids)
    held = set(
        Customer.objects.filter(**_of_customers(ids, "pk"), credit_hold=True).values_list(
            "pk", flat=True
        )
    )
    today = timezone.localdate(as_of)
    return [
        entry_row(
            item,
            plan,
            as_of=as_of,
            today=today,
            calls=calls.get(item.customer.id, NO_CALLS),
            promises=promises.get(item.customer.id, (None, None)),
            message=messages.get(item.customer.id, NO_MESSAGE),
            credit_hold=item.customer.id in held,
        )
        for item, plan in plans
    ]


def entries_write(rows: list[tuple]) -> None:
    """Upsert queue rows. Rows that did not change are not rewritten (PostgreSQL), so a run
    at 10:15 after one at 10:00 touches few rows."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(QueueEntry._meta.db_table)
    listed = ", ".join(quote(c) for c in _COLUMNS)
    changing = [quote(c) for c in _COLUMNS[1:] if c != "planned_at"]
    assign = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*changing, quote("planned_at")])
    conflict = f"ON CONFLICT ({quote('customer_id')}) DO UPDATE SET {assign}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":

            def of(name: str, columns=changing) -> str:
                return ", ".join(f"{name}.{c}" for c in columns)

            mine, theirs, kept, new = of(table), of("EXCLUDED"), of("kept"), of("new")
            given = of("new", [quote(c) for c in _COLUMNS])
            key = quote("customer_id")
            temp = quote("new_dunning_queueentry")
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {temp} ON COMMIT DROP AS "
                f"SELECT {listed} FROM {table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {temp}")
            copy_rows(cursor, f"COPY {temp} ({listed}) FROM STDIN", rows)
            # Unchanged rows are left out before the INSERT, not only by its WHERE: ON
            # CONFLICT DO UPDATE locks each row it meets, even one its WHERE then leaves,
            # and a lock writes the row's page (and the WAL) much as an update does.
            cursor.execute(
                f"INSERT INTO {table} ({listed}) SELECT {given} FROM {temp} new "
                f"LEFT JOIN {table} kept ON kept.{key} = new.{key} "
                f"WHERE kept.{key} IS NULL OR ({kept}) IS DISTINCT FROM ({new}) "
                f"{conflict} WHERE ({mine}) IS DISTINCT FROM ({theirs})"
            )
            return
        fields = {f.column: f for f in QueueEntry._meta.concrete_fields}
        prepare = [fields[c] for c in _COLUMNS]
        placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
        for start in range(0, len(rows), 300):
            batch = rows[start : start + 300]
            params = [
                f.get_db_prep_save(value, connection)
                for row in batch
                for f, value in zip(prepare, row, strict=True)
            ]
            values = ", ".join([placeholders] * len(batch))
            cursor.execute(f"INSERT INTO {table} ({listed}) VALUES {values} {conflict}", params)


def entries_prune(customer_ids: Iterable[int] | None = None) -> int:
    """Delete the rows of customers no longer chased: nothing open, no active chase."""
    entries = QueueEntry.objects.filter(
        ~Exists(Invoice.objects.filter(customer=OuterRef("customer"), status__in=OPEN_STATUSES)),
        ~Exists(Chase.objects.filter(customer=OuterRef("customer"), status=ChaseStatus.ACTIVE)),
    )
    if customer_ids is not None:
        entries = entries.filter(customer_id__in=list(customer_ids))
    return entries.delete()[0]


def _rows(ids, *, as_of: dt.datetime, steps: Steps, calendar) -> list[tuple]:
    plans = [
        (item, plan_customer(item.facts, steps.facts_of(item.customer.version_id), calendar, as_of))
        for item in facts_load(ids, as_of=as_of, steps=steps, calendar=calendar)
    ]
    return entries_rows(plans, as_of=as_of)


@transaction.atomic
def queue_refresh(*, customer_ids: Sequence[int], as_of: dt.datetime | None = None) -> None:
    """Re-plan these customers and rewrite their queue rows: called after anything a
    collector does, so the queue reflects it at once. Records nothing else."""
    as_of = as_of or timezone.now()
    ids = customers_to_chase(customer_ids)
    steps = Steps()
    calendar = calendar_for(as_of)
    entries_write(_rows(ids, as_of=as_of, steps=steps, calendar=calendar))
    entries_prune(customer_ids)


def queue_rebuild(*, as_of: dt.datetime) -> int:
    """Plan every chased customer and write their queue rows, recording nothing else: fills
    the queue at once after an upgrade or a restore, without waiting for the next run.
    Returns how many customers were planned."""
    ids = customers_to_chase()
    steps = Steps()
    calendar = calendar_for(as_of)
    for chunk in chunks(ids):
        rows = _rows(chunk, as_of=as_of, steps=steps, calendar=calendar)
        with transaction.atomic():
            entries_write(rows)
    entries_prune()
    return len(ids)
