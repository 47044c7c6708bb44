"""Planning and recording: the run that turns due plans into chases, touches and tasks.

The run streams: the customers to chase are read a chunk at a time (the next
selectors.CHUNK ids after the last), their facts loaded in a fixed number of queries
(selectors.facts_load), planned by the pure engine, and each chunk's actions written
set-wise in one transaction, with their audit events. What a run holds is a chunk or two,
however large the ledger. The database's unique keys make the run idempotent: planning
twice creates nothing new."""

import datetime as dt
import gc
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from json.encoder import encode_basestring_ascii as _quote
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from audit.services import Event, audit_record_many
from collections_app.pgcopy import copy_rows
from invoices.models import Invoice
from invoices.money import format_money

from . import planners, selectors
from .engine import CHECK, plan_customer
from .facts import Calendar, CustomerPlan, PlannedAction
from .models import Channel, Chase, ChaseStatus, Task, TaskKind, Touch, TouchStatus, touch_refs
from .queue import entries_prune, entries_rows, entries_write
from .selectors import (
    OPEN_STATUSES,
    CustomerRow,
    Loaded,
    StepRow,
    Steps,
    calendar_for,
    chunks,
    customers_to_chase,
    facts_load,
)


@dataclass(slots=True)
class RunResult:
    """What the run did (or, in a dry run, would do) for one customer."""

    customer_id: int
    customer: str  # external id
    name: str
    step: str = ""
    channel: str = ""
    invoices: list[str] = field(default_factory=list)
    status: str = ""
    reason: str = ""
    due_at: dt.datetime | None = None
    touch_id: int | None = None

    @classmethod
    def of_touch(cls, touch, status: str, reason: str) -> "RunResult":
        """What happened to a touch (with its customer and step loaded)."""
        return cls(
            customer_id=touch.customer_id,
            customer=touch.customer.external_id,
            name=touch.customer.name,
            step=touch.step.name if touch.step_id else "",
            channel=touch.channel,
            invoices=[inv["number"] for inv in touch.invoices],
            status=status,
            reason=reason,
            due_at=touch.scheduled_for,
            touch_id=touch.pk,
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        data["due_at"] = self.due_at.isoformat() if self.due_at else None
        return data

    def as_json(self) -> str:
        return json.dumps(self.as_dict())


def dunning_run(
    *,
    as_of: dt.datetime,
    dry_run: bool = False,
    customer_ids: Sequence[int] | None = None,
    explain: bool = False,
    timings: dict[str, float] | None = None,
) -> list[RunResult]:
    """Plan every chased customer as of a moment and record the actions that are due; the
    results of the whole run in one list (dunning_run_stream yields them chunk by chunk
    instead, for a run whose results need not be kept)."""
    return list(
        dunning_run_stream(
            as_of=as_of,
            dry_run=dry_run,
            customer_ids=customer_ids,
            explain=explain,
            timings=timings,
        )
    )


def dunning_run_stream(
    *,
    as_of: dt.datetime,
    dry_run: bool = False,
    customer_ids: Sequence[int] | None = None,
    explain: bool = False,
    timings: dict[str, float] | None = None,
    memory: dict | None = None,
) -> Iterator[RunResult]:
    """Plan every chased customer as of a moment and record the actions that are due,
    yielding each chunk's results once it is recorded.

    1. Read the next chunk of customers with an open balance or an active chase, and
       their facts.
    2. Plan each with the pure engine, and write every planned customer's queue row
       (dunning.queue).
    3. Per chunk, in one transaction: start chases, insert touches under their unique key
       (a touch planned before is left alone), create tasks for phone, legal and internal
       steps, close chases with nothing left open, and audit each.
    4. After a full run (the stream read to its end), drop the queue rows of customers no
       longer chased.
    On PostgreSQL steps 1 and 2 run in planning processes (dunning.planners), chunks ahead
    of step 3, which runs here, in the caller's transaction. A dry run stops after step 2
    (writing no queue rows) and yields the same results. With explain, customers with
    nothing due are listed too, with the engine's explanation. timings, if given, collects
    seconds per phase: facts, plan and queue (summed over the planning processes), waiting
    (for them, and for the caller between chunks), record and audit; memory, if given,
    the planning processes' own peak (planners_peak_mb). The cyclic garbage collector
    stays paused until the stream ends or is closed (_gc_paused)."""
    calendar = calendar_for(as_of)
    steps = Steps()

    def plan_chunk(chunk: Sequence[int]) -> tuple[list[Due], list[RunResult], dict]:
        """A chunk read and planned: (what to record, what to say without recording, the
        seconds it took per phase). It may run in a planning process (dunning.planners)."""
        spent: dict[str, float] = {}
        reading = _Clock(spent)
        loaded = facts_load(chunk, as_of=as_of, steps=steps, calendar=calendar)
        reading.lap("facts")
        plans = [
            (
                item,
                plan_customer(
                    item.facts, steps.facts_of(item.customer.version_id), calendar, as_of
                ),
            )
            for item in loaded
        ]
        reading.lap("plan")
        if not dry_run:
            # Built from the plans, not from what this chunk records, so the rows are
            # written here, while the chunk before is being recorded.
            with transaction.atomic():
                entries_write(entries_rows(plans, as_of=as_of))
            reading.lap("queue")
        said: list[RunResult] = []
        due = []
        for item, plan in plans:
            if (
                plan.due(as_of)
                or (plan.close_chase and item.customer.chase_id)
                or plan.check_due(as_of)
            ):
                due.append((item, plan))
            elif explain:
                said.append(_waiting(item, plan))
        del plans
        if dry_run:
            said.extend(
                _would_do(item, plan, as_of)
                for item, plan in due
                if plan.due(as_of) or (plan.close_chase and item.customer.chase_id)
            )
            said.extend(
                _would_do(item, plan._replace(action=plan.check), as_of)
                for item, plan in due
                if plan.check_due(as_of)
            )
            return [], said, spent
        refs = _refs()
        to_record = [
            due_of(item, plan, as_of, steps=steps, calendar=calendar, refs=refs)
            for item, plan in due
        ]
        reading.lap("plan")
        return to_record, said, spent

    clock = _Clock(timings)
    with _gc_paused():
        for due, said, spent in planners.ahead(
            _chunks_to_chase(customer_ids), plan_chunk, memory=memory
        ):
            clock.lap("waiting")
            if timings is not None:
                for phase, seconds in spent.items():
                    timings[phase] = timings.get(phase, 0.0) + seconds
            results = said
            if due:
                results.extend(_record(due, as_of=as_of, clock=clock))
            del due, said
            yield from results
            clock.lap("waiting")
        if not dry_run:
            entries_prune(customer_ids)


def _chunks_to_chase(customer_ids: Sequence[int] | None) -> Iterator[list[int]]:
    """The customers a run plans (an open balance or an active chase), in id order, a chunk
    of selectors.CHUNK at a time. A full run reads each chunk as it comes to it, the next
    ids after the last one (keyset pagination, two indexed queries a chunk), so no list of
    the whole ledger's customers is ever held. Given ids are the caller's list already."""
    if customer_ids is not None:
        yield from chunks(customers_to_chase(customer_ids))
        return
    after = 0
    while ids := _to_chase_after(after, selectors.CHUNK):
        yield ids
        after = ids[-1]


def _to_chase_after(after: int, size: int) -> list[int]:
    """The first `size` customers after id `after` with an open balance or an active chase:
    the first `size` of each kind, merged (no customer among the first `size` of both can
    be missing from its own kind's first `size`)."""
    # order_by() alone: the models' default orderings would add columns to the DISTINCT.
    owing = (
        Invoice.objects.filter(status__in=OPEN_STATUSES, customer_id__gt=after)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()[:size]
    )
    chased = (
        Chase.objects.filter(status=ChaseStatus.ACTIVE, customer_id__gt=after)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)[:size]
    )
    return sorted({*owing, *chased})[:size]


