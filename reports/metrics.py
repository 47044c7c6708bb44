"""Collection metrics computed from the ledger: monthly DSO, countback DSO, best possible
DSO, ADD and CEI per currency, and the activity figures of a period (promises, disputes,
ladder steps, collectors). Reads only.

Definitions (PRODUCT.md, "Numbers the app reports"):

- AR on a day D (end of day): for every invoice issued on or before D, its amount less the
  payments and credits applied on or before D. An allocation dated before its invoice's
  issue date counts from the issue date.
- Current AR on D: the part of AR on invoices not yet past due on D (due_date >= D).
- Credit sales in a period: the amounts of the invoices issued in it.
- A month is a calendar month; the month of `as_of` runs from its first day to `as_of`
  (month to date), and its "days in the period" are `as_of.day`.

Money is never added across currencies: monthly figures are for one currency, and every
amount in the period figures is a {currency: Decimal} dict. A figure whose denominator is
zero is None (shown as "–"), never 0. Day and percentage figures are rounded half up to
one decimal place.

Attribution: a customer belongs to their collector as assigned now (Customer.collector),
so a reassigned customer's history moves with them."""

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from dunning.models import (
    CheckAnswer,
    HoldStatus,
    PromiseToPay,
    SatisfactionAnswer,
    StepKind,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from dunning.models import Task as DunningTask
from invoices.models import Allocation, Customer, Dispute, DisputeReason, Invoice, InvoiceStatus
from invoices.money import ZERO

from . import history, rollup
from .aging import collector_scope

ONE_PLACE = Decimal("0.1")
HUNDRED = Decimal(100)

# Touches that were carried out: messages handed to the backend (whatever the ESP said
# afterwards) and phone, letter-task and referral steps whose tasks were created.
CARRIED_OUT = (
    TouchStatus.SENT,
    TouchStatus.DELIVERED,
    TouchStatus.BOUNCED,
    TouchStatus.COMPLAINED,
    TouchStatus.DONE,
)


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def _ratio(numerator: Decimal, denominator: Decimal, scale) -> Decimal | None:
    """numerator / denominator × scale, or None when the denominator is zero."""
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator) * scale


def _percent(part: int, whole: int) -> Decimal | None:
    return _round(_ratio(Decimal(part), Decimal(whole), HUNDRED))


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole as a percentage, one decimal; None when whole is zero."""
    return _round(_ratio(part, whole, HUNDRED))


# --- monthly figures --------------------------------------------------------------------


@dataclass
class MonthFigures:
    month_end: dt.date  # the month's last day, or as_of for the month to date
    currency: str
    credit_sales: Decimal  # invoices issued in the month
    ar_open: Decimal  # AR at the end of the previous month
    ar_close: Decimal  # AR at month_end
    ar_current: Decimal  # the part of ar_close not yet past due
    dso: Decimal | None
    countback_dso: Decimal | None
    best_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None

    @property
    def days(self) -> int:
        """Days in the period: the whole month, or the days so far in the month to date."""
        return self.month_end.day

    @property
    def partial(self) -> bool:
        """Whether this is a month to date, shorter than its calendar month: its CEI and DSO
        measure a few days against a whole month's balance and are not comparable with
        those of whole months."""
        return self.month_end.day < _month_length(self.month_end)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def previous_month_end(day: dt.date) -> dt.date:
    return month_start(day) - dt.timedelta(days=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=_month_length(day))


def _month_length(month_start: dt.date) -> int:
    return calendar.monthrange(month_start.year, month_start.month)[1]


def month_ends(as_of: dt.date, months: int = 12) -> list[dt.date]:
    """The last `months` month ends up to as_of, oldest first; as_of's own month ends at
    as_of (month to date)."""
    ends = [as_of]
    while len(ends) < months:
        ends.append(previous_month_end(ends[-1]))
    return ends[::-1]


def countback_dso(
    ar: Decimal, sales_by_month: dict[dt.date, Decimal], month_end: dt.date
) -> Decimal | None:
    """Countback DSO: how many days of the most recent sales the AR amounts to.

    Starting from AR at month_end, take away each month's credit sales going back month by
    month (this month first, then the one before, ...). A month whose sales the remaining
    AR covers (or a month with no sales) adds all its days; the month that absorbs the rest
    adds rest / its sales × its days, and the count stops. The month of month_end counts
    month_end.day days (month to date); older months count their calendar days.

    E.g. AR 250 with sales of 100 this month (31 days), 100 the month before (28 days) and
    200 the one before that (31 days): 31 + 28 + 50/200 × 31 = 66.75 days.

    Unrounded. None when there is no AR and no sales in the month (nothing to measure), or
    when the AR is more than every earlier month's sales (it cannot be, in a consistent
    ledger)."""
    month = month_start(month_end)
    if not ar:
        # No AR is no days of sales, provided there were sales to measure against.
        return Decimal(0) if sales_by_month.get(month) else None
    remaining = ar
    days = Decimal(0)
    month_days = month_end.day
    earliest = min(sales_by_month, default=month)
    while remaining > 0:
        if month < earliest:
            return None
        sales = sales_by_month.get(month, ZERO)
        if remaining > sales:
            days += month_days
            remaining -= sales
        else:
            days += remaining / sales * month_days
            remaining = ZERO
        month = month_start(month - dt.timedelta(days=1))
        month_days = _month_length(month)
    return days


def ledger_scope(
    currency: str, collector_id: int | None = None, unassigned: bool = False, prefix: str = ""
) -> Q:
    """Invoices (or, with prefix "invoice__", allocations) in one currency, optionally of
    one collector's customers or of the customers without one."""
    return Q(**{f"{prefix}currency": currency}) & collector_scope(collector_id, unassigned, prefix)


