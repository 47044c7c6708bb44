"""Reads for the customer page: the ledger's figures (invoices.selectors.customer_page), the
holds in force, the engine's next step as the last run left it (QueueEntry: the page never
runs the engine) and one page of the timeline, in a fixed number of queries however many
invoices, touches or events the customer has."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Subquery
from django.urls import reverse

from audit.selectors import TimelinePage, audit_timeline_page
from dunning.models import (
    Channel,
    HoldStatus,
    PaymentPlan,
    PlanStatus,
    Policy,
    PromiseToPay,
    QueueEntry,
    Task,
    TaskKind,
    TaskStatus,
)
from dunning.outcomes import CHOICES
from invoices.models import Customer, InvoiceStatus
from invoices.selectors import CustomerPage, customer_page

ZERO = Decimal("0.00")
TIMELINE_PAGE = 50


# --- the timeline -----------------------------------------------------------------------

# The timeline's filters: every touch, call, note, payment, dispute and promise is an audit
# event, so a filter is a set of action-name prefixes. "other" is whatever none of them
# claims (holds, contact changes, policy moves...).
TIMELINE_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "messages": (
        "Messages & letters",
        (
            "dunning.email.",
            "dunning.letter.",
            "dunning.touch.",
            "dunning.opt_out",
            "letters.letter.",
            "ledger.contact.bounced",
        ),
    ),
    "calls": ("Calls", ("dunning.call.", "dunning.phone.")),
    "notes": ("Notes", ("ledger.note.",)),
    "payments": (
        "Payments & credits",
        ("ledger.payment.", "ledger.credit_note.", "ledger.invoice.written_off"),
    ),
    "disputes": ("Disputes", ("ledger.dispute.",)),
    "promises": ("Promises & plans", ("dunning.promise.", "dunning.plan.")),
}
KIND_LABELS = {"all": "All", **{k: label for k, (label, _) in TIMELINE_KINDS.items()}}
KIND_LABELS["other"] = "Other"
# Short names for the badge on each entry.
KIND_BADGES = {
    "messages": "Message",
    "calls": "Call",
    "notes": "Note",
    "payments": "Payment",
    "disputes": "Dispute",
    "promises": "Promise",
    "other": "Event",
}
_ALL_PREFIXES = tuple(p for _label, prefixes in TIMELINE_KINDS.values() for p in prefixes)


def timeline_kind(action: str) -> str:
    for kind, (_label, prefixes) in TIMELINE_KINDS.items():
        if action.startswith(prefixes):
            return kind
    return "other"


def timeline_filter(raw) -> str:
    return raw if raw in KIND_LABELS else "all"


def timeline_before(raw) -> int | None:
    try:
        before = int(raw)
    except (TypeError, ValueError):
        return None
    return before if before > 0 else None


@dataclass
class Timeline:
    kind: str
    page: TimelinePage
    kinds: list[tuple[str, str]] = field(default_factory=lambda: list(KIND_LABELS.items()))

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


def customer_timeline(customer_id: int, *, kind: str = "all", before=None) -> Timeline:
    """One page (newest first) of the customer's timeline, filtered by kind: one query."""
    kind = timeline_filter(kind)
    if kind == "other":
        scope = {"exclude": _ALL_PREFIXES}
    elif kind == "all":
        scope = {}
    else:
        scope = {"actions": TIMELINE_KINDS[kind][1]}
    page = audit_timeline_page(
        customer_id=customer_id, before=timeline_before(before), per_page=TIMELINE_PAGE, **scope
    )
    for event in page.events:
        event.kind = timeline_kind(event.action)
        event.kind_badge = KIND_BADGES[event.kind]
        # A note's own words, in full (the summary is cut at 300 characters).
        event.note = (event.data or {}).get("text", "") if event.kind == "notes" else ""
    return Timeline(kind=kind, page=page)


# --- holds --------------------------------------------------------------------------------


@dataclass
class OpenPromise:
    pk: int
    amount: Decimal
    promised_for: dt.date
    holds_until: dt.date
    invoice_ids: list[int] = field(default_factory=list)
    invoice_numbers: list[str] = field(default_factory=list)

    @property
    def whole_account(self) -> bool:
        return not self.invoice_ids