@contextmanager
def _gc_paused():
    """A run allocates millions of short-lived objects and keeps its results: the cyclic
    collector would walk the growing heap again and again (a fifth of the run's time)
    while finding nothing to free, as nothing here makes reference cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Clock:
    """Adds the time since the last lap to a named phase (nothing when not asked for)."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        if self.timings is None:
            return
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - self.last
        self.last = now


def _result(customer: CustomerRow, **values) -> RunResult:
    return RunResult(
        customer_id=customer.id, customer=customer.external_id, name=customer.name, **values
    )


def _waiting(item: Loaded, plan: CustomerPlan) -> RunResult:
    action = plan.action
    return _result(
        item.customer,
        step=action.step.name if action else "",
        channel=action.step.channel if action else "",
        status="paused" if plan.paused_by else "waiting",
        reason=plan.explanation,
        due_at=action.due_at if action else None,
    )


def _numbers(item: Loaded, invoice_ids) -> list[str]:
    by_id = {inv.id: inv.number for inv in item.facts.invoices}
    return [by_id[i] for i in invoice_ids if i in by_id]


def _touch_status(action) -> str:
    if action.skip:
        return TouchStatus.SKIPPED
    if action.step.channel in (Channel.EMAIL, Channel.LETTER):
        return TouchStatus.PENDING
    return TouchStatus.DONE