def monthly_figures(
    *,
    as_of: dt.date,
    currency: str,
    months: int = 12,
    collector_id: int | None = None,
    unassigned: bool = False,
) -> list[MonthFigures]:
    """DSO, countback DSO, best possible DSO, ADD and CEI for the last `months` months up to
    as_of in one currency (optionally one collector's customers, or those without one),
    oldest first.

    Two queries, whatever the number of months:
    1. invoices grouped by month of issue: credit sales; and, for each month end D, the
       amounts of invoices current on D (issued on or before D, due on or after D);
    2. one row over the allocations joined to their invoices: for each month end D, what
       was applied on or before D to invoices issued on or before D, and the part of it
       applied to invoices current on D.
    AR on D is the sales up to D less the first; current AR is the current amounts less
    the second. Invoices settled on or before the day the first month opens count nowhere
    in AR from then on, so both sides leave them out: an old ledger costs little more
    than a young one.

    ADD is the rounded DSO less the rounded best possible DSO, so the three shown figures
    always add up."""
    ends = month_ends(as_of, months)
    opening = previous_month_end(ends[0])
    if collector_id is None and not unassigned and history.available():
        return _monthly_from_history(as_of=as_of, currency=currency, ends=ends)
    days = [opening, *ends]  # AR is needed on each of these; current AR on the ends
    alive = Q(closed_on__isnull=True) | Q(closed_on__gt=opening) | Q(issue_date__gt=opening)

    invoice_rows = (
        Invoice.objects.filter(
            ledger_scope(currency, collector_id, unassigned), issue_date__lte=as_of
        )
        .annotate(month=TruncMonth("issue_date"))
        .order_by()
        .values("month")
        .annotate(
            sales=Sum("amount"),
            alive=Sum("amount", filter=alive),
            **{
                f"current_{i}": Sum("amount", filter=Q(issue_date__lte=d, due_date__gte=d))
                for i, d in enumerate(ends)
            },
        )
    )
    sales, alive_sales = {}, {}
    invoiced_current = [ZERO] * len(ends)
    for row in invoice_rows:
        month = row["month"]
        sales[month] = row["sales"]
        alive_sales[month] = row["alive"] or ZERO
        for i in range(len(ends)):
            invoiced_current[i] += row[f"current_{i}"] or ZERO

    applied = Allocation.objects.filter(
        ledger_scope(currency, collector_id, unassigned, prefix="invoice__"),
        Q(invoice__closed_on__isnull=True)
        | Q(invoice__closed_on__gt=opening)
        | Q(invoice__issue_date__gt=opening),
        invoice__issue_date__lte=as_of,
        applied_on__lte=as_of,
    ).aggregate(
        **{
            f"by_{i}": Sum("amount", filter=Q(applied_on__lte=d, invoice__issue_date__lte=d))
            for i, d in enumerate(days)
        },
        **{
            f"current_{i}": Sum(
                "amount",
                filter=Q(applied_on__lte=d, invoice__issue_date__lte=d, invoice__due_date__gte=d),
            )
            for i, d in enumerate(ends)
        },
    )

    def ar_on(i: int) -> Decimal:
        month = month_start(days[i])
        issued = sum((v for m, v in alive_sales.items() if m <= month), ZERO)
        return issued - (applied[f"by_{i}"] or ZERO)

    closes = [
        (
            end,
            sales.get(month_start(end), ZERO),
            ar_on(i + 1),
            invoiced_current[i] - (applied[f"current_{i}"] or ZERO),
        )
        for i, end in enumerate(ends)
    ]
    return figures_from(closes, currency=currency, ar_open=ar_on(0), sales_by_month=sales)


