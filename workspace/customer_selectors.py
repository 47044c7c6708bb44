"""Reads for the customer page: the ledger's figures (invoices.selectors.customer_page), the
holds in force, the open tasks, the flags, next step and last touch exactly as the queue
shows them (workspace.situation, from the QueueEntry: the page never runs the engine) and
one page of the timeline, in a fixed number of queries however many
invoices, touches or events the customer has."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Subquery
from django.urls import reverse

from dunning.models import (
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
from dunning.rules import CHOSEN, DEFAULT, rule_for, rules_load
from invoice_copies.selectors import with_copy_links
from invoices.models import Customer, InvoiceStatus
from invoices.selectors import CustomerPage, customer_page

from .situation import (
    TASK_BADGES,
    Flag,
    LastTouch,
    NextStep,
    account_flags,
    last_touch,
    next_step,
    open_tasks_summary,
)
from .timeline import Timeline, timeline_for

ZERO = Decimal("0.00")


# --- the timeline -----------------------------------------------------------------------
# In words, a load as one entry, the audit record one click away: workspace.timeline.


def customer_timeline(customer: Customer | int, *, kind: str = "all", before=None) -> Timeline:
    """One page (newest first) of the customer's timeline, filtered by kind. Given the
    customer's id rather than the customer, its currency costs one more query."""
    if not isinstance(customer, Customer):
        customer = Customer.objects.only("currency").get(pk=customer)
    return timeline_for(customer, kind=kind, before=before)


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
class Workspace:
    customer: Customer
    ledger: CustomerPage
    entry: QueueEntry | None
    next: NextStep
    policy_name: str
    policy_is_default: bool
    policy_why: str  # "chosen for this customer", "by rule 2: consumers in GB", ...
    promises: list[OpenPromise]
    plan: ActivePlan | None
    flags: list[Flag]
    timeline: Timeline
    last_touch: LastTouch | None = None
    tasks: list[Task] = field(default_factory=list)  # open, soonest first
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


def open_tasks(customer: Customer) -> list[Task]:
    """The customer's open tasks (calls, messages to check, a referral waiting, contacts to
    fix...), soonest first: one query."""
    return list(
        Task.objects.filter(customer=customer, status=TaskStatus.OPEN)
        .select_related("touch")
        .defer("touch__body_text", "touch__body_html")
        .order_by("due_at", "pk")
    )


def message_checks(tasks: list[Task]) -> list[MessageCheck]:
    """The messages a collector must settle, among these open tasks."""
    return [
        MessageCheck(
            task_id=task.pk,
            title=task.title,
            detail=task.detail,
            choices=CHOICES.get(task.touch.status, ()) if task.touch_id else (),
        )
        for task in tasks
        if task.kind == TaskKind.CHECK_SEND
    ]


def _policy(customer: Customer, chosen, *, balance: Decimal) -> tuple[str, str]:
    """The policy that applies and why (dunning.rules): the rules cost a query, only for a
    customer without a policy of their own."""
    if chosen is not None:
        return chosen.policy.name, CHOSEN
    found = rule_for(
        rules_load(), debtor_type=customer.debtor_type, country=customer.country, balance=balance
    )
    if found is None:
        return customer.default_policy_name or "", DEFAULT
    return found.policy_name, found.why(customer.currency)


def customer_workspace(
    customer: Customer,
    *,
    today: dt.date,
    now: dt.datetime,
    kind: str = "all",
    before=None,
) -> Workspace:
    """Everything the customer page shows. The customer comes from workspace_customers().
    Queries: five for the ledger, one each for promises, the plan, the open tasks, the
    invoices' copies and the timeline. Flags, next step and last touch are the queue's
    (workspace.situation)."""
    ledger = customer_page(customer, as_of=today)
    entry = getattr(customer, "queue_entry", None)
    promises = open_promises(customer)
    plan = active_plan(customer)
    _invoice_holds(ledger.open_invoices, promises=promises, plan=plan)
    with_copy_links(ledger.open_invoices)  # one query: each row's newest copy
    chosen = getattr(customer, "dunning", None)
    policy_name, policy_why = _policy(customer, chosen, balance=ledger.totals.open)
    tasks = open_tasks(customer)
    for task in tasks:
        task.is_due = task.due_at <= now
        task.badge = TASK_BADGES.get(task.kind, "Task")
    return Workspace(
        customer=customer,
        ledger=ledger,
        entry=entry,
        next=next_step(entry, has_open=ledger.totals.open > 0, now=now),
        policy_name=policy_name,
        policy_is_default=policy_why == DEFAULT,
        policy_why=policy_why,
        promises=promises,
        plan=plan,
        flags=account_flags(entry, customer, now=now, tasks=open_tasks_summary(tasks)),
        timeline=customer_timeline(customer, kind=kind, before=before),
        last_touch=last_touch(entry),
        tasks=tasks,
        checks=message_checks(tasks),
    )