def open_promises(customer: Customer) -> list[OpenPromise]:
    """The customer's open promises with the invoices they name, soonest first: one query
    (a row per promise and invoice)."""
    promises: dict[int, OpenPromise] = {}
    rows = (
        PromiseToPay.objects.filter(customer=customer, status=HoldStatus.OPEN)
        .order_by("promised_for", "id", "invoices__due_date")
        .values_list(
            "pk", "amount", "promised_for", "grace_days", "invoices__id", "invoices__number"
        )
    )
    for pk, amount, promised_for, grace, invoice_id, number in rows:
        promise = promises.get(pk)
        if promise is None:
            promise = promises[pk] = OpenPromise(
                pk=pk,
                amount=amount,
                promised_for=promised_for,
                holds_until=promised_for + dt.timedelta(days=grace),
            )
        if invoice_id is not None:
            promise.invoice_ids.append(invoice_id)
            promise.invoice_numbers.append(number)
    return list(promises.values())


@dataclass
class ActivePlan:
    pk: int
    agreed_on: dt.date
    promissory_note_id: int | None
    instalments: list[tuple[dt.date, Decimal]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.instalments), ZERO)

    def next_instalment(self, today: dt.date) -> tuple[dt.date, Decimal] | None:
        return next(((d, a) for d, a in self.instalments if d >= today), None)


def active_plan(customer: Customer) -> ActivePlan | None:
    """The customer's active payment plan with its instalments: one query."""
    plan = None
    rows = (
        PaymentPlan.objects.filter(customer=customer, status=PlanStatus.ACTIVE)
        .order_by("instalments__due_date")
        .values_list(
            "pk", "agreed_on", "promissory_note_id", "instalments__due_date", "instalments__amount"
        )
    )
    for pk, agreed_on, note_id, due, amount in rows:
        if plan is None:
            plan = ActivePlan(pk=pk, agreed_on=agreed_on, promissory_note_id=note_id)
        if due is not None:
            plan.instalments.append((due, amount))
    return plan


# --- the page -----------------------------------------------------------------------------


def workspace_customers() -> QuerySet[Customer]:
    """Customers with what the page header needs joined in: collector, queue row, chosen
    policy, and the default policy's name for those without one."""
    return Customer.objects.select_related("collector", "queue_entry", "dunning__policy").annotate(
        default_policy_name=Subquery(Policy.objects.filter(is_default=True).values("name")[:1])
    )


@dataclass
class Flag:
    label: str
    detail: str = ""
    tone: str = "warn"  # badge colour: warn, danger, open, dispute
    # A date that goes with the detail, shown after it in the reader's locale ("until ...").
    day: dt.date | None = None
    day_text: str = "until"


@dataclass
class PlannedStep:
    """The engine's next step as the last plan left it (QueueEntry)."""

    state: str  # planned, due, paused, idle (nothing planned: see reason), unplanned, closed
    step: str = ""
    channel: str = ""
    at: dt.datetime | None = None
    reason: str = ""
    paused_by: str = ""
    paused_until: dt.date | None = None
    planned_at: dt.datetime | None = None


def planned_step(entry: QueueEntry | None, *, has_open: bool, now: dt.datetime) -> PlannedStep:
    if entry is None:
        return PlannedStep(state="unplanned" if has_open else "closed")
    common = {
        "reason": entry.next_reason,
        "paused_by": entry.paused_by,
        "paused_until": entry.paused_until,
        "planned_at": entry.planned_at,
    }
    if entry.next_step:
        channel = Channel(entry.next_channel).label if entry.next_channel else ""
        state = "due" if entry.next_at and entry.next_at <= now else "planned"
        return PlannedStep(
            state=state, step=entry.next_step, channel=channel, at=entry.next_at, **common
        )
    return PlannedStep(state="paused" if entry.paused_by else "idle", **common)


@dataclass
class Workspace:
    customer: Customer
    ledger: CustomerPage
    entry: QueueEntry | None
    next: PlannedStep
    policy_name: str
    policy_is_default: bool
    promises: list[OpenPromise]
    plan: ActivePlan | None
    flags: list[Flag]
    timeline: Timeline
    checks: list["MessageCheck"] = field(default_factory=list)

    @property
    def totals(self):
        return self.ledger.totals

    @property
    def contacts(self):
        return self.ledger.contacts

    @property
    def open_invoices(self):
        return self.ledger.open_invoices

    @property
    def open_disputes(self):
        return self.ledger.open_disputes

    @property
    def past_disputes(self):
        return self.ledger.past_disputes