def _monthly_from_history(
    *, as_of: dt.date, currency: str, ends: list[dt.date]
) -> list[MonthFigures]:
    """monthly_figures of a whole currency from the kept days (reports.history): the
    months' sales and AR changes in one query, the current AR on the month ends in
    another, over rows of days rather than invoices."""
    sales, change = {}, {}
    for month, issued, moved in history.by_month(as_of, currency):
        sales[month] = issued or ZERO
        change[month] = moved or ZERO
    opening = month_start(ends[0])
    ar_open = sum((value for month, value in change.items() if month < opening), ZERO)
    current = history.current_on(ends, currency)
    closes, ar = [], ar_open
    for end, current_ar in zip(ends, current, strict=True):
        ar += change.get(month_start(end), ZERO)
        closes.append((end, sales.get(month_start(end), ZERO), ar, current_ar or ZERO))
    sold = {month: value for month, value in sales.items() if value}
    return figures_from(closes, currency=currency, ar_open=ar_open, sales_by_month=sold)


def figures_from(
    closes: list[tuple[dt.date, Decimal, Decimal, Decimal]],
    *,
    currency: str,
    ar_open: Decimal,
    sales_by_month: dict[dt.date, Decimal],
) -> list[MonthFigures]:
    """The figures of consecutive months from what each ends with: (month end, credit
    sales, AR, current AR), oldest first; ar_open is the AR the first month opens with and
    sales_by_month every month's sales so far (for the countback)."""
    figures = []
    for end, month_sales, ar_close, ar_current in closes:
        dso = _round(_ratio(ar_close, month_sales, end.day))
        best = _round(_ratio(ar_current, month_sales, end.day))
        collectible = ar_open + month_sales
        figures.append(
            MonthFigures(
                month_end=end,
                currency=currency,
                credit_sales=month_sales,
                ar_open=ar_open,
                ar_close=ar_close,
                ar_current=ar_current,
                dso=dso,
                countback_dso=_round(countback_dso(ar_close, sales_by_month, end)),
                best_dso=best,
                add=None if dso is None or best is None else dso - best,
                cei=_round(_ratio(collectible - ar_close, collectible - ar_current, HUNDRED)),
            )
        )
        ar_open = ar_close
    return figures


def currencies_in_use() -> list[str]:
    """Currencies that invoices are in, sorted.

    An invoice takes its customer's currency, so the candidates are the customers'
    currencies, read from the customer_currency index by a skip scan (a few index probes,
    not a pass over 100k customers); a candidate counts if some customer in it has an
    invoice in it. Limitation: a currency left only on the old invoices of customers who
    have since moved to another currency is not listed (monthly_figures still answers
    for it when asked)."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE c(currency) AS (
                SELECT MIN(currency) FROM {table}
                UNION ALL
                SELECT (SELECT MIN(currency) FROM {table} WHERE currency > c.currency)
                FROM c WHERE c.currency IS NOT NULL
            )
            SELECT currency FROM c WHERE currency IS NOT NULL
            """
        )
        candidates = [row[0] for row in cursor.fetchall()]
    return [
        code
        for code in candidates
        if Invoice.objects.filter(customer__currency=code, currency=code).exists()
    ]


# --- period figures ---------------------------------------------------------------------


def _money(rows, key: str, value: str = "total") -> dict:
    """{row[key]: {currency: amount}} from rows that carry a currency and an amount."""
    out = defaultdict(dict)
    for row in rows:
        if row[value]:
            out[row[key]][row["currency"]] = row[value]
    return {k: dict(sorted(v.items())) for k, v in out.items()}


