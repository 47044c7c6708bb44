"""A customer's situation as the collector's screens show it: their flags, next step and last
touch. The queue, the customer page and the calls page all take them from here, derived
from the same facts (the customer's queue row, the customer, their open tasks), so no two
screens can disagree about a customer. Pure: no queries."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from dunning.engine import LADDER_RULE, step_heading
from dunning.models import Channel, QueueEntry, Task, TaskKind
from invoices.dates import format_day
from invoices.models import Customer
from invoices.money import format_money

# The few words before the colon of an engine explanation ("Ladder complete: ...") make
# its headline when no step is planned; longer ones are sentences, not headlines.
HEADLINE_MAX = 40
DANGER = "danger"
NO_AUTOMATED = "no automated contact"


@dataclass(frozen=True)
class Flag:
    key: str  # the queue's filter of the same name, where there is one
    label: str
    detail: str = ""
    tone: str = "warn"  # badge colour: warn, danger, open, dispute
    # A date (or moment) that goes with the detail, written after it ("until ...").
    day: dt.date | dt.datetime | None = None
    day_text: str = "until"


@dataclass(frozen=True)
class OpenTasks:
    """What the flags need from the customer's open tasks."""

    checks: int = 0  # messages a collector must settle (dunning.outcomes)
    referral: bool = False  # a legal referral waits for a manager


def account_flags(
    entry: QueueEntry | None, customer: Customer, *, now: dt.datetime, tasks: OpenTasks
) -> list[Flag]:
    """The customer's flags, most urgent first. From the queue row when there is one (every
    run and every collector action rewrites it); a customer not planned yet has only the
    flags their own record and open tasks give."""
    today = timezone.localdate(now)
    row = entry or _unplanned(customer, today)
    flags = []
    if tasks.checks:
        flags.append(Flag("check", "Message to check", "chasing waits for your decision", DANGER))
    if row.call_due_at is not None and row.call_due_at <= now:
        flags.append(Flag("call_due", "Call due", "", DANGER, row.call_due_at, "since"))
    if row.broken_promise:
        why = "escalation resumes; call them"
        flags.append(Flag("broken_promise", "Broken promise", why, DANGER))
    if tasks.referral:
        flags.append(Flag("referral", "Referral to approve", "a manager decides", "warn"))
    if row.promise:
        label = f"Promised for {format_day(row.promised_for)}" if row.promised_for else "Promised"
        flags.append(Flag("promise", label, "chasing waits", "open"))
    if row.plan:
        flags.append(Flag("plan", "Payment plan", "instalments met", "open"))
    if row.on_hold:
        why = customer.hold_reason or "no reason given"
        flags.append(Flag("on_hold", "On hold", why, "warn", customer.hold_until))
    if row.disputed:
        amount = format_money(row.disputed_total, row.currency)
        flags.append(Flag("disputed", "Disputed", f"{amount} not chased", "dispute"))
    if row.in_legal:
        why = f"referral approved: {NO_AUTOMATED}"
        flags.append(Flag("in_legal", "In legal", why, DANGER))
    if row.no_contact:
        if customer.do_not_contact or not customer.insolvent:
            flags.append(Flag("no_contact", "Do not contact", NO_AUTOMATED, DANGER))
        if customer.insolvent:
            flags.append(Flag("no_contact", "Insolvent", NO_AUTOMATED, DANGER))
    if customer.credit_hold:
        flags.append(credit_hold_flag(customer))
    return flags


def credit_hold_flag(customer: Customer) -> Flag:
    """No new sales on credit: since when, why, and whether the credit-hold rule set it
    (it lifts it once the account is back in terms) or a person did (it stays until a
    person lifts it)."""
    since = customer.credit_hold_since
    label = f"Credit hold since {format_day(since)}" if since else "Credit hold"
    why = customer.credit_hold_reason
    if customer.credit_hold_by_rule:
        detail = f"{why}; set by the rule" if why else "set by the rule"
    else:
        # A hold set by hand may carry that very phrase as its reason (invoices.services).
        detail = "set by hand" + (f": {why}" if why and why != "set by hand" else "")
    return Flag("credit_hold", label, detail, "warn")


def _unplanned(customer: Customer, today: dt.date) -> QueueEntry:
    """What a row would say before any plan: only the customer's own flags."""
    # Not given the customer: that would cache this stand-in as customer.queue_entry.
    return QueueEntry(
        currency=customer.currency,
        on_hold=customer.on_hold and (customer.hold_until is None or customer.hold_until >= today),
        no_contact=customer.do_not_contact or customer.insolvent,
    )


@dataclass(frozen=True)
class NextStep:
    """The engine's next step as the last plan left it (the queue row)."""

    state: str  # due, planned, paused, idle (nothing planned: see reason), unplanned, closed
    step: str = ""
    channel: str = ""  # its label ("Letter")
    heading: str = ""  # the step as a reader sees it: "Final demand by letter"
    at: dt.datetime | None = None
    reason: str = ""  # the engine's reason, or its explanation when nothing is planned
    # Paused or idle: the explanation's first words ("Ladder complete") and the rest.
    headline: str = ""
    detail: str = ""
    paused_by: str = ""
    paused_until: dt.date | None = None
    planned_at: dt.datetime | None = None

    @property
    def help(self) -> str:
        """How steps are chosen: said once, here, rather than in every reason."""
        return LADDER_RULE


def next_step(entry: QueueEntry | None, *, has_open: bool, now: dt.datetime) -> NextStep:
    if entry is None:
        return NextStep(state="unplanned" if has_open else "closed")
    common = {
        "reason": entry.next_reason,
        "paused_by": entry.paused_by,
        "paused_until": entry.paused_until,
        "planned_at": entry.planned_at,
    }
    if entry.next_step:
        channel = entry.next_channel
        return NextStep(
            state="due" if entry.next_at and entry.next_at <= now else "planned",
            step=entry.next_step,
            channel=Channel(channel).label if channel in Channel.values else channel,
            heading=step_heading(entry.next_step, channel),
            at=entry.next_at,
            **common,
        )
    headline, detail = _split(entry.next_reason)
    return NextStep(
        state="paused" if entry.paused_by else "idle", headline=headline, detail=detail, **common
    )


def _split(explanation: str) -> tuple[str, str]:
    head, colon, rest = explanation.partition(": ")
    if colon and len(head) <= HEADLINE_MAX and "." not in head:
        return head, rest
    return "", explanation


@dataclass(frozen=True)
class LastTouch:
    at: dt.datetime
    label: str  # "Final demand by letter", "Call: no answer"


def last_touch(entry: QueueEntry | None) -> LastTouch | None:
    if entry is None or entry.last_touch_at is None:
        return None
    return LastTouch(at=entry.last_touch_at, label=entry.last_touch)


# A short name for each kind of open task, for its badge (the title says the rest).
TASK_BADGES = {
    TaskKind.CALL: "Call",
    TaskKind.CHECK_SEND: "Check",
    TaskKind.REFERRAL: "Referral",
    TaskKind.FIX_CONTACT: "Contact",
    TaskKind.INTERNAL: "Task",
}


def open_tasks_summary(tasks: list[Task]) -> OpenTasks:
    """What the flags need from a customer's open tasks."""
    return OpenTasks(
        checks=sum(1 for task in tasks if task.kind == TaskKind.CHECK_SEND),
        referral=any(task.kind == TaskKind.REFERRAL for task in tasks),
    )
