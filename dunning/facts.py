"""Plain facts the pure engine plans from, and the plan it returns. No ORM in here.

The facts built once per customer and invoice in a run, and the plans made of them, are
named tuples: a run builds millions of them, and a tuple is several times cheaper to make
than a frozen dataclass (InvoiceFact is made straight from a database row)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple


class InvoiceFact(NamedTuple):
    id: int
    number: str
    due_date: dt.date
    balance: Decimal  # open balance, > 0
    disputed: bool = False  # an open dispute takes this invoice (only) out of dunning
    promised_until: dt.date | None = None  # an open promise naming this invoice: date + grace
    # Past its limitation date (dunning.limitation): the date it passed. Still owed, but no
    # court will enforce it, so nothing may threaten it (policy rule: barred_debts).
    barred_on: dt.date | None = None
    # The satisfaction check (a CHECK step): counted from the issue date, and asked once per
    # invoice (check_done: a check message named it, or the customer answered already).
    issue_date: dt.date | None = None
    check_done: bool = False


@dataclass(frozen=True)
class StepFact:
    position: int  # 1-based, order of the ladder
    name: str
    offset_days: int  # from the driving invoice's due date; negative = before
    channel: str  # dunning.models.Channel values: email, phone, letter, legal, task
    min_balance: Decimal = Decimal("0")
    business_days_only: bool = True
    id: int | None = None  # PolicyStep pk, carried through for the shell
    # A letter step with a Pre-Action Protocol variant: the days an individual or sole
    # trader in England and Wales gets to reply to its Letter of Claim (None: no variant).
    pre_action_days: int | None = None
    # "chase" (the ladder, from the due date) or "check" (the satisfaction check, from the
    # issue date, before the due date: dunning.engine.plan_check).
    kind: str = "chase"


@dataclass(frozen=True)
class Calendar:
    """The organisation's contact rules, applied in the customer's time zone."""

    business_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[dt.date] = frozenset()
    window_start: dt.time = dt.time(9, 0)  # automated email sending window, local time
    window_end: dt.time = dt.time(17, 0)
    phone_start: dt.time = dt.time(8, 0)  # phone tasks, and every channel for consumers
    phone_end: dt.time = dt.time(21, 0)
    min_interval: dt.timedelta = dt.timedelta(days=3)  # between automated messages


class CustomerFacts(NamedTuple):
    customer_id: int
    timezone: str  # IANA name
    debtor_type: str = "business"  # or "consumer": the stricter profile
    currency: str = "GBP"
    invoices: tuple[InvoiceFact, ...] = ()  # every invoice with an open balance
    on_hold: bool = False
    hold_until: dt.date | None = None  # manual hold ends after this date (None = open-ended)
    hold_reason: str = ""
    do_not_contact: bool = False
    insolvent: bool = False
    account_promise_until: dt.date | None = None  # whole-account promise: date + grace
    broken_promise: bool = False  # a promise was broken: escalation resumes (flag only)
    plan_active: bool = False  # an active payment plan whose instalments are met
    chase_cycle: int | None = None  # the active chase, if any
    steps_done: frozenset[int] = frozenset()  # positions already touched in the active chase
    last_automated_at: dt.datetime | None = None  # last automated message (any chase), UTC
    calls: tuple[dt.datetime, ...] = ()  # phone tasks planned or made, last 7 days, UTC
    no_calls: bool = False  # every phone number on file asked not to be called
    last_conversation_at: dt.datetime | None = None  # last call where we spoke with them, UTC
    demand_deadline: dt.date | None = None  # the final demand's deadline in the active chase
    # An individual or sole trader in England and Wales: the Pre-Action Protocol for Debt
    # Claims applies (engine.pre_action_applies).
    pre_action: bool = False
    # The demand in the active chase was a Letter of Claim: demand_deadline is its reply
    # period, restarted by documents_requested_on (their latest reply asking for documents
    # since the letter), if any.
    demand_is_claim: bool = False
    documents_requested_on: dt.date | None = None
    in_legal_since: dt.date | None = None  # an approved legal referral: no automated contact
    # A message a person must settle (outcome unknown, or every retry failed), in words:
    # chasing waits for them (dunning.outcomes).
    unsettled: str = ""
    # What the policy does with barred invoices (dunning.models.BarredDebts): "soft" lets
    # only email steps cover them, "stop" leaves them out of chasing.
    barred_debts: str = "soft"
    # A person moved the active chase to a step (dunning.moves): it starts there, and its
    # first step is due at once. start_position 1 with a move_reason is a restart.
    start_position: int = 1
    moved_by: str = ""  # who moved it, as the pages name a user
    moved_on: dt.date | None = None
    move_reason: str = ""
    # Once the ladder is done, its last message step goes again every this many days until
    # paid (Policy.repeat_every_days; None: once). The engine needs, for that step in the
    # active chase: when it last went (sent, or planned) and how many repeats went already.
    repeat_every_days: int | None = None
    repeat_last_at: dt.datetime | None = None
    repeats_done: int = 0


class PlannedAction(NamedTuple):
    step: StepFact
    invoice_ids: tuple[int, ...]  # every eligible invoice the message covers, oldest first
    total: Decimal
    due_at: dt.datetime  # UTC, aware: the earliest moment every rule allows
    reason: str  # human-readable: why this step, for these invoices, at this moment
    skip: bool = False  # conditions not met (e.g. below min balance): record and move on
    repeat: int = 0  # the nth repeat of the ladder's last message step (0: not a repeat)


class CustomerPlan(NamedTuple):
    customer_id: int
    action: PlannedAction | None  # the next step; due now when action.due_at <= as_of
    explanation: str  # always set: what happens next and why not sooner, or why nothing
    paused_by: tuple[str, ...] = ()  # holds in force, in words
    close_chase: bool = False  # nothing open any more: the active chase ends
    eligible_invoice_ids: tuple[int, ...] = ()
    # The satisfaction check planned alongside the chase (None: none to ask): its own
    # touch, outside the chase, never advancing or holding the ladder.
    check: PlannedAction | None = None

    def due(self, as_of: dt.datetime) -> bool:
        return self.action is not None and self.action.due_at <= as_of

    def check_due(self, as_of: dt.datetime) -> bool:
        return self.check is not None and self.check.due_at <= as_of