def promise_kept_rate(*, start: dt.date, end: dt.date, collector_id: int | None = None) -> dict:
    """Promises to pay falling due (promised_for) in [start, end]: how many were kept, broken,
    are still open or were cancelled, and the kept rate = kept / (kept + broken) × 100
    (None when none was settled)."""
    promises = PromiseToPay.objects.filter(promised_for__gte=start, promised_for__lte=end)
    if collector_id is not None:
        promises = promises.filter(customer__collector_id=collector_id)
    counts = promises.aggregate(
        kept=Count("pk", filter=Q(status=HoldStatus.KEPT)),
        broken=Count("pk", filter=Q(status=HoldStatus.BROKEN)),
        open=Count("pk", filter=Q(status=HoldStatus.OPEN)),
        cancelled=Count("pk", filter=Q(status=HoldStatus.CANCELLED)),
    )
    counts["rate"] = _percent(counts["kept"], counts["kept"] + counts["broken"])
    return counts


def disputes_by_reason(*, start: dt.date, end: dt.date) -> list[dict]:
    """Per dispute reason, in the reasons' order, those with any dispute in play:

    opened               disputes opened in [start, end]
    resolved             disputes resolved in [start, end]
    open_now             disputes open at the end of `end` (open now when end is today)
    amount               {currency: amount in dispute} of the disputes opened in the period
    avg_days_to_resolve  mean days from opening to resolution of those resolved in the
                         period, one decimal; None when none was
    """
    in_play = Q(opened_on__gte=start, opened_on__lte=end) | Q(
        resolved_on__gte=start, resolved_on__lte=end
    )
    open_at_end = Q(opened_on__lte=end) & (Q(resolved_on__isnull=True) | Q(resolved_on__gt=end))
    opened = Q(opened_on__gte=start, opened_on__lte=end)
    resolved = Q(resolved_on__gte=start, resolved_on__lte=end)
    counts = {
        row["reason"]: row
        for row in Dispute.objects.filter(in_play | open_at_end)
        .order_by()
        .values("reason")
        .annotate(
            opened=Count("pk", filter=opened),
            resolved=Count("pk", filter=resolved),
            open_now=Count("pk", filter=open_at_end),
        )
    }
    amounts = _money(
        Dispute.objects.filter(opened)
        .order_by()
        .values("reason", currency=F("invoice__currency"))
        .annotate(total=Sum("amount")),
        "reason",
    )
    # Date differences are not portable SQL; resolved disputes in a period are few.
    days = defaultdict(list)
    for reason, opened_on, resolved_on in Dispute.objects.filter(resolved).values_list(
        "reason", "opened_on", "resolved_on"
    ):
        days[reason].append((resolved_on - opened_on).days)
    rows = []
    for reason, label in DisputeReason.choices:
        if reason not in counts:
            continue
        row = counts[reason]
        spans = days.get(reason, [])
        rows.append(
            {
                "reason": reason,
                "label": label,
                "opened": row["opened"],
                "resolved": row["resolved"],
                "open_now": row["open_now"],
                "amount": amounts.get(reason, {}),
                "avg_days_to_resolve": _round(_ratio(Decimal(sum(spans)), len(spans), 1)),
            }
        )
    return rows


def satisfaction_checks(*, start: dt.date, end: dt.date) -> dict:
    """The satisfaction check in [start, end]:

    sent                 check messages sent (by the day they went)
    in_order, problems   answers given, by the day they were answered
    found_early          answers "a problem" given before the invoice was due
    found_early_amount   {currency: amount put in dispute} by those answers
    Three queries."""
    sent = Touch.objects.filter(
        step__kind=StepKind.CHECK, sent_at__date__gte=start, sent_at__date__lte=end
    ).count()
    answers = SatisfactionAnswer.objects.filter(
        answered_at__date__gte=start, answered_at__date__lte=end
    )
    problem = Q(answer=CheckAnswer.PROBLEM)
    counts = answers.aggregate(
        in_order=Count("pk", filter=Q(answer=CheckAnswer.ALL_IN_ORDER)),
        problems=Count("pk", filter=problem),
        found_early=Count("pk", filter=problem & Q(before_due=True)),
    )
    early = (
        answers.filter(problem, before_due=True, dispute__isnull=False)
        .order_by("invoice__currency")
        .values("invoice__currency")
        .annotate(total=Sum("dispute__amount"))
        .values_list("invoice__currency", "total")
    )
    return {"sent": sent, **counts, "found_early_amount": dict(early)}


