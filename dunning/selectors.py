"""Reads for the dunning shell: the engine's facts for many customers at once.

facts_load() costs a fixed number of queries per chunk of customers, whatever their number
of invoices, promises or touches, and builds plain tuples rather than model instances."""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    ExpressionWrapper,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from invoices.dates import format_day
from invoices.models import Allocation, Contact, Customer, Invoice, InvoiceStatus, Payment
from letters.models import Template
from letters.signals import StepUse

from .calendar import business_days_after, holiday_dates, zone
from .engine import (
    LETTER_OF_CLAIM,
    PRE_ACTION_DAYS,
    pre_action_applies,
    repeat_step,
    reply_deadline,
)
from .facts import Calendar, CustomerFacts, InvoiceFact, StepFact
from .limitation import barred_load
from .models import (
    CONVERSATION_OUTCOMES,
    BarredDebts,
    Channel,
    Chase,
    ChaseStatus,
    CustomerPolicy,
    DocumentsRequest,
    DunningSettings,
    HoldStatus,
    Instalment,
    PaymentPlan,
    PlanStatus,
    Policy,
    PolicyStep,
    PolicyVersion,
    PromiseToPay,
    Referral,
    ReferralStatus,
    SatisfactionAnswer,
    StepKind,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from .rules import policy_resolve, rules_load

CHUNK = 5_000
OPEN_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
MESSAGE_CHANNELS = (Channel.EMAIL, Channel.LETTER)
# A message counts against the minimum interval from the moment it is planned; one whose
# outcome is unknown from its hand-off (it may have reached the customer).
MESSAGE_STATUSES = (
    TouchStatus.PENDING,
    TouchStatus.SENDING,
    TouchStatus.UNKNOWN,
    TouchStatus.SENT,
    TouchStatus.DELIVERED,
)
# A repeat's touch key: the step's key and ":r<n>" (then perhaps ":retry<m>", a bounce's).
REPEAT_KEY = re.compile(r"^\d+:\d+:\d+:r(\d+)(?::|$)")


def repeat_number(key: str) -> int:
    """Which repeat of its step a touch is, by its key (0: the step itself)."""
    found = REPEAT_KEY.match(key)
    return int(found.group(1)) if found else 0


@dataclass(frozen=True)
class StepRow:
    """A policy step as the shell needs it: the engine's StepFact plus how to deliver it."""

    fact: StepFact
    version_id: int
    template: str
    use_escalation_contact: bool
    response_deadline_days: int | None
    attach_statement: bool = False
    attach_copies: bool = False  # the newest copy of each invoice it covers
    interest_regime: str = ""  # the policy's statutory interest law, if it claims any
    barred_debts: str = "soft"  # the policy's rule for barred debts (BarredDebts)
    pre_action_template: str = ""  # the Letter of Claim, for fact.pre_action_days

    def for_customer(self, customer) -> "StepRow":
        """The step as this customer gets it (anything with debtor_type, country and
        region): for an individual or sole trader in England and Wales, a step with a
        Pre-Action Protocol variant sends its Letter of Claim, which gives days to reply
        rather than business days to pay (the letter states them; the engine waits them)."""
        if not self.pre_action_template or not pre_action_applies(
            customer.debtor_type, customer.country, customer.region
        ):
            return self
        return replace(
            self,
            fact=replace(self.fact, name=LETTER_OF_CLAIM),
            template=self.pre_action_template,
            response_deadline_days=None,
        )


class CustomerRow(NamedTuple):
    id: int
    external_id: str
    name: str
    collector_id: int | None
    version_id: int | None  # the policy version this customer is (or would be) chased on
    chase_id: int | None
    chase_cycle: int | None
    last_cycle: int


class Loaded(NamedTuple):
    """One customer's facts and what the shell needs alongside them."""

    customer: CustomerRow
    facts: CustomerFacts


def settings_load() -> DunningSettings:
    """The settings row, or the defaults when there is none (without writing: dry runs)."""
    return DunningSettings.objects.filter(pk=1).first() or DunningSettings()


def calendar_for(as_of: dt.datetime) -> Calendar:
    return calendar_load(settings_load(), years=range(as_of.year - 1, as_of.year + 2))


def calendar_load(settings: DunningSettings, years: Iterable[int]) -> Calendar:
    holidays: frozenset[dt.date] = frozenset()
    if settings.holiday_country:
        holidays = frozenset(
            holiday_dates(settings.holiday_country, settings.holiday_subdivision, tuple(years))
        )
    return Calendar(
        business_weekdays=settings.business_weekdays,
        holidays=holidays,
        window_start=settings.window_start,
        window_end=settings.window_end,
        phone_start=settings.phone_start,
        phone_end=settings.phone_end,
        min_interval=dt.timedelta(days=settings.min_interval_days),
    )


class Steps:
    """Policy versions and their steps, loaded once per run (a handful of rows)."""

    def __init__(self):
        # policy id -> its current (highest-numbered) version id
        self.current_version: dict[int, int] = {}
        # version id -> what its policy does with barred debts
        self.barred_debts: dict[int, str] = {}
        # version id -> its policy's repeat_every_days, where set
        self.repeat_every: dict[int, int] = {}
        for policy_id, version_id, barred_debts, repeat in PolicyVersion.objects.order_by(
            "number"
        ).values_list("policy_id", "id", "policy__barred_debts", "policy__repeat_every_days"):
            self.current_version[policy_id] = version_id
            self.barred_debts[version_id] = barred_debts
            if repeat:
                self.repeat_every[version_id] = repeat
        default = Policy.objects.filter(is_default=True).values_list("id", flat=True).first()
        self.default_policy = default
        self.default_version = self.current_version.get(default) if default else None
        self.rules = rules_load()
        # Versions with a satisfaction check step: only their customers' invoices need to
        # know whether a check has asked about them (facts_load).
        self.checking = frozenset(
            PolicyStep.objects.filter(kind=StepKind.CHECK).values_list("version_id", flat=True)
        )
        self._by_version: dict[int, tuple[StepRow, ...]] = {}
        self._facts: dict[int | None, tuple[StepFact, ...]] = {}
        self.by_id: dict[int, StepRow] = {}

    def of(self, version_id: int | None) -> tuple[StepRow, ...]:
        if version_id is None:
            return ()
        if version_id not in self._by_version:
            rows = tuple(
                StepRow(
                    fact=StepFact(
                        position=r[1],
                        name=r[2],
                        offset_days=r[3],
                        channel=r[4],
                        min_balance=r[5],
                        business_days_only=r[6],
                        id=r[0],
                        pre_action_days=(r[13] or PRE_ACTION_DAYS) if r[12] else None,
                        kind=r[16],
                    ),
                    version_id=version_id,
                    template=r[7],
                    use_escalation_contact=r[8],
                    response_deadline_days=r[9],
                    attach_statement=r[10],
                    interest_regime=r[11],
                    pre_action_template=r[12],
                    barred_debts=r[14],
                    attach_copies=r[15],
                )
                for r in PolicyStep.objects.filter(version_id=version_id)
                .order_by("position")
                .values_list(
                    "id",
                    "position",
                    "name",
                    "offset_days",
                    "channel",
                    "min_balance",
                    "business_days_only",
                    "template",
                    "use_escalation_contact",
                    "response_deadline_days",
                    "attach_statement",
                    "version__policy__interest_regime",
                    "pre_action_template",
                    "pre_action_days",
                    "version__policy__barred_debts",
                    "attach_copies",
                    "kind",
                )
            )
            self._by_version[version_id] = rows
            self.by_id.update({row.fact.id: row for row in rows})
        return self._by_version[version_id]

    def facts_of(self, version_id: int | None) -> tuple[StepFact, ...]:
        if version_id not in self._facts:  # asked once per customer: made once per version
            self._facts[version_id] = tuple(row.fact for row in self.of(version_id))
        return self._facts[version_id]

    def row(self, step_id: int, version_id: int | None) -> StepRow:
        """A step of a version, the version loaded first if this process has not yet (the
        process that records a chunk may not be the one that planned it)."""
        self.of(version_id)
        return self.by_id[step_id]


def customers_to_chase(customer_ids: Sequence[int] | None = None) -> list[int]:
    """Customers with an open balance or an active chase, in id order."""
    open_ids = Invoice.objects.filter(status__in=OPEN_STATUSES)
    chased = Chase.objects.filter(status=ChaseStatus.ACTIVE)
    if customer_ids is not None:
        open_ids = open_ids.filter(customer_id__in=customer_ids)
        chased = chased.filter(customer_id__in=customer_ids)
    # order_by(): the models' default orderings would add columns to the DISTINCT (and a
    # join to customers) that nothing here needs.
    ids = set(open_ids.order_by().values_list("customer_id", flat=True).distinct())
    ids.update(chased.order_by().values_list("customer_id", flat=True))
    return sorted(ids)


def chunks(ids: Sequence[int], size: int | None = None) -> Iterator[Sequence[int]]:
    size = size or CHUNK
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def plan_met(
    *,
    instalments: Iterable[tuple[dt.date, Decimal]],
    paid: Decimal,
    grace_days: int,
    on: dt.date,
) -> bool:
    """Whether payments since the plan was agreed cover every instalment due by `on` minus
    the grace days (cumulatively: paying ahead counts towards later instalments)."""
    cutoff = on - dt.timedelta(days=grace_days)
    owed = sum((amount for due, amount in instalments if due <= cutoff), Decimal("0"))
    return paid >= owed


PLAN_EVERY = {"month": "Monthly", "week": "Weekly", "fortnight": "Every two weeks"}


def plan_schedule(
    *, total: Decimal, count: int, first_date: dt.date, every: str
) -> list[tuple[dt.date, Decimal]]:
    """Equal instalments of `total` every week, fortnight or month (PLAN_EVERY) from
    `first_date`; each rounded down to the cent, the remainder on the last one."""
    each = (total / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    step = {
        "month": relativedelta(months=1),
        "week": relativedelta(weeks=1),
        "fortnight": relativedelta(weeks=2),
    }[every]
    rows = [(first_date + step * i, each) for i in range(count)]
    rows[-1] = (rows[-1][0], total - each * (count - 1))
    return rows


def _of_customers(ids: list[int], field: str = "customer_id") -> dict:
    """A filter on these customers. A chunk of a run is a dense run of ids: a range reads
    the indexes in order and keeps the statement short (a long IN list costs more to send
    and parse than the rows it finds). Callers look rows up by customer, so the few extra
    customers a range may bring in are ignored."""
    if ids and max(ids) - min(ids) < 2 * len(ids):
        return {f"{field}__gte": min(ids), f"{field}__lte": max(ids)}
    return {f"{field}__in": ids}


def _no_calls(of: dict) -> frozenset[int]:
    """Customers every one of whose phone numbers on file asked not to be called (the
    contact's phone channel may not be used): their phone steps are skipped. A customer with
    no number at all still gets the call task: the collector finds one."""
    numbers = (
        Contact.objects.filter(**of)
        .exclude(phone="")
        .values("customer_id")
        .annotate(
            callable=Count("pk", filter=Q(phone_opt_out=False)),
            refused=Count("pk", filter=Q(phone_opt_out=True)),
        )
        .filter(callable=0, refused__gt=0)
    )
    return frozenset(row["customer_id"] for row in numbers)


class Demand(NamedTuple):
    """The latest letter with a deadline in a chase, as facts_load reads it."""

    moment: dt.datetime  # sent, or scheduled to go
    business_days: int  # the step's days to pay
    pre_action_days: int | None  # the step's Letter of Claim reply period, if it has one
    pre_action_template: str
    template: str  # the template it went out with ("" while not sent)


def demand_is_claim(demand: Demand, pre_action: bool) -> bool:
    """Whether the letter is (or, not sent yet, will be) a Letter of Claim: what went out
    decides; before that, who the customer is now."""
    if not demand.pre_action_template:
        return False
    if demand.template:
        return demand.template == demand.pre_action_template
    return pre_action


def demand_deadline(
    demand: Demand,
    *,
    tz: str,
    calendar: Calendar,
    claim: bool,
    documents_requested: Iterable[dt.date] = (),
) -> dt.date:
    """The last day the demand gives them: a final demand's date plus its business days; a
    Letter of Claim's reply period, restarted by a reply asking for documents."""
    sent_on = demand.moment.astimezone(zone(tz)).date()
    if claim:
        days = demand.pre_action_days or PRE_ACTION_DAYS
        return reply_deadline(sent_on, days, documents_requested)
    return business_days_after(sent_on, demand.business_days, calendar)


@dataclass(frozen=True)
class LetterDeadline:
    sent_on: dt.date
    deadline: dt.date
    claim: bool  # a Letter of Claim (Pre-Action Protocol), not a final demand
    asked: dt.date | None  # their latest request for documents since it, if a claim
    days: int  # the Letter of Claim's reply period


def letter_deadline(*, customer: Customer, letter: Touch, calendar: Calendar) -> LetterDeadline:
    """The last day a final demand or a Letter of Claim that went out gives them: the same
    deadline the engine waits for (facts_load). Two queries."""
    template = ""
    if letter.template_version_id:
        template = (
            Template.objects.filter(versions__pk=letter.template_version_id)
            .values_list("key", flat=True)
            .first()
            or ""
        )
    step = letter.step
    demand = Demand(
        moment=letter.sent_at or letter.scheduled_for,
        business_days=step.response_deadline_days or 0,
        pre_action_days=step.pre_action_days,
        pre_action_template=step.pre_action_template,
        template=template,
    )
    sent_on = demand.moment.astimezone(zone(customer.timezone)).date()
    claim = demand_is_claim(
        demand, pre_action_applies(customer.debtor_type, customer.country, customer.region)
    )
    asked = None
    if claim:
        asked = DocumentsRequest.objects.filter(
            customer=customer, requested_on__gte=sent_on
        ).aggregate(last=Max("requested_on"))["last"]
    deadline = demand_deadline(
        demand,
        tz=customer.timezone,
        calendar=calendar,
        claim=claim,
        documents_requested=[asked] if asked else (),
    )
    days = demand.pre_action_days or PRE_ACTION_DAYS
    return LetterDeadline(sent_on=sent_on, deadline=deadline, claim=claim, asked=asked, days=days)


def referral_wait(*, customer: Customer, letter: Touch, today: dt.date, calendar: Calendar) -> str:
    """Why a referral resting on this letter (a final demand or a Letter of Claim that went
    out) cannot be approved yet, in words with the day it can; "" once its deadline has
    passed."""
    found = letter_deadline(customer=customer, letter=letter, calendar=calendar)
    sent_on, deadline, claim, asked = found.sent_on, found.deadline, found.claim, found.asked
    if deadline < today:
        return ""
    after = format_day(deadline + dt.timedelta(days=1))
    if not claim:
        return (
            f"The final demand of {format_day(sent_on)} gives them until {format_day(deadline)} "
            f"to pay: the referral can be approved from {after}."
        )
    days = found.days
    if asked is not None and asked + dt.timedelta(days=days) >= deadline:
        why = (
            f"They replied on {format_day(asked)} asking for documents, and the Pre-Action "
            f"Protocol for Debt Claims gives them {days} days from that reply, until "
            f"{format_day(deadline)}"
        )
    else:
        why = (
            f"The letter of claim of {format_day(sent_on)} gives them {days} days to reply, "
            f"until {format_day(deadline)} (Pre-Action Protocol for Debt Claims)"
        )
    return f"{why}: the referral can be approved from {after}."


def facts_load(
    customer_ids: Sequence[int],
    *,
    as_of: dt.datetime,
    steps: Steps,
    calendar: Calendar | None = None,
    recheck: "Touch | None" = None,
) -> list[Loaded]:
    """The engine's facts for these customers as of a moment, in a fixed number of queries.

    recheck leaves a pending touch (and earlier touches of its step, e.g. a bounced one it
    retries) out of the history: delivery re-plans it as if it had not been planned yet,
    to check it is still due. calendar (loaded when not given) dates the final demand's
    deadline."""
    ids = list(customer_ids)
    wanted = set(ids)
    of = _of_customers(ids)
    on = as_of.date()
    calendar = calendar or calendar_for(as_of)
    customers = Customer.objects.filter(**_of_customers(ids, "pk")).values_list(
        "id",
        "external_id",
        "name",
        "timezone",
        "debtor_type",
        "currency",
        "on_hold",
        "hold_until",
        "hold_reason",
        "do_not_contact",
        "insolvent",
        "collector_id",
        "country",
        "region",
    )

    # Rows come out in InvoiceFact's field order after the customer id (promised_until and
    # barred_on are filled in below for the few invoices an open promise names or that
    # passed their limitation date).
    disputed = ExpressionWrapper(Q(status=InvoiceStatus.IN_DISPUTE), output_field=BooleanField())
    no_date = Value(None, output_field=DateField())
    invoices = defaultdict(list)
    make = InvoiceFact._make
    for row in (
        Invoice.objects.filter(**of, status__in=OPEN_STATUSES)
        # Each customer's oldest due first, in the order of invoice_open_by_customer.
        .order_by("customer_id", "due_date", "number")
        .values_list(
            "customer_id",
            "id",
            "number",
            "due_date",
            "open_balance",
            disputed,
            no_date,
            no_date,
            # The issue date only when a policy asks the satisfaction check (plan_check).
            "issue_date" if steps.checking else no_date,
            Value(False),
        )
    ):
        invoices[row[0]].append(make(row[1:]))

    # Limitation: which open invoices are barred today, each customer's today and law.
    # Each time zone's today once: a chunk's customers share a few zones.
    today_in = {tz: as_of.astimezone(zone(tz)).date() for tz in {row[3] for row in customers}}
    barred = barred_load(
        ((inv.id, cid, inv.due_date) for cid, rows in invoices.items() for inv in rows),
        {row[0]: (row[12], row[13], today_in[row[3]]) for row in customers},
    )

    # Promises: open ones pause, the latest settled one tells whether a promise was broken.
    account_promise: dict[int, dt.date] = {}
    invoice_promise: dict[int, dt.date] = {}
    last_settled: dict[int, str] = {}
    open_promises = {}
    for pid, cid, promised_for, grace, status in (
        PromiseToPay.objects.filter(
            **of,
            status__in=(HoldStatus.OPEN, HoldStatus.KEPT, HoldStatus.BROKEN),
        )
        .order_by("resolved_on", "id")
        .values_list("id", "customer_id", "promised_for", "grace_days", "status")
    ):
        if status == HoldStatus.OPEN:
            open_promises[pid] = (cid, promised_for + dt.timedelta(days=grace))
        else:
            last_settled[cid] = status
    named = defaultdict(list)
    for pid, invoice_id in PromiseToPay.invoices.through.objects.filter(
        promisetopay_id__in=list(open_promises)
    ).values_list("promisetopay_id", "invoice_id"):
        named[pid].append(invoice_id)
    for pid, (cid, until) in open_promises.items():
        if named[pid]:
            for invoice_id in named[pid]:
                invoice_promise[invoice_id] = max(until, invoice_promise.get(invoice_id, until))
        else:
            account_promise[cid] = max(until, account_promise.get(cid, until))

    # Payment plans: active and met as of the date.
    plans = {
        pid: (cid, agreed_on, grace)
        for pid, cid, agreed_on, grace in PaymentPlan.objects.filter(
            **of, status=PlanStatus.ACTIVE
        ).values_list("id", "customer_id", "agreed_on", "grace_days")
    }
    plan_instalments = defaultdict(list)
    for plan_id, due, amount in Instalment.objects.filter(plan_id__in=list(plans)).values_list(
        "plan_id", "due_date", "amount"
    ):
        plan_instalments[plan_id].append((due, amount))
    plan_payments = defaultdict(list)
    if plans:
        for cid, received_on, amount in Payment.objects.filter(
            customer_id__in=[cid for cid, _, _ in plans.values()],
            received_on__lte=on,
            reversed_on__isnull=True,  # a bounced payment never paid an instalment
        ).values_list("customer_id", "received_on", "amount"):
            plan_payments[cid].append((received_on, amount))
    plan_active = {}
    for pid, (cid, agreed_on, grace) in plans.items():
        paid = sum((a for d, a in plan_payments[cid] if d >= agreed_on), Decimal("0"))
        plan_active[cid] = plan_met(
            instalments=plan_instalments[pid], paid=paid, grace_days=grace, on=on
        )

    # Chases: the active one, and the last cycle number for the next one.
    # A moved chase also brings who moved it (dunning.moves): (start, by, on, why).
    active_chase = {}
    moves: dict[int, tuple] = {}
    last_cycle: dict[int, int] = defaultdict(int)
    for chase_id, cid, cycle, status, version_id, *move in Chase.objects.filter(**of).values_list(
        "id",
        "customer_id",
        "cycle",
        "status",
        "policy_version_id",
        "start_position",
        "move_reason",
        "started_at",
        "moved_by__first_name",
        "moved_by__last_name",
        "moved_by__username",
    ):
        last_cycle[cid] = max(last_cycle[cid], cycle)
        if status == ChaseStatus.ACTIVE:
            active_chase[cid] = (chase_id, cycle, version_id)
            start, reason, started_at, first, last, username = move
            if reason:
                by = f"{first} {last}".strip() or username or ""
                moves[cid] = (start, by, started_at, reason)
    in_legal = dict(
        Referral.objects.filter(**of, status=ReferralStatus.APPROVED)
        .values("customer_id")
        .annotate(since=Min("decided_at"))
        .values_list("customer_id", "since")
    )
    chosen_policy = dict(
        CustomerPolicy.objects.filter(**of).values_list("customer_id", "policy_id")
    )

    touches = Touch.objects.filter(**of)
    if recheck is not None:
        touches = touches.exclude(pk=recheck.pk)
    done = defaultdict(set)
    done_touches = touches
    if recheck is not None and recheck.step_id:
        if repeat_number(recheck.key):
            # A repeat is re-planned as if it had not been planned yet: the step and its
            # earlier repeats stay in the history, this repeat (and its retries) do not.
            base = recheck.key.split(":retry")[0]
            done_touches = touches.exclude(Q(key=base) | Q(key__startswith=f"{base}:"))
        else:
            done_touches = touches.exclude(chase_id=recheck.chase_id, step_id=recheck.step_id)
    # The final demand: the latest letter with a response deadline in the active chase.
    demand: dict[int, Demand] = {}
    # (customer, position) -> (latest moment, highest repeat number): for repeats.
    went: dict[tuple[int, int], tuple[dt.datetime, int]] = {}
    for cid, position, channel, status, moment, deadline_days, *claim, key in (
        done_touches.filter(chase__status=ChaseStatus.ACTIVE, step__isnull=False)
        .exclude(status=TouchStatus.CANCELLED)
        .values_list(
            "customer_id",
            "step__position",
            "channel",
            "status",
            Coalesce("sent_at", "scheduled_for"),
            "step__response_deadline_days",
            "step__pre_action_days",
            "step__pre_action_template",
            "template_version__template__key",
            "key",
        )
    ):
        done[cid].add(position)
        last, repeats = went.get((cid, position), (moment, 0))
        went[cid, position] = (max(last, moment), max(repeats, repeat_number(key)))
        if (
            channel == Channel.LETTER
            and deadline_days
            and status not in (TouchStatus.SKIPPED, TouchStatus.FAILED)
            and (cid not in demand or moment > demand[cid].moment)
        ):
            days, template, sent_with = claim
            demand[cid] = Demand(moment, deadline_days, days, template, sent_with or "")
    # A moved chase has sent no final demand of its own yet: a referral moved to still
    # waits for the deadline of the one sent before the move.
    for cid, moment, deadline_days, *claim in (
        Touch.objects.filter(
            customer_id__in=list(moves),
            channel=Channel.LETTER,
            step__response_deadline_days__gt=0,
        )
        .exclude(chase__status=ChaseStatus.ACTIVE)
        .exclude(status__in=(TouchStatus.CANCELLED, TouchStatus.SKIPPED, TouchStatus.FAILED))
        .values_list(
            "customer_id",
            Coalesce("sent_at", "scheduled_for"),
            "step__response_deadline_days",
            "step__pre_action_days",
            "step__pre_action_template",
            "template_version__template__key",
        )
    ):
        if cid not in demand or moment > demand[cid].moment:
            days, template, sent_with = claim
            demand[cid] = Demand(moment, deadline_days, days, template, sent_with or "")
    # Replies to a Letter of Claim asking for documents: the latest is all that counts.
    documents_asked = dict(
        DocumentsRequest.objects.filter(**of)
        .values("customer_id")
        .annotate(last=Max("requested_on"))
        .values_list("customer_id", "last")
    )
    last_message = dict(
        touches.filter(automated=True, channel__in=MESSAGE_CHANNELS, status__in=MESSAGE_STATUSES)
        .values("customer_id")
        .annotate(last=Max(Coalesce("sent_at", "handoff_at", "scheduled_for")))
        .values_list("customer_id", "last")
    )
    unsettled = _unsettled(of, touches)
    asked = touches
    if recheck is not None and ":check:" in recheck.key:
        # A check (or a bounce's retry of it) is re-planned as if not yet asked.
        base = recheck.key.split(":retry")[0]
        asked = touches.exclude(Q(key=base) | Q(key__startswith=f"{base}:"))
    checked = _checked(of, asked) if steps.checking else frozenset()

    no_calls = _no_calls(of)
    calls = defaultdict(list)
    for cid, due_at in (
        Task.objects.filter(**of, kind=TaskKind.CALL, due_at__gte=as_of - dt.timedelta(days=7))
        .exclude(status=TaskStatus.CANCELLED)
        .values_list("customer_id", "due_at")
    ):
        calls[cid].append(due_at)
    conversations = dict(
        Task.objects.filter(
            **of,
            kind=TaskKind.CALL,
            outcome__in=CONVERSATION_OUTCOMES,
            completed_at__isnull=False,
        )
        .values("customer_id")
        .annotate(last=Max("completed_at"))
        .values_list("customer_id", "last")
    )

    loaded = []
    for (
        cid,
        external_id,
        name,
        tz,
        debtor_type,
        currency,
        on_hold,
        hold_until,
        hold_reason,
        do_not_contact,
        insolvent,
        collector_id,
        country,
        region,
    ) in customers:
        if cid not in wanted:
            continue
        chase = active_chase.get(cid)
        open_invoices = invoices.get(cid, ())
        if chase:
            version_id = chase[2]
        else:
            policy_id = policy_resolve(
                chosen=chosen_policy.get(cid),
                rules=steps.rules,
                default=steps.default_policy,
                debtor_type=debtor_type,
                country=country,
                balance=sum((inv.balance for inv in open_invoices), Decimal("0")),
            ).policy_id
            version_id = steps.current_version.get(policy_id) if policy_id else None
            version_id = version_id or steps.default_version
        move = moves.get(cid) if chase else None
        repeat_every = steps.repeat_every.get(version_id) if chase else None
        repeated = repeat_step(steps.facts_of(version_id)) if repeat_every else None
        last_went, repeats = (
            went.get((cid, repeated.position), (None, 0)) if repeated else (None, 0)
        )
        pre_action = pre_action_applies(debtor_type, country, region)
        letter = demand.get(cid) if chase else None
        claim = letter is not None and demand_is_claim(letter, pre_action)
        asked = documents_asked.get(cid) if claim else None
        if asked is not None and asked < letter.moment.astimezone(zone(tz)).date():
            asked = None  # asked before the letter: not a reply to it
        facts = CustomerFacts(
            customer_id=cid,
            timezone=tz,
            debtor_type=debtor_type,
            currency=currency,
            invoices=_with_checks(
                _with_dates(open_invoices, invoice_promise, barred), checked, version_id, steps
            ),
            on_hold=on_hold,
            hold_until=hold_until,
            hold_reason=hold_reason,
            do_not_contact=do_not_contact,
            insolvent=insolvent,
            account_promise_until=account_promise.get(cid),
            broken_promise=cid not in account_promise and last_settled.get(cid) == "broken",
            plan_active=plan_active.get(cid, False),
            chase_cycle=chase[1] if chase else None,
            steps_done=frozenset(done[cid]) if chase else frozenset(),
            last_automated_at=last_message.get(cid),
            calls=tuple(sorted(calls.get(cid, ()))),
            no_calls=cid in no_calls,
            last_conversation_at=conversations.get(cid),
            demand_deadline=demand_deadline(
                letter,
                tz=tz,
                calendar=calendar,
                claim=claim,
                documents_requested=[asked] if asked else (),
            )
            if letter
            else None,
            pre_action=pre_action,
            demand_is_claim=claim,
            documents_requested_on=asked,
            in_legal_since=in_legal[cid].astimezone(zone(tz)).date() if cid in in_legal else None,
            unsettled=unsettled.get(cid, ""),
            barred_debts=steps.barred_debts.get(version_id, BarredDebts.SOFT),
            start_position=move[0] if move else 1,
            moved_by=move[1] if move else "",
            moved_on=move[2].astimezone(zone(tz)).date() if move else None,
            move_reason=move[3] if move else "",
            repeat_every_days=repeat_every,
            repeat_last_at=last_went,
            repeats_done=repeats,
        )
        loaded.append(
            Loaded(
                customer=CustomerRow(
                    id=cid,
                    external_id=external_id,
                    name=name,
                    collector_id=collector_id,
                    version_id=version_id,
                    chase_id=chase[0] if chase else None,
                    chase_cycle=chase[1] if chase else None,
                    last_cycle=last_cycle[cid],
                ),
                facts=facts,
            )
        )
    return loaded


def _unsettled(of: dict, touches) -> dict[int, str]:
    """customer id -> the message a person must settle before chasing goes on, in words:
    one whose outcome is unknown, or one with an open check task (every retry failed)."""
    found: dict[int, str] = {}
    for cid, step in touches.filter(status=TouchStatus.UNKNOWN).values_list(
        "customer_id", "step__name"
    ):
        found[cid] = (
            f"whether the {step or 'message'} went out is unknown: a collector checks first"
        )
    for cid, step in Task.objects.filter(
        **of, kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN, touch__status=TouchStatus.FAILED
    ).values_list("customer_id", "touch__step__name"):
        found.setdefault(cid, f"the {step or 'message'} could not be sent: a collector decides")
    return found


def _checked(of: dict, touches) -> frozenset[int]:
    """Invoices a satisfaction check has asked about (a check touch names them, whatever
    became of it) or that the customer answered: none is asked twice."""
    ids = set(SatisfactionAnswer.objects.filter(**of).values_list("invoice_id", flat=True))
    # A cancelled check (paused, paid, disputed before it went) frees its key and its
    # invoices, as a cancelled reminder does (dunning.outbox._cancel).
    asking = touches.filter(step__kind=StepKind.CHECK).exclude(status=TouchStatus.CANCELLED)
    for listed in asking.values_list("invoices", flat=True):
        # A sent touch keeps its lines as text (dunning.outbox._record_sent).
        ids.update(int(line["id"]) for line in listed)
    return frozenset(ids)


def _with_checks(
    invoices: tuple[InvoiceFact, ...], checked: frozenset[int], version_id, steps: Steps
) -> tuple[InvoiceFact, ...]:
    if not checked or version_id not in steps.checking:
        return invoices
    return tuple(inv._replace(check_done=True) if inv.id in checked else inv for inv in invoices)


def _with_dates(
    invoices: list[InvoiceFact], promised: dict[int, dt.date], barred: dict[int, dt.date]
):
    if not promised and not barred:
        return tuple(invoices)
    return tuple(
        inv._replace(promised_until=promised.get(inv.id), barred_on=barred.get(inv.id))
        if inv.id in promised or inv.id in barred
        else inv
        for inv in invoices
    )


def touches_due(
    *, as_of: dt.datetime, customer_ids: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    """Pending messages whose time has come, oldest first: (id, claims so far)."""
    qs = Touch.objects.filter(
        status=TouchStatus.PENDING, channel__in=MESSAGE_CHANNELS, scheduled_for__lte=as_of
    )
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    return list(qs.order_by("scheduled_for", "id").values_list("id", "claims"))


def promise_paid(
    *, customer_id: int, invoice_ids: Sequence[int], start: dt.date, end: dt.date
) -> Decimal:
    """Payments applied between two dates to these invoices (or any, for the whole account)."""
    qs = Allocation.objects.filter(
        payment__isnull=False,
        invoice__customer_id=customer_id,
        applied_on__gte=start,
        applied_on__lte=end,
    )
    if invoice_ids:
        qs = qs.filter(invoice_id__in=invoice_ids)
    return qs.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def plan_paid(*, customer_id: int, since: dt.date, until: dt.date) -> Decimal:
    """Money received from the customer since a plan was agreed."""
    qs = Payment.objects.filter(
        customer_id=customer_id,
        received_on__gte=since,
        received_on__lte=until,
        reversed_on__isnull=True,
    )
    return qs.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def template_uses_answer(sender, **kwargs) -> list[StepUse]:
    """letters.signals.template_uses: the steps of each policy's current version, so the
    template screens can say which steps use a template (letters never reads policies). A
    step's Letter of Claim counts as a use of its own, right after the step's template."""
    current = (
        PolicyVersion.objects.filter(policy=OuterRef("version__policy"))
        .order_by("-number")
        .values("pk")[:1]
    )
    rows = PolicyStep.objects.filter(version=Subquery(current)).values_list(
        "template",
        "pre_action_template",
        "version__policy__name",
        "version__policy__is_default",
        "position",
        "name",
        "offset_days",
        "channel",
        "kind",
    )
    uses = []
    for template, pre_action, policy, default, position, step, offset, channel, kind in rows:
        named = [(template, step)]
        if pre_action:
            named.append((pre_action, f"{step}, for individuals in England and Wales"))
        uses += [
            StepUse(
                template=key,
                policy=policy,
                default_policy=default,
                position=position,
                step=label,
                offset_days=offset,
                sends_message=channel in (Channel.EMAIL, Channel.LETTER),
                after_issue=kind == StepKind.CHECK,
            )
            for key, label in named
        ]
    return uses
