"""The credit-hold rule (DunningSettings.credit_hold_overdue_days, credit_hold_over_limit).

An account is out of terms when an open, undisputed invoice is more than N days overdue, or
when it owes more than its credit limit. The rule puts such accounts on credit hold (no new
sales on credit) and lifts the holds it set once no condition holds any more. It never
lifts a hold a person set (credit_hold_by_rule is False): that stays until a person lifts
it. A person who lifts a rule's hold while the account is still out of terms sees the next
run set it again.

Set-based, so its cost does not grow in queries with the number of customers: one read of
the accounts to hold, one of the rule's holds, an UPDATE per batch of changes, one audit
append and one UPDATE of the queue rows."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    DateField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Now
from django_q.tasks import async_task

from audit.services import Event, audit_record_many
from invoices.models import MONEY, Customer, Invoice, InvoiceStatus
from invoices.money import ZERO, format_money
from invoices.signals import ledger_changed

from .models import DunningSettings, QueueEntry
from .schedule import CREDIT_HOLDS, CREDIT_HOLDS_FUNC
from .selectors import OPEN_STATUSES, chunks, settings_load

SET = "customer.credit_hold.set"
RELEASED = "customer.credit_hold.released"
# Changes per UPDATE statement: three parameters each (a CASE branch for its reason and
# the id), kept under SQLite's historical 999.
BATCH = 300
REASON_MAX = Customer._meta.get_field("credit_hold_reason").max_length
MONEY_FIELD = DecimalField(**MONEY)


@dataclass(frozen=True)
class Rule:
    overdue_days: int | None = None  # None: the overdue part is off
    over_limit: bool = False

    @classmethod
    def of(cls, settings: DunningSettings) -> "Rule":
        return cls(settings.credit_hold_overdue_days, bool(settings.credit_hold_over_limit))

    @property
    def on(self) -> bool:
        return self.overdue_days is not None or self.over_limit


@dataclass(frozen=True)
class CreditHoldResult:
    held: list[int]  # customer ids put on hold by this run
    released: list[int]  # customer ids whose rule hold this run lifted


def owed_total() -> Coalesce:
    """What a customer owes on its open invoices (disputed ones too) in its own currency:
    the figure compared with its credit limit."""
    total = (
        Invoice.objects.filter(
            customer=OuterRef("pk"), currency=OuterRef("currency"), status__in=OPEN_STATUSES
        )
        .order_by()
        .values("customer")
        .annotate(total=Sum("open_balance"))
        .values("total")
    )
    return Coalesce(
        Subquery(total, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD
    )


def _late_invoices(rule: Rule, as_of_date: dt.date) -> QuerySet[Invoice]:
    """The customer's open, undisputed invoices more than the rule's days overdue, oldest
    first (an open dispute takes an invoice out of the rule, as out of dunning)."""
    cutoff = as_of_date - dt.timedelta(days=rule.overdue_days or 0)
    return Invoice.objects.filter(
        customer=OuterRef("pk"),
        status=InvoiceStatus.OPEN,
        open_balance__gt=0,
        due_date__lt=cutoff,
    ).order_by("due_date", "number")


def _judged(customers: QuerySet[Customer], rule: Rule, as_of_date: dt.date) -> QuerySet:
    """customers with what the rule needs: late (a late invoice exists), its number and due
    date, and what they owe."""
    if rule.overdue_days is not None:
        late = _late_invoices(rule, as_of_date)
        customers = customers.annotate(
            late=Exists(late),
            late_number=Subquery(late.values("number")[:1]),
            late_due=Subquery(late.values("due_date")[:1]),
        )
    else:
        customers = customers.annotate(
            late=Value(False),
            late_number=Value(""),
            late_due=Value(None, output_field=DateField()),
        )
    return customers.annotate(owed=owed_total() if rule.over_limit else Value(ZERO))


def _out_of_terms(rule: Rule) -> Q:
    condition = Q(pk__in=[])
    if rule.overdue_days is not None:
        condition |= Q(late=True)
    if rule.over_limit:
        condition |= Q(credit_limit__isnull=False, credit_limit__lt=F("owed"))
    return condition


def reason_for(
    rule: Rule,
    *,
    as_of_date: dt.date,
    currency: str,
    credit_limit,
    owed,
    late_number: str,
    late_due: dt.date | None,
) -> str:
    """Why the account is out of terms, in words; "" when it is not."""
    parts = []
    if rule.overdue_days is not None and late_due is not None:
        days = (as_of_date - late_due).days
        rule_days = f"{rule.overdue_days} day{'' if rule.overdue_days == 1 else 's'}"
        parts.append(
            f"{late_number} is {days} day{'' if days == 1 else 's'} overdue (rule: {rule_days})"
        )
    if rule.over_limit and credit_limit is not None and owed > credit_limit:
        parts.append(
            f"owes {format_money(owed, currency)}, "
            f"over the {format_money(credit_limit, currency)} limit"
        )
    return "; ".join(parts)[:REASON_MAX]


def _to_hold(rule: Rule, as_of_date: dt.date) -> list[tuple[int, str, dict]]:
    """(customer id, reason, audit data) of the accounts out of terms not on credit hold.
    Locked: a person's edit of the same customer waits for this run, or this run for it."""
    if not rule.on:
        return []
    rows = (
        _judged(Customer.objects.filter(credit_hold=False), rule, as_of_date)
        .filter(_out_of_terms(rule))
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "currency", "credit_limit", "owed", "late_number", "late_due")
    )
    found = []
    for pk, currency, limit, owed, number, due in rows:
        reason = reason_for(
            rule,
            as_of_date=as_of_date,
            currency=currency,
            credit_limit=limit,
            owed=owed,
            late_number=number or "",
            late_due=due,
        )
        data = {"reason": reason, "since": as_of_date.isoformat(), "by": "rule"}
        if rule.over_limit and limit is not None:
            data |= {"owed": str(owed), "credit_limit": str(limit), "currency": currency}
        found.append((pk, reason, data))
    return found