def _touch_day():
    # Phone and referral touches are "done" when planned and carry no sent_at.
    return TruncDate(Coalesce("sent_at", "scheduled_for"))


def step_effectiveness(*, start: dt.date, end: dt.date, within_days: int = 14) -> list[dict]:
    """Per ladder step (by position and name, across policies and their versions), for the
    touches carried out on a day in [start, end]:

    touches      how many
    customers    how many customers they went to
    collected    {currency: amount} of payments (not credits) applied to those customers'
                 invoices on the days after each touch, up to within_days days after it
                 (a payment on the day of the touch may have crossed it, and does not count)
    paid         how many touches were followed by any such payment
    paid_share   paid / touches × 100, one decimal

    A payment that follows two touches (a reminder, then a phone call a week later) counts
    for both steps: this is what followed each step, not what each step caused. Touches
    without a step (ad-hoc) are left out."""
    window = dt.timedelta(days=within_days)
    touches = (
        Touch.objects.filter(step__isnull=False, status__in=CARRIED_OUT)
        .annotate(day=_touch_day())
        .filter(day__gte=start, day__lte=end)
    )
    followed = Allocation.objects.filter(
        payment__isnull=False,
        invoice__customer_id=OuterRef("customer_id"),
        applied_on__gt=OuterRef("day"),
        applied_on__lte=OuterRef("day") + window,
    )
    counts = (
        touches.annotate(paid=Exists(followed))
        .order_by()
        .values("step__position", "step__name")
        .annotate(
            touches=Count("pk"),
            customers=Count("customer_id", distinct=True),
            paid_touches=Count("pk", filter=Q(paid=True)),
        )
    )
    # One filter() call: the conditions bind the same allocation rows (documented join
    # reuse for multi-valued relations), so each allocation counts once per touch.
    collected = (
        touches.filter(
            customer__invoices__allocations__payment__isnull=False,
            customer__invoices__allocations__applied_on__gt=F("day"),
            customer__invoices__allocations__applied_on__lte=F("day") + window,
        )
        .order_by()
        .values("step__position", "step__name", invoice_currency=F("customer__invoices__currency"))
        .annotate(total=Sum("customer__invoices__allocations__amount"))
    )
    money = defaultdict(dict)
    for row in collected:
        money[(row["step__position"], row["step__name"])][row["invoice_currency"]] = row["total"]
    rows = []
    for row in sorted(counts, key=lambda r: (r["step__position"], r["step__name"])):
        key = (row["step__position"], row["step__name"])
        rows.append(
            {
                "position": key[0],
                "step": key[1],
                "touches": row["touches"],
                "customers": row["customers"],
                "collected": dict(sorted(money.get(key, {}).items())),
                "paid": row["paid_touches"],
                "paid_share": _percent(row["paid_touches"], row["touches"]),
            }
        )
    return rows


def collected_by_collector(*, start: dt.date, end: dt.date) -> dict[int | None, dict]:
    """{collector id (None: unassigned): {currency: payments applied in [start, end]}} for
    the customers assigned to each now. Payments only: a credit note or a write-off lowers
    the balance but collects nothing."""
    return collected_in(collected_by_day(start=start, end=end), start=start, end=end)


def collected_by_day(*, start: dt.date, end: dt.date) -> list[dict]:
    """{day, currency, collector, total} of the payments applied each day in [start, end],
    by the customers' collector now: one reading of a period's allocations (joined to their
    invoices, the costly part) from which every shorter period within it is summed."""
    return list(
        Allocation.objects.filter(payment__isnull=False, applied_on__gte=start, applied_on__lte=end)
        .order_by()
        .values(
            "applied_on",
            currency=F("invoice__currency"),
            collector=F("invoice__customer__collector_id"),
        )
        .annotate(total=Sum("amount"))
    )


def collected_in(by_day: list[dict], *, start: dt.date, end: dt.date) -> dict[int | None, dict]:
    """collected_by_collector for [start, end] from collected_by_day rows covering it."""
    totals: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for row in by_day:
        if start <= row["applied_on"] <= end:
            totals[row["collector"], row["currency"]] += row["total"]
    rows = [
        {"collector": collector, "currency": currency, "total": total}
        for (collector, currency), total in totals.items()
    ]
    return _money(rows, "collector")


