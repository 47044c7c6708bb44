"""What needs a manager's attention, for the dashboard. Reads only.

Each selector costs a fixed, small number of queries however large the ledger is, and
returns a short list (at most SHORTLIST rows) with the total count, so the dashboard can
say "12 waiting, the first 10 below":

- referrals_pending()        -> Shortlist of ReferralRow       (2 queries)
- write_offs_pending()       -> Shortlist of WriteOffRow, totals per currency (2 queries)
- broken_promises(as_of)     -> Shortlist of BrokenPromiseRow  (2 queries)
- limitation_ahead(as_of)    -> Shortlist of LimitationRow     (3 queries)
- systemic_alerts(as_of)     -> list of SystemicAlert          (2 queries)
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import holidays
from django.db.models import Case, Count, DateField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Least

from dunning.limitation import WARN_DAYS, limitation_date
from dunning.models import HoldStatus, LimitationPeriod, PromiseToPay, Task, TaskKind, TaskStatus
from invoices.models import Invoice, InvoiceStatus, WriteOffRequest, WriteOffStatus
from invoices.selectors import DaysBetween

SHORTLIST = 10
OUTSTANDING = (InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
BROKEN_WITHIN_DAYS = 30


@dataclass(frozen=True)
class Shortlist:
    """count: how many there are in all; rows: the first SHORTLIST of them; totals: the
    amount of all of them per currency ({"GBP": Decimal(...)}), where a selector sums."""

    count: int
    rows: list
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def more(self) -> int:
        """How many are not in rows."""
        return self.count - len(self.rows)


# --- legal referrals waiting for a decision ---------------------------------------------


@dataclass(frozen=True)
class ReferralRow:
    task_id: int
    customer_id: int
    customer_name: str
    proposed_at: dt.datetime
    amount: Decimal | None  # what the proposing touch listed; None if it listed nothing
    currency: str


def _count(rows: list, queryset) -> int:
    """A shortlist's total: its length, unless it is full and the database must count."""
    return len(rows) if len(rows) < SHORTLIST else queryset.count()


def referrals_pending() -> Shortlist:
    """Open legal-referral tasks (the engine proposed them; a manager decides), oldest first.
    The amount is the total of the touch that proposed the referral."""
    tasks = Task.objects.filter(kind=TaskKind.REFERRAL, status=TaskStatus.OPEN)
    rows = [
        ReferralRow(
            task_id=task.pk,
            customer_id=task.customer_id,
            customer_name=task.customer.name,
            proposed_at=task.due_at,
            amount=task.touch.total if task.touch_id else None,
            currency=task.touch.currency if task.touch_id else task.customer.currency,
        )
        for task in tasks.select_related("customer", "touch").order_by("due_at", "id")[:SHORTLIST]
    ]
    return Shortlist(count=_count(rows, tasks), rows=rows)


# --- write-offs waiting for approval ----------------------------------------------------


@dataclass(frozen=True)
class WriteOffRow:
    request_id: int
    invoice_id: int
    invoice_number: str
    customer_id: int
    customer_name: str
    amount: Decimal  # the open balance when proposed
    currency: str
    reason: str
    proposed_by: str
    proposed_at: dt.datetime


def write_offs_pending() -> Shortlist:
    """Pending write-off requests, oldest first; totals: the proposed amounts per currency."""
    pending = WriteOffRequest.objects.filter(status=WriteOffStatus.PENDING)
    per_currency = pending.order_by().values("currency").annotate(n=Count("id"), s=Sum("amount"))
    totals = {row["currency"]: row["s"] for row in per_currency}
    count = sum(row["n"] for row in per_currency)
    rows = [
        WriteOffRow(
            request_id=w.pk,
            invoice_id=w.invoice_id,
            invoice_number=w.invoice.number,
            customer_id=w.invoice.customer_id,
            customer_name=w.invoice.customer.name,
            amount=w.amount,
            currency=w.currency,
            reason=w.reason,
            proposed_by=w.proposed_by.get_username() if w.proposed_by else "system",
            proposed_at=w.proposed_at,
        )
        for w in pending.select_related("invoice__customer", "proposed_by").order_by(
            "proposed_at", "id"
        )[:SHORTLIST]
    ]
    return Shortlist(count=count, rows=rows, totals=dict(sorted(totals.items())))