def _would_do(item: Loaded, plan: CustomerPlan, as_of: dt.datetime) -> RunResult:
    action = plan.action
    if not plan.due(as_of):
        return _result(item.customer, status="would close chase", reason=plan.explanation)
    return _result(
        item.customer,
        step=action.step.name,
        channel=action.step.channel,
        invoices=_numbers(item, action.invoice_ids),
        status=f"would be {_touch_status(action)}",
        reason=action.reason,
        due_at=action.due_at,
    )


# --- set-wise inserts -------------------------------------------------------------------


def _insert_new(
    model, columns: Sequence[str], rows: list[tuple], *, returning: str, unique: str = ""
) -> dict:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: rows another run already made are left
    alone, and the caller learns which rows are its own (value of `returning` -> id).
    unique: the one column whose unique index another run's row would clash on, if there
    is one (else every unique index is checked before each row goes in, then again as it
    goes in).

    rows hold values for `columns` (JSON columns as JSON text); the other columns take
    their field's default. PostgreSQL: COPY into a temporary table, then one INSERT ...
    SELECT. SQLite (>= 3.35): multi-row INSERTs."""
    if not rows:
        return {}
    fields = {f.column: f for f in model._meta.concrete_fields if not f.primary_key}
    rest = [column for column in fields if column not in columns]
    now = timezone.now()
    defaults = tuple(_default(fields[column], now) for column in rest)
    names = [*columns, *rest]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    listed = ", ".join(quote(name) for name in names)
    target = f"({quote(unique)}) " if unique else ""
    tail = f"ON CONFLICT {target}DO NOTHING RETURNING {quote(returning)}, {quote('id')}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Only the given columns go through COPY (it formats every value of every row);
            # the defaults, the same for every row, are sent once, as parameters.
            temp = quote(f"new_{model._meta.db_table}")
            given = ", ".join(quote(name) for name in columns)
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {temp} ON COMMIT DROP AS "
                f"SELECT {given} FROM {table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {temp}")
            copy_rows(cursor, f"COPY {temp} ({given}) FROM STDIN", rows)
            constants = "".join(f", %s::{fields[column].db_type(connection)}" for column in rest)
            params = [_prepared(fields[c], value) for c, value in zip(rest, defaults, strict=True)]
            cursor.execute(
                f"INSERT INTO {table} ({listed}) SELECT {given}{constants} FROM {temp} {tail}",
                params,
            )
            return dict(cursor.fetchall())
        made = {}
        prepare = [partial(_prepared, fields[name]) for name in names]
        placeholders = "(" + ", ".join(["%s"] * len(names)) + ")"
        for start in range(0, len(rows), 500):
            batch = rows[start : start + 500]
            params = [
                fn(value)
                for row in batch
                for fn, value in zip(prepare, row + defaults, strict=True)
            ]
            values = ", ".join([placeholders] * len(batch))
            cursor.execute(f"INSERT INTO {table} ({listed}) VALUES {values} {tail}", params)
            made.update(dict(cursor.fetchall()))
    return made


def _prepared(f, value):
    """A value as the database takes it (JSON columns' values are JSON text already)."""
    if f.get_internal_type() == "JSONField":
        return value
    return f.get_db_prep_save(value, connection)


def _default(f, now: dt.datetime):
    if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
        return now
    value = f.get_default()
    if f.get_internal_type() == "JSONField":
        return json.dumps(value)
    return value


def _window_end(due_at: dt.datetime, tz: str, end: dt.time) -> dt.datetime:
    zone = ZoneInfo(tz)
    local = due_at.astimezone(zone)
    return dt.datetime.combine(local.date(), end, tzinfo=zone).astimezone(dt.UTC)


# --- recording --------------------------------------------------------------------------


class Act(NamedTuple):
    """A due action, with what recording writes for it, made where it was planned: only
    the ids (a touch's chase, a task's touch) are put in by _record. Plain values only: a
    chunk of them crosses from a planning process, and objects cost more to send."""

    step: str  # the step's name
    channel: str
    chased: bool  # a step of the chase (False: a satisfaction check, outside any chase)
    key: str  # the touch key after "customer:cycle" (_step_key), or a check's whole key
    status: str  # the touch's
    reason: str
    due_at: dt.datetime
    numbers: list[str]  # its invoices'
    touch: tuple  # the touch's columns after chase_id (_TOUCH_COLUMNS)
    task: tuple | None  # its task's columns after touch_id (_TASK_COLUMNS), if it makes one
    event: tuple[str, str, str, str]  # its audit event, but the ids (_touch_event)


class Due(NamedTuple):
    """A planned customer with something to record, holding only what recording needs: it
    crosses from a planning process, a chunk of them at a time."""

    customer: CustomerRow
    act: Act | None  # the chase's next step, due now
    check: Act | None  # the satisfaction check, due now
    close: str  # why the active chase ends ("" when it goes on)


def due_of(
    item: Loaded,
    plan: CustomerPlan,
    as_of: dt.datetime,
    *,
    steps: Steps,
    calendar: Calendar,
    refs: Iterator[str],
    checks: bool = True,
) -> Due:
    """What recording needs of a plan with something due (plan.due, a chase to close or,
    with checks, a satisfaction check). refs: the touches' refs (_refs)."""

    def act(action: PlannedAction) -> Act:
        chosen = set(action.invoice_ids)
        covered = [inv for inv in item.facts.invoices if inv.id in chosen]
        step = steps.row(action.step.id, item.customer.version_id)
        task = None if action.skip else _task_for(item, step, action, calendar)
        status = _touch_status(action).value  # plain text: a choice is sent as its class
        chased = action.step.kind != CHECK
        return Act(
            action.step.name,
            action.step.channel,
            chased,
            _step_key(action) if chased else touch_key(item.customer.id, None, action),
            status,
            action.reason,
            action.due_at,
            [inv.number for inv in covered],
            (
                action.step.id,
                action.step.channel,
                status,
                action.due_at,
                action.reason,
                _invoices_json(covered),
                action.total,
                item.facts.currency,
                next(refs),
            ),
            task,
            _touch_event(step, action, task is not None),
        )

    return Due(
        item.customer,
        act(plan.action) if plan.due(as_of) else None,
        act(plan.check) if checks and plan.check_due(as_of) else None,
        plan.explanation if plan.close_chase and item.customer.chase_id else "",
    )


_TOUCH_COLUMNS = (
    "key",
    "customer_id",
    "chase_id",
    "step_id",
    "channel",
    "status",
    "scheduled_for",
    "reason",
    "invoices",
    "total",
    "currency",
    "ref",  # one each: a default would be one value for the whole insert
)
_TASK_COLUMNS = (
    "touch_id",
    "kind",
    "customer_id",
    "assigned_to_id",
    "title",
    "detail",
    "due_at",
    "window_end",
)


@transaction.atomic
def _record(due: list[Due], *, as_of: dt.datetime, clock: _Clock) -> list[RunResult]:
    events: list[Event] = []
    acting = [d for d in due if d.act]
    # Satisfaction checks are actions of their own, outside any chase: they neither start
    # a chase nor count as one of its steps.
    acts = [(d, d.act) for d in acting] + [(d, d.check) for d in due if d.check]

    # 1. Chases: start one where there is none. Another run may have started it meanwhile;
    # ON CONFLICT leaves its row, and the re-read below picks it up.
    starting = [d.customer for d in acting if d.customer.chase_id is None]
    started = _insert_new(
        Chase,
        ("customer_id", "cycle", "policy_version_id", "status", "started_at"),
        [(c.id, c.last_cycle + 1, c.version_id, ChaseStatus.ACTIVE, as_of) for c in starting],
        returning="customer_id",
    )
    active = {
        d.customer.id: (d.customer.chase_id, d.customer.chase_cycle)
        for d in acting
        if d.customer.chase_id is not None
    }
    active.update((c.id, (started[c.id], c.last_cycle + 1)) for c in starting if c.id in started)
    raced = [d.customer.id for d in acting if d.customer.id not in active]
    if raced:
        active.update(
            (cid, (chase_id, cycle))
            for cid, chase_id, cycle in Chase.objects.filter(
                customer_id__in=raced, status=ChaseStatus.ACTIVE
            ).values_list("customer_id", "id", "cycle")
        )
    # A chase starts with its first touch: that touch's event records the start too.
    new_chases = {c.id: started[c.id] for c in starting if c.id in started}

    # 2. Touches under their unique key.
    touches = []
    for d, act in acts:
        cid = d.customer.id
        if act.chased:
            chase_id, cycle = active[cid]
            touches.append((f"{cid}:{cycle}{act.key}", cid, chase_id, *act.touch))
        else:
            touches.append((act.key, cid, None, *act.touch))
    made = _insert_new(Touch, _TOUCH_COLUMNS, touches, returning="key", unique="key")

    # 3. Tasks and audit events for the touches this run made.
    results, tasks = [], []
    for (d, act), touch in zip(acts, touches, strict=True):
        touch_id = made.get(touch[0])
        results.append(
            _result(
                d.customer,
                step=act.step,
                channel=act.channel,
                invoices=act.numbers,
                status=act.status if touch_id else "already planned",
                reason=act.reason,
                due_at=act.due_at,
                touch_id=touch_id,
            )
        )
        if touch_id is None:
            continue
        if act.task is not None:
            tasks.append((touch_id, *act.task))
        new_chase = new_chases.get(d.customer.id) if act.chased else None
        events.append(_made_event(d, act, touch_id, new_chase))
    _insert_new(Task, _TASK_COLUMNS, tasks, returning="touch_id")

    # 4. Chases with nothing left open end (pending messages of theirs are cancelled).
    for d in due:
        if d.close and chase_close(
            chase_id=d.customer.chase_id, at=as_of, reason=d.close, events=events
        ):
            results.append(_result(d.customer, status="chase closed", reason=d.close))
    clock.lap("record")
    # Last, just before the commit: the audit chain's lock is held from here to the end of
    # the transaction, and every other audited write (a collector's note) waits for it.
    audit_record_many(events=events)
    clock.lap("audit")
    return results


def plans_record(due, *, as_of: dt.datetime, steps: Steps, calendar: Calendar) -> list[RunResult]:
    """Record these (item, plan) pairs exactly as a run does (chase, touch under its unique
    key, task, audit event), for an action a collector brings forward (dunning.sending):
    the run that comes later finds it already planned."""
    return _record(
        [
            due_of(item, plan, as_of, steps=steps, calendar=calendar, refs=_refs(), checks=False)
            for item, plan in due
        ],
        as_of=as_of,
        clock=_Clock(None),
    )


def _refs() -> Iterator[str]:
    """Touch refs (touch_refs), read from the system's randomness a thousand at a time;
    made afresh where they are used (a forked planning process must not go on with its
    parent's)."""
    while True:
        yield from touch_refs(1000)


def _task_for(item: Loaded, step: StepRow, action, calendar: Calendar):
    """The task row (in _TASK_COLUMNS order, but the touch id) a phone, legal or internal
    step creates."""
    channel = action.step.channel
    customer = item.customer
    amount = format_money(action.total, item.facts.currency)
    count = len(action.invoice_ids)
    if channel == Channel.PHONE:
        window_end = _window_end(action.due_at, item.facts.timezone, calendar.phone_end)
        title = f"Call {customer.name} about {amount} overdue"
        return (
            TaskKind.CALL,
            customer.id,
            customer.collector_id,
            title[:200],
            action.reason,
            action.due_at,
            window_end,
        )
    if channel == Channel.LEGAL:
        # Managers approve referrals: the task sits in their shared queue, not a collector's.
        invoices = "1 invoice" if count == 1 else f"{count} invoices"
        title = f"Approve legal referral of {customer.name} ({amount}, {invoices})"
        return (
            TaskKind.REFERRAL,
            customer.id,
            None,
            title[:200],
            action.reason,
            action.due_at,
            None,
        )
    if channel == Channel.TASK:
        title = f"{step.fact.name}: {customer.name}"
        return (
            TaskKind.INTERNAL,
            customer.id,
            customer.collector_id,
            title[:200],
            action.reason,
            action.due_at,
            None,
        )
    return None


_TASK_ACTIONS = {
    Channel.PHONE: "dunning.phone_task.created",
    Channel.LEGAL: "dunning.referral.created",
    Channel.TASK: "dunning.task.created",
}


def _touch_event(step: StepRow, action, task: bool) -> tuple[str, str, str, str]:
    """A touch's audit event, before the touch has an id: (action, summary, and its data
    as canonical JSON in two parts, without the braces, touch_id and chase_started), for
    _made_event to finish."""
    if action.skip:
        name, verb = "dunning.touch.skipped", "skipped"
    elif task:
        name, verb = _TASK_ACTIONS[action.step.channel], "task created"
    else:
        name, verb = "dunning.touch.planned", "planned"
    # canonical_json's text of {"due_at", "invoice_ids", "step", "total"} (keys sorted),
    # written directly as _invoices_json is.
    ids = ",".join(map(str, action.invoice_ids))
    rest = (
        f'"due_at":{_quote(action.due_at.isoformat())},"invoice_ids":[{ids}],'
        f'"step":{_quote(step.fact.name)},"total":{_quote(str(action.total))}'
    )
    channel = f'"channel":{_quote(action.step.channel)}'
    return name, f"{step.fact.name} {verb}: {action.reason}", channel, rest


def _made_event(due: Due, act: Act, touch_id: int, new_chase: int | None) -> Event:
    """The event of a touch this run made. Its data is canonical JSON (keys sorted), so
    the ids go in their places: chase_started after channel, touch_id last."""
    name, summary, channel, rest = act.event
    if new_chase is None:
        data_json = f'{{{channel},{rest},"touch_id":{touch_id}}}'
    else:
        summary = f"Chase {due.customer.last_cycle + 1} started. {summary}"
        data_json = f'{{{channel},"chase_started":{new_chase},{rest},"touch_id":{touch_id}}}'
    return Event(action=name, customer_id=due.customer.id, summary=summary, data_json=data_json)


def touch_key(customer_id: int, cycle: int, action) -> str:
    """The touch's unique key: one per customer, chase and step, and one per repeat of the
    ladder's last step (":r<n>", dunning.selectors.repeat_number), so a rerun plans none
    of them twice. A satisfaction check belongs to no chase: one per customer and first
    invoice it asks about (the invoices it names are never asked again)."""
    if action.step.kind == CHECK:
        return f"{customer_id}:check:{action.invoice_ids[0]}"
    return f"{customer_id}:{cycle}{_step_key(action)}"


def _step_key(action) -> str:
    """A chase step's part of its touch key, after "customer:cycle"."""
    key = f":{action.step.position}"
    return f"{key}:r{action.repeat}" if action.repeat else key


def _invoices_json(invoices) -> str:
    """The touch's snapshot of its invoices, as the JSON field would store it (dates as
    ISO text, amounts as decimal strings), written directly: the general encoder's call
    back per date and amount costs more than the rest of the recording together."""
    items = ", ".join(
        f'{{"id": {inv.id}, "number": {_quote(inv.number)}, '
        f'"due_date": "{inv.due_date.isoformat()}", "balance": "{inv.balance}"}}'
        for inv in invoices
    )
    return f"[{items}]"


def chase_close(
    *, chase_id: int, at: dt.datetime, reason: str, actor=None, events: list | None = None
) -> bool:
    """End an active chase and cancel its pending messages. False if it was not active.
    With events, its audit event is added there for the caller to record with the rest."""
    with transaction.atomic():
        closed = Chase.objects.filter(pk=chase_id, status=ChaseStatus.ACTIVE).update(
            status=ChaseStatus.CLOSED, closed_at=at, close_reason=reason[:200]
        )
        if not closed:
            return False
        chase = Chase.objects.get(pk=chase_id)
        cancelled = Touch.objects.filter(chase_id=chase_id, status=TouchStatus.PENDING).update(
            status=TouchStatus.CANCELLED, last_error="Chase closed: " + reason
        )
        event = Event(
            action="dunning.chase.closed",
            customer_id=chase.customer_id,
            summary=f"Chase {chase.cycle} closed: {reason}",
            data={"chase_id": chase_id, "cancelled_touches": cancelled},
        )
        if events is not None:
            events.append(event)
        else:
            audit_record_many(events=[event], actor=actor)
    return True