def _flags(customer: Customer, entry, *, promises, plan, disputed: Decimal, today) -> list[Flag]:
    flags = []
    if customer.on_hold and (customer.hold_until is None or customer.hold_until >= today):
        flags.append(
            Flag("On hold", customer.hold_reason or "no reason given", day=customer.hold_until)
        )
    if customer.do_not_contact:
        flags.append(Flag("Do not contact", "no automated contact at all", "danger"))
    if customer.insolvent:
        flags.append(Flag("Insolvent", "no automated contact at all", "danger"))
    if customer.credit_hold:
        flags.append(Flag("Credit hold"))
    if entry is not None and entry.broken_promise:
        flags.append(Flag("Broken promise", "escalation resumes; call them", "danger"))
    if promises:
        last = max(p.holds_until for p in promises)
        flags.append(Flag("Promise", "chasing waits", "open", day=last))
    if plan is not None:
        flags.append(Flag("Payment plan", "", "open", day=plan.agreed_on, day_text="agreed"))
    if entry is not None and entry.in_legal:
        flags.append(Flag("In legal", "referral approved: no automated contact", "danger"))
    if disputed > 0:
        flags.append(Flag("Disputed", "disputed invoices are not chased", "dispute"))
    return flags


def _id_url(name: str):
    """A maker of the URLs of `name` by id, reversing once: reversing is the dearest part
    of a row, and a page lists up to hundreds of invoices."""
    marker = 987654321
    head, tail = reverse(name, args=[marker]).rsplit(str(marker), 1)
    return lambda pk: f"{head}{pk}{tail}"


def _invoice_holds(invoices, *, promises: list[OpenPromise], plan: ActivePlan | None) -> None:
    """Attach each open invoice's holds (the latest promise covering it, naming it or the
    whole account, and whether a payment plan covers it) and its page's URL."""
    until: dict[int | None, dt.date] = defaultdict(lambda: dt.date.min)
    for promise in promises:
        for key in promise.invoice_ids or [None]:
            until[key] = max(until[key], promise.holds_until)
    account = until.get(None)
    invoice_url = _id_url("invoice_detail")
    dispute_url = reverse("customer_dispute", args=[invoices[0].customer_id]) if invoices else ""
    for invoice in invoices:
        invoice.url = invoice_url(invoice.pk)
        invoice.dispute_url = f"{dispute_url}?invoice={invoice.pk}"
        invoice.in_dispute = invoice.status == InvoiceStatus.IN_DISPUTE
        invoice.part_paid = invoice.open_balance != invoice.amount
        days = invoice.days_late
        invoice.late_tone = "danger" if days > 90 else "warn" if days > 30 else ""
        dates = [d for d in (until.get(invoice.pk), account) if d]
        invoice.promised_until = max(dates) if dates else None
        invoice.in_plan = plan is not None and not invoice.in_dispute


@dataclass(frozen=True)
class MessageCheck:
    """A message a collector must settle before chasing goes on (dunning.outcomes)."""

    task_id: int
    title: str
    detail: str
    choices: tuple[tuple[str, str], ...]


def message_checks(customer: Customer) -> list[MessageCheck]:
    """The customer's open check tasks, oldest first: one query."""
    tasks = (
        Task.objects.filter(customer=customer, kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN)
        .select_related("touch")
        .order_by("due_at", "pk")
    )
    return [
        MessageCheck(
            task_id=task.pk,
            title=task.title,
            detail=task.detail,
            choices=CHOICES.get(task.touch.status, ()) if task.touch_id else (),
        )
        for task in tasks
    ]


def customer_workspace(
    customer: Customer,
    *,
    today: dt.date,
    now: dt.datetime,
    kind: str = "all",
    before=None,
) -> Workspace:
    """Everything the customer page shows. The customer comes from workspace_customers().
    Queries: five for the ledger, one each for promises, the plan and the timeline."""
    ledger = customer_page(customer, as_of=today)
    entry = getattr(customer, "queue_entry", None)
    promises = open_promises(customer)
    plan = active_plan(customer)
    _invoice_holds(ledger.open_invoices, promises=promises, plan=plan)
    chosen = getattr(customer, "dunning", None)
    checks = message_checks(customer)
    flags = _flags(
        customer,
        entry,
        promises=promises,
        plan=plan,
        disputed=ledger.totals.disputed,
        today=today,
    )
    if checks:
        flags.insert(0, Flag("Message to check", "chasing waits for your decision", "danger"))
    return Workspace(
        customer=customer,
        ledger=ledger,
        entry=entry,
        next=planned_step(entry, has_open=ledger.totals.open > 0, now=now),
        policy_name=chosen.policy.name if chosen else (customer.default_policy_name or ""),
        policy_is_default=chosen is None,
        promises=promises,
        plan=plan,
        flags=flags,
        timeline=customer_timeline(customer.pk, kind=kind, before=before),
        checks=checks,
    )