# --- promises broken lately -------------------------------------------------------------


@dataclass(frozen=True)
class BrokenPromiseRow:
    promise_id: int
    customer_id: int
    customer_name: str
    amount: Decimal
    currency: str
    promised_for: dt.date
    broken_on: dt.date  # the day the promise was found broken


def broken_promises(as_of: dt.date) -> Shortlist:
    """Promises to pay found broken in the BROKEN_WITHIN_DAYS days up to as_of, the most
    recently broken first."""
    broken = PromiseToPay.objects.filter(
        status=HoldStatus.BROKEN,
        resolved_on__gt=as_of - dt.timedelta(days=BROKEN_WITHIN_DAYS),
        resolved_on__lte=as_of,
    )
    rows = [
        BrokenPromiseRow(
            promise_id=p.pk,
            customer_id=p.customer_id,
            customer_name=p.customer.name,
            amount=p.amount,
            currency=p.customer.currency,
            promised_for=p.promised_for,
            broken_on=p.resolved_on,
        )
        for p in broken.select_related("customer").order_by("-resolved_on", "-id")[:SHORTLIST]
    ]
    return Shortlist(count=_count(rows, broken), rows=rows)


# --- limitation dates coming up ---------------------------------------------------------


@dataclass(frozen=True)
class LimitationRow:
    invoice_id: int
    invoice_number: str
    customer_id: int
    customer_name: str
    jurisdiction: str  # "US-NY", "GB"
    years: int
    due_date: dt.date
    limitation: dt.date  # the last day it can be sued for
    days_left: int
    balance: Decimal
    currency: str


@lru_cache(maxsize=64)
def _region_spellings(country: str, code: str) -> tuple[str, ...]:
    """Every way a customer's record may name the region dunning.limitation.region_code
    maps to code: the code itself and the subdivision's names."""
    try:
        aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {}) or {}
    except NotImplementedError:
        aliases = {}
    return (code, *sorted(name for name, alias in aliases.items() if alias == code))


def _region_is(country: str, code: str) -> Q:
    condition = Q()
    for spelling in _region_spellings(country, code.upper()):
        condition |= Q(customer__region__iexact=spelling)
    return condition


def _first_due(target: dt.date, years: int) -> dt.date:
    """The earliest due date whose limitation date is on or after target. limitation_date
    only grows with the due date, so the due dates warned of form one range per period."""
    try:
        due = target.replace(year=target.year - years)
    except ValueError:  # 29 February
        due = target.replace(year=target.year - years, day=28)
    while limitation_date(due - dt.timedelta(days=1), years) >= target:
        due -= dt.timedelta(days=1)
    while limitation_date(due, years) < target:
        due += dt.timedelta(days=1)
    return due


def _jurisdictions(periods) -> list[tuple[str, int, Q]]:
    """(label, years, which customers) for each period. A region's row wins over its
    country's; the country's row covers the country's customers in no listed region."""
    regions: dict[str, list[str]] = {}
    for country, region, _years in periods:
        if region:
            regions.setdefault(country, []).append(region)
    out = []
    for country, region, years in periods:
        who = Q(customer__country=country)
        if region:
            out.append((f"{country}-{region}", years, who & _region_is(country, region)))
        else:
            for other in regions.get(country, []):
                who &= ~_region_is(country, other)
            out.append((country, years, who))
    return out