def _to_release(rule: Rule, as_of_date: dt.date) -> list[tuple[int, str, dict]]:
    """(customer id, why, audit data) of the rule's holds whose account is back in terms."""
    held = (
        _judged(
            Customer.objects.filter(credit_hold=True, credit_hold_by_rule=True), rule, as_of_date
        )
        .annotate(out=Case(When(_out_of_terms(rule), then=Value(True)), default=Value(False)))
        .filter(out=False)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "credit_hold_reason", "credit_hold_since")
    )
    why = "back in terms" if rule.on else "the credit-hold rule is turned off"
    found = []
    for pk, was, since in held:
        data = {
            "reason": f"{why} (was: {was})" if was else why,
            "was": was,
            "since": since.isoformat() if since else None,
            "by": "rule",
        }
        found.append((pk, why, data))
    return found


def _hold(rows: Sequence[tuple[int, str, dict]], as_of_date: dt.date) -> None:
    for batch in chunks(rows, BATCH):
        reasons = Case(
            *(When(pk=pk, then=Value(reason)) for pk, reason, _ in batch),
            output_field=CharField(),
        )
        Customer.objects.filter(pk__in=[pk for pk, _, _ in batch], credit_hold=False).update(
            credit_hold=True,
            credit_hold_by_rule=True,
            credit_hold_since=as_of_date,
            credit_hold_reason=reasons,
            updated_at=Now(),
        )


def _queue_mark(ids: Sequence[int], *, held: bool) -> None:
    """The queue rows of these customers say the hold changed. Only that column: a credit
    hold pauses no chasing, so the plan the row carries is still right, and re-planning
    tens of thousands of customers the day the rule is turned on would take minutes.
    Customers without a row get theirs, hold included, at the next run (dunning.queue)."""
    for batch in chunks(ids):
        QueueEntry.objects.filter(customer_id__in=batch).update(credit_hold=held)


def _release(ids: Sequence[int]) -> None:
    for batch in chunks(ids, BATCH * 10):
        Customer.objects.filter(pk__in=batch, credit_hold_by_rule=True).update(
            credit_hold=False,
            credit_hold_by_rule=False,
            credit_hold_since=None,
            credit_hold_reason="",
            updated_at=Now(),
        )


def _forget_lifted() -> None:
    """A rule's hold a person lifted: its reason and date describe a hold no longer there,
    and the by-rule mark must not make a later hold by hand look like the rule's (one
    UPDATE, usually of nothing)."""
    Customer.objects.filter(credit_hold=False, credit_hold_by_rule=True).update(
        credit_hold_by_rule=False, credit_hold_since=None, credit_hold_reason=""
    )


@transaction.atomic
def credit_holds_apply(*, as_of_date: dt.date, actor=None) -> CreditHoldResult:
    """Apply the credit-hold rule as of a day:

    1. read the accounts out of terms not on credit hold, and the rule's holds now back in
       terms (rows locked until the end of the transaction);
    2. put the first on hold (by rule, since the day, with the reason) and lift the second;
    3. append one audit event per change (actor None: the system);
    4. mark the change on those customers' queue rows.

    Idempotent: a second run on the same day finds nothing to change and writes nothing."""
    rule = Rule.of(settings_load())
    _forget_lifted()
    holding = _to_hold(rule, as_of_date)
    releasing = _to_release(rule, as_of_date)
    if not holding and not releasing:
        return CreditHoldResult(held=[], released=[])
    _hold(holding, as_of_date)
    _release([pk for pk, _, _ in releasing])
    events = [
        Event(
            action=SET,
            summary=f"Put on credit hold by the rule: {reason}",
            customer_id=pk,
            data=data,
        )
        for pk, reason, data in holding
    ] + [
        Event(
            action=RELEASED,
            summary=f"Credit hold released by the rule: {why}",
            customer_id=pk,
            data=data,
        )
        for pk, why, data in releasing
    ]
    audit_record_many(events=events, actor=actor)
    _queue_mark([pk for pk, _, _ in holding], held=True)
    _queue_mark([pk for pk, _, _ in releasing], held=False)
    return CreditHoldResult(
        held=[pk for pk, _, _ in holding], released=[pk for pk, _, _ in releasing]
    )


# --- after an import ----------------------------------------------------------------------


def _after_import(sender, **kwargs) -> None:
    # An import of payments or invoices may bring accounts back in terms (or out of them):
    # apply the rule once it commits rather than at the next hourly run. robust: a broker
    # that is down must not fail an import that has committed.
    transaction.on_commit(
        lambda: async_task(CREDIT_HOLDS_FUNC, task_name=CREDIT_HOLDS),
        robust=True,
    )


def connect() -> None:
    ledger_changed.connect(_after_import, dispatch_uid="credit holds after an import")