def _overdue_now(end: dt.date, key: str) -> list[dict]:
    """{currency, collector, total} of the outstanding invoices due before end, by the
    customers' collector now: from today's kept aging (reports.rollup) where the database
    keeps it, not from the invoices. (An invoice due before end was issued before it.)"""
    if rollup.available():
        return [
            {"currency": currency, "collector": collector, "total": amount}
            for currency, collector, due, _count, amount in rollup.open_by_due()
            if due < end
        ]
    past_due = Invoice.objects.filter(issue_date__lte=end, due_date__lt=end)
    return list(
        past_due.filter(status__in=[InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE])
        .order_by()
        .values("currency", collector=F(key))
        .annotate(total=Sum("open_balance"))
    )


def collector_results(
    *, start: dt.date, end: dt.date, collected: dict[int | None, dict] | None = None
) -> list[dict]:
    """Per collector, by name, then "Unassigned" (collector_id None), for the customers
    assigned to each now:

    customers        customers assigned
    overdue          {currency: balance past due at the end of `end`}
    collected        {currency: payments (not credits) applied in [start, end]}
    calls            phone calls logged in [start, end] with these customers (by anyone)
    promises_made    promises made in [start, end]
    promises_kept    promises falling due in [start, end] and kept
    promises_broken  promises falling due in [start, end] and broken

    Collectors with no customers and no activity in the period are left out."""
    key = "customer__collector_id"
    customers = dict(
        Customer.objects.order_by()
        .values_list("collector_id")
        .annotate(n=Count("pk"))
        .values_list("collector_id", "n")
    )
    # Past due on `end`: open now, or closed after `end`; the part applied after `end` was
    # still owed then.
    overdue_rows = _overdue_now(end, key)
    overdue_rows += list(
        Allocation.objects.filter(
            invoice__issue_date__lte=end, invoice__due_date__lt=end, applied_on__gt=end
        )
        .order_by()
        .values(currency=F("invoice__currency"), collector=F(f"invoice__{key}"))
        .annotate(total=Sum("amount"))
    )
    overdue = defaultdict(dict)
    for row in overdue_rows:
        if row["total"]:
            bucket = overdue[row["collector"]]
            bucket[row["currency"]] = bucket.get(row["currency"], ZERO) + row["total"]
    if collected is None:
        collected = collected_by_collector(start=start, end=end)
    calls = dict(
        DunningTask.objects.filter(kind=TaskKind.CALL, status=TaskStatus.DONE)
        .annotate(day=TruncDate("completed_at"))
        .filter(day__gte=start, day__lte=end)
        .order_by()
        .values_list(key)
        .annotate(n=Count("pk"))
        .values_list(key, "n")
    )
    falling_due = Q(promised_for__gte=start, promised_for__lte=end)
    promises = {
        row[key]: row
        for row in PromiseToPay.objects.filter(
            Q(made_on__gte=start, made_on__lte=end) | falling_due
        )
        .order_by()
        .values(key)
        .annotate(
            made=Count("pk", filter=Q(made_on__gte=start, made_on__lte=end)),
            kept=Count("pk", filter=falling_due & Q(status=HoldStatus.KEPT)),
            broken=Count("pk", filter=falling_due & Q(status=HoldStatus.BROKEN)),
        )
    }
    ids = set(customers) | set(overdue) | set(collected) | set(calls) | set(promises)
    users = get_user_model().objects.in_bulk([i for i in ids if i is not None])
    rows = []
    for collector_id in ids:
        user = users.get(collector_id)
        promise = promises.get(collector_id, {})
        rows.append(
            {
                "collector_id": collector_id,
                "name": (user.get_full_name() or user.get_username()) if user else "Unassigned",
                "customers": customers.get(collector_id, 0),
                "overdue": dict(sorted(overdue.get(collector_id, {}).items())),
                "collected": collected.get(collector_id, {}),
                "calls": calls.get(collector_id, 0),
                "promises_made": promise.get("made", 0),
                "promises_kept": promise.get("kept", 0),
                "promises_broken": promise.get("broken", 0),
            }
        )
    rows.sort(key=lambda r: (r["collector_id"] is None, r["name"].lower(), r["collector_id"] or 0))
    return rows