def limitation_ahead(as_of: dt.date) -> Shortlist:
    """Open invoices whose limitation date (dunning.limitation: due date plus the period of
    the customer's country or region) falls between as_of and as_of + WARN_DAYS, soonest
    first. Invoices already past it are left out; so are customers of a jurisdiction with
    no period on record.

    Each period turns the window into a due-date range, so the database reads only the
    invoices inside those ranges through the (status, due_date) index."""
    # Invoices are open accounts; the latest period on file per jurisdiction. A restart by a
    # part-payment or an acknowledgement is the clock's (dunning.limitation) to judge: this
    # shortlist is the cautious reading from the due date.
    latest = {}
    rows = LimitationPeriod.objects.filter(kind="open_account", valid_from__lte=as_of)
    for country, region, years in rows.order_by("valid_from").values_list(
        "country", "region", "years"
    ):
        latest[(country, region)] = years
    periods = [(country, region, years) for (country, region), years in latest.items()]
    if not periods:
        return Shortlist(count=0, rows=[])
    end = as_of + dt.timedelta(days=WARN_DAYS)
    ranges = []  # (label, years, condition, days from the due date to about the limitation)
    for label, years, who in _jurisdictions(periods):
        first, after = _first_due(as_of, years), _first_due(end + dt.timedelta(days=1), years)
        ranges.append((label, years, who & Q(due_date__gte=first, due_date__lt=after), first))
    condition = Q(pk__in=[])
    for _label, _years, here, _first in ranges:
        condition |= here
    invoices = Invoice.objects.filter(condition, status__in=OUTSTANDING)
    count = invoices.count()
    # Roughly the limitation date (within a day either way: leap days); sorted exactly below
    # from twice as many candidates.
    approx = Case(
        *[
            When(here, then=F("due_date") + dt.timedelta(days=(as_of - first).days))
            for _label, _years, here, first in ranges
        ],
        output_field=DateField(),
    )
    candidates = (
        invoices.select_related("customer")
        .annotate(approx=approx)
        .order_by("approx", "number")[: SHORTLIST * 2]
    )
    years_of = {label: years for label, years, _here, _first in ranges}
    rows = []
    for inv in candidates:
        label = _label_for(inv.customer, periods)
        years = years_of[label]
        last = limitation_date(inv.due_date, years)
        rows.append(
            LimitationRow(
                invoice_id=inv.pk,
                invoice_number=inv.number,
                customer_id=inv.customer_id,
                customer_name=inv.customer.name,
                jurisdiction=label,
                years=years,
                due_date=inv.due_date,
                limitation=last,
                days_left=(last - as_of).days,
                balance=inv.open_balance,
                currency=inv.currency,
            )
        )
    rows.sort(key=lambda r: (r.limitation, r.invoice_number))
    return Shortlist(count=count, rows=rows[:SHORTLIST])


def _label_for(customer, periods) -> str:
    region = customer.region.strip().lower()
    for country, code, _years in periods:
        if (
            code
            and country == customer.country
            and region in {s.lower() for s in _region_spellings(country, code.upper())}
        ):
            return f"{country}-{code}"
    return customer.country


# --- systemic errors: an issue date that goes overdue all at once ------------------------

RECENT_DAYS = 60
BASELINE_DAYS = 180
MIN_INVOICES = 20  # an issue date with fewer is too small to call unusual
MIN_BASELINE = 100  # a currency with fewer invoices in the baseline has no "usual" yet
TIMES_USUAL = 3
POINTS_ABOVE_USUAL = Decimal("0.30")
_CAP = RECENT_DAYS + 1  # terms and settling times beyond the recent window look alike


@dataclass(frozen=True)
class SystemicAlert:
    issue_date: dt.date
    currency: str
    age_days: int  # as_of minus the issue date
    invoices: int  # issued that day in that currency
    amount: Decimal
    overdue: int  # of them, past due and not settled as of as_of
    overdue_amount: Decimal  # their invoice amounts
    share: Decimal  # overdue / invoices
    amount_share: Decimal  # overdue_amount / amount
    usual_share: Decimal  # the baseline's share by count at the same age
    usual_amount_share: Decimal
    message: str


def systemic_alerts(as_of: dt.date) -> list[SystemicAlert]:
    """Issue dates (PRODUCT.md rule 8) whose invoices went overdue far more than usual, so
    the invoicing should be checked before the customers are chased.

    For each issue date d in the RECENT_DAYS days up to as_of and each currency, with
    age N = as_of - d: share = the part of that day's invoices that are past due at as_of
    and not settled by then (closed_on empty or after as_of), by count and by amount.

    The usual share at age N: the same measure over the invoices (same currency) issued in
    the BASELINE_DAYS days before the recent window, each looked at N days after its own
    issue date: past due by then (due_date < issue_date + N) and not settled by then
    (closed_on empty or after issue_date + N).

    Flagged: at least MIN_INVOICES invoices that day, at least MIN_BASELINE in the baseline,
    and share by count >= max(TIMES_USUAL x usual, usual + 30 percentage points). The
    amount shares are reported beside it but do not decide (one large invoice would).
    A part-payment does not settle an invoice here: only a closed one counts as paid.

    Two aggregate queries: the recent days grouped by (issue date, currency); the baseline
    grouped by (currency, days to due, days to settle), both capped at RECENT_DAYS + 1,
    from which the usual share at every age is summed in Python. Largest share first. Both
    read the invoice_currency_issued index alone (no count of ids: the id is not in it)."""
    recent_start = as_of - dt.timedelta(days=RECENT_DAYS - 1)
    base_start = recent_start - dt.timedelta(days=BASELINE_DAYS)
    unsettled_now = Q(closed_on__isnull=True) | Q(closed_on__gt=as_of)
    overdue_now = Q(due_date__lt=as_of) & unsettled_now
    recent = (
        Invoice.objects.filter(
            issue_date__gte=recent_start,
            issue_date__lte=as_of,
            # Redundant (due >= issue) but lets the database range over the due-date index.
            due_date__gte=recent_start,
        )
        .order_by()
        .values("issue_date", "currency")
        .annotate(
            n=Count("*"),
            total=Sum("amount"),
            late=Count("issue_date", filter=overdue_now),
            late_total=Sum("amount", filter=overdue_now),
        )
        .filter(n__gte=MIN_INVOICES, late__gt=0)
    )
    recent = list(recent)
    if not recent:
        return []
    baseline = (
        Invoice.objects.filter(
            issue_date__gte=base_start,
            issue_date__lt=recent_start,
            due_date__gte=base_start,
            currency__in={row["currency"] for row in recent},
        )
        .annotate(
            term=Least(DaysBetween(F("due_date"), F("issue_date")), Value(_CAP)),
            settled=Least(
                DaysBetween(
                    Coalesce(F("closed_on"), Value(as_of, output_field=DateField())),
                    F("issue_date"),
                ),
                Value(_CAP),
            ),
        )
        .order_by()
        .values("currency", "term", "settled")
        .annotate(n=Count("*"), total=Sum("amount"))
    )
    cells: dict[str, list] = {}
    for row in baseline:
        # Open now: unsettled at every age the recent window has.
        settled = _CAP if row["settled"] is None else row["settled"]
        cells.setdefault(row["currency"], []).append((row["term"], settled, row["n"], row["total"]))
    alerts = []
    for row in recent:
        currency_cells = cells.get(row["currency"], [])
        base_n = sum(c[2] for c in currency_cells)
        if base_n < MIN_BASELINE:
            continue
        base_total = sum((c[3] for c in currency_cells), Decimal(0))
        age = (as_of - row["issue_date"]).days
        late = [c for c in currency_cells if c[0] < age < c[1]]
        usual = Decimal(sum(c[2] for c in late)) / base_n
        usual_amount = sum((c[3] for c in late), Decimal(0)) / base_total
        share = Decimal(row["late"]) / row["n"]
        if share < max(TIMES_USUAL * usual, usual + POINTS_ABOVE_USUAL):
            continue
        alerts.append(
            SystemicAlert(
                issue_date=row["issue_date"],
                currency=row["currency"],
                age_days=age,
                invoices=row["n"],
                amount=row["total"],
                overdue=row["late"],
                overdue_amount=row["late_total"],
                share=share,
                amount_share=row["late_total"] / row["total"],
                usual_share=usual,
                usual_amount_share=usual_amount,
                message=(
                    f"{row['late']} of the {row['n']} {row['currency']} invoices issued on "
                    f"{row['issue_date']:%-d %b %Y} ({share:.0%}) are overdue and unpaid "
                    f"{age} days after issue; usually {usual:.0%} are. Check that day's "
                    "invoicing (prices, quantities, addresses, purchase orders, whether the "
                    "invoices were sent) before chasing these customers."
                ),
            )
        )
    alerts.sort(key=lambda a: (-a.share, a.issue_date, a.currency))
    return alerts
