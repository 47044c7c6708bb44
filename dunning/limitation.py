"""Limitation as a clock: the last day a debt can be sued for.

The period comes from a dated table by jurisdiction and kind of claim (LEGAL.md; invoices
are open accounts unless a signed contract is on file): the customer's region's row, else
the country's, else the shortest period known in the country, said in words, because
threatening a barred debt breaks the law while chasing a live one softly only costs money.
A country with nothing on file has no known date.

The clock runs from the due date. Where the row says so, a part-payment or a written
acknowledgement starts it again from its own date, but only while it still runs: a debt
already barred is not revived here (whether it can be is for a lawyer).

Referral is blocked after the date and warned of within WARN_DAYS before it; the engine
keeps barred debts from every threat (dunning.engine)."""

import datetime as dt
import importlib
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import holidays
from babel import Locale
from django.apps import apps as global_apps
from django.utils import timezone

from invoices.dates import format_day

WARN_DAYS = 180  # how far ahead a coming limitation date is flagged
OPEN_ACCOUNT = "open_account"  # models.ClaimKind.OPEN_ACCOUNT: invoices, unless a contract says
DUE_DATE, PART_PAYMENT, ACKNOWLEDGEMENT = "due date", "part-payment", "written acknowledgement"
# Countries whose names read with "the" in a sentence.
THE = {"US": "the US", "GB": "the UK", "NL": "the Netherlands", "PH": "the Philippines"}


def on_post_migrate(sender, apps=global_apps, **kwargs) -> None:
    """Put the shipped tables back after a flush (the data migration ran only once)."""
    shipped = importlib.import_module("dunning.migrations.0013_ship_limitation_periods")
    try:
        periods = apps.get_model("dunning", "LimitationPeriod")
        small_claims = apps.get_model("dunning", "SmallClaimsLimit")
    except LookupError:  # migrated back to before the tables had their present shape
        return
    if not periods.objects.exists():
        shipped.ship_periods(apps, None)
    if not small_claims.objects.exists():
        shipped.ship_small_claims(apps, None)


@lru_cache(maxsize=256)
def region_code(country: str, region: str) -> str:
    """A region as its ISO 3166-2 code: customers' records may say "New York" or "NY"."""
    region = region.strip()
    try:
        aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {}) or {}
    except NotImplementedError:  # a country the holidays package does not know
        return region.upper()
    by_name = {name.lower(): code for name, code in aliases.items()}
    return by_name.get(region.lower(), region.upper())


@lru_cache(maxsize=256)
def country_name(code: str) -> str:
    return THE.get(code) or Locale("en").territories.get(code) or code


def limitation_date(due_date: dt.date, years: int) -> dt.date:
    """The last day a debt can be sued for: the same day `years` later."""
    try:
        return due_date.replace(year=due_date.year + years)
    except ValueError:  # 29 February in a year without one
        return due_date.replace(year=due_date.year + years, day=28)


# --- the period ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    years: int | None
    restarts: bool = False  # a part-payment or written acknowledgement starts it again
    source: str = ""  # the row's note: what it is and where it comes from
    said: str = ""  # how it was chosen, when the region has no row of its own
    unknown: str = ""  # why there is none


Dated = list[tuple[dt.date, Period]]  # one jurisdiction's rows of a kind, oldest first


def _in_force(rows: Dated, due: dt.date) -> Period:
    """The row for a debt falling due on `due`; the oldest for a debt older than them all."""
    if len(rows) == 1:
        return rows[0][1]
    at = bisect_right(rows, due, key=lambda row: row[0])
    return rows[max(at - 1, 0)][1]


class Periods:
    """The period table, read once (a few dozen rows) and asked for every invoice."""

    def __init__(self, rows: Iterable[tuple]):
        # (country, kind) -> region ("" for the whole country) -> its dated rows
        self._rows: dict[tuple[str, str], dict[str, Dated]] = defaultdict(lambda: defaultdict(list))
        self.fewest_years: int | None = None  # the shortest period of any row
        for country, kind, region, valid_from, years, restarts, note in sorted(
            rows, key=lambda r: r[3]
        ):
            self._rows[(country, kind)][region].append((valid_from, Period(years, restarts, note)))
            if years is not None and (self.fewest_years is None or years < self.fewest_years):
                self.fewest_years = years

    @classmethod
    def load(cls) -> "Periods":
        from .models import LimitationPeriod

        return cls(
            LimitationPeriod.objects.values_list(
                "country", "kind", "region", "valid_from", "years", "restarts", "note"
            )
        )

    def find(self, country: str, region: str, *, due: dt.date, kind: str = OPEN_ACCOUNT) -> Period:
        """The period for a debt of this kind falling due on `due` in this jurisdiction."""
        if not country:
            return Period(None, unknown="no country on file for this customer")
        regions = self._rows.get((country, kind))
        if not regions:
            what = "" if kind == OPEN_ACCOUNT else f" ({kind.replace('_', ' ')})"
            return Period(
                None, unknown=f"no limitation period for {country_name(country)}{what} on file"
            )
        code = region_code(country, region) if region.strip() else ""
        if code in regions:
            return _in_force(regions[code], due)
        if "" in regions:
            return _in_force(regions[""], due)
        # No row for the region nor the whole country: the shortest period known there.
        known = [_in_force(rows, due) for rows in regions.values()]
        shortest = min(known, key=lambda period: period.years)
        where = f"no period for {region.strip()} on file" if code else "no region on file"
        return Period(
            shortest.years,
            restarts=all(period.restarts for period in known),
            said=f"{where}: using {shortest.years} years, "
            f"the shortest known in {country_name(country)}",
        )


def period_years(country: str, region: str, *, kind: str = OPEN_ACCOUNT) -> int | None:
    """The period in years for a debt falling due today in this jurisdiction."""
    return Periods.load().find(country, region, due=timezone.localdate(), kind=kind).years


# --- the clock ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceClock:
    invoice_id: int
    number: str
    due_date: dt.date
    last_day: dt.date | None  # the last day it can be sued for; None: not known
    runs_from: dt.date  # the due date, or the part-payment or acknowledgement restarting it
    since: str  # DUE_DATE, PART_PAYMENT or ACKNOWLEDGEMENT
    why: str  # e.g. "6 years from the part-payment on 3 Mar 2022 (England and Wales: ...)"


def clock_run(
    due: dt.date, period: Period, events: Iterable[tuple[dt.date, str]]
) -> tuple[dt.date | None, dt.date, str]:
    """(last day, runs from, since what) for a debt: restarted by each event (date, what)
    that falls while the clock still runs, where the period restarts at all."""
    if period.years is None:
        return None, due, DUE_DATE
    last, runs_from, since = limitation_date(due, period.years), due, DUE_DATE
    if period.restarts:
        for day, what in sorted(events):
            if runs_from < day <= last:
                last, runs_from, since = limitation_date(day, period.years), day, what
    return last, runs_from, since


def restarts_load(
    invoices: Iterable[tuple[int, int]], *, today: dt.date
) -> dict[int, list[tuple[dt.date, str]]]:
    """invoice id -> (date, what) of each part-payment applied to it and each written
    acknowledgement naming it (or naming nothing: the whole account), up to today, for
    (invoice id, customer id) pairs. Two queries, however many invoices."""
    from invoices.models import Allocation

    from .models import Acknowledgement

    of_customer: dict[int, list[int]] = defaultdict(list)
    for invoice_id, customer_id in invoices:
        of_customer[customer_id].append(invoice_id)
    ids = {i for group in of_customer.values() for i in group}
    events: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    if not ids:
        return events
    # A credit note is the creditor's act, not the debtor's: only payments restart.
    for invoice_id, day in Allocation.objects.filter(
        invoice_id__in=ids, payment__isnull=False, payment__received_on__lte=today
    ).values_list("invoice_id", "payment__received_on"):
        events[invoice_id].append((day, PART_PAYMENT))
    for customer_id, day, invoice_id in Acknowledgement.objects.filter(
        customer_id__in=list(of_customer), acknowledged_on__lte=today
    ).values_list("customer_id", "acknowledged_on", "invoices"):
        named = [invoice_id] if invoice_id is not None else of_customer[customer_id]
        for i in named:
            if i in ids:
                events[i].append((day, ACKNOWLEDGEMENT))
    return events


def _why(period: Period, last: dt.date | None, runs_from: dt.date, since: str) -> str:
    if last is None:
        return ""
    if since == DUE_DATE:
        start = f"the due date, {format_day(runs_from)}"
    else:
        start = f"the {since} on {format_day(runs_from)}"
    source = period.said or period.source
    return f"{period.years} years from {start}" + (f" ({source})" if source else "")


@dataclass(frozen=True)
class LimitationState:
    """Where a customer's invoices stand against the clock on `today`."""

    today: dt.date
    clocks: tuple[InvoiceClock, ...]  # in the order the invoices were given
    barred: tuple[str, ...]  # numbers of invoices past their limitation date
    warnings: tuple[str, ...]  # numbers of invoices reaching it within WARN_DAYS
    unknown: str = ""  # why no date is known, in words ("" when known)
    said: str = ""  # how the period was chosen, when the region has none of its own
    years: int | None = None  # the period for a debt falling due today

    def clock(self, number: str) -> InvoiceClock | None:
        return self._by_number.get(number)

    @cached_property
    def _by_number(self) -> dict[str, InvoiceClock]:
        return {c.number: c for c in self.clocks}

    def in_words(self) -> tuple[list[str], list[str]]:
        """(barred, warnings) as sentences, e.g. "INV-1 passed its limitation date on 10 Jan
        2025"."""
        barred, warnings = [], []
        for c in self.clocks:
            if c.last_day is None:
                continue
            if c.last_day < self.today:
                barred.append(f"{c.number} passed its limitation date on {format_day(c.last_day)}")
            elif (c.last_day - self.today).days <= WARN_DAYS:
                days = (c.last_day - self.today).days
                warnings.append(
                    f"{c.number} reaches its limitation date on {format_day(c.last_day)} "
                    f"(in {days} days)"
                )
        return barred, warnings


def limitation_state(
    *, customer, invoices: Iterable, today: dt.date, kind: str = OPEN_ACCOUNT
) -> LimitationState:
    """Each invoice's limitation date and why, which are barred on `today` and which come
    close, for invoices (with pk, number, due_date) of one customer. Three queries,
    however many invoices."""
    invoices = list(invoices)
    periods = Periods.load()
    country, region = customer.country, customer.region
    now = periods.find(country, region, due=today, kind=kind)
    events = restarts_load(((inv.pk, customer.pk) for inv in invoices), today=today)
    clocks, barred, warnings = [], [], []
    for inv in invoices:
        period = periods.find(country, region, due=inv.due_date, kind=kind)
        last, runs_from, since = clock_run(inv.due_date, period, events.get(inv.pk, ()))
        clocks.append(
            InvoiceClock(
                inv.pk,
                inv.number,
                inv.due_date,
                last,
                runs_from,
                since,
                _why(period, last, runs_from, since),
            )
        )
        if last is None:
            continue
        if last < today:
            barred.append(inv.number)
        elif (last - today).days <= WARN_DAYS:
            warnings.append(inv.number)
    return LimitationState(
        today=today,
        clocks=tuple(clocks),
        barred=tuple(barred),
        warnings=tuple(warnings),
        unknown=f"{now.unknown}: the limitation date is unknown" if now.unknown else "",
        said=now.said,
        years=now.years,
    )


def barred_load(
    invoices: Iterable[tuple[int, int, dt.date]],
    customers: dict[int, tuple[str, str, dt.date]],
    *,
    kind: str = OPEN_ACCOUNT,
) -> dict[int, dt.date]:
    """invoice id -> the limitation date it passed, for the barred ones among (invoice id,
    customer id, due date), given each customer's (country, region, today in their time
    zone). For the engine's facts: at most three queries, and restarts read only for the
    few invoices old enough to need them."""
    periods = Periods.load()
    if periods.fewest_years is None or not customers:
        return {}
    # Nothing is barred sooner than the shortest period after it fell due (a restart only
    # adds time), and a year has at least 365 days: younger invoices, nearly all of them,
    # are not looked up.
    latest = max(today for _country, _region, today in customers.values())
    young = latest - dt.timedelta(days=365 * periods.fewest_years)
    # Invoices share a few jurisdictions and due dates: each is looked up once.
    found: dict[tuple[str, str, dt.date], tuple[Period, dt.date | None]] = {}
    old: list[tuple[int, int, dt.date, Period]] = []
    for invoice_id, customer_id, due in invoices:
        if due >= young:
            continue
        country, region, today = customers[customer_id]
        key = (country, region, due)
        if key not in found:
            period = periods.find(country, region, due=due, kind=kind)
            years = period.years
            found[key] = (period, None if years is None else limitation_date(due, years))
        period, last = found[key]
        if last is not None and last < today:
            old.append((invoice_id, customer_id, due, period))
    restartable = [(i, c) for i, c, _due, period in old if period.restarts]
    events = {}
    if restartable:
        latest = max(customers[c][2] for _i, c in restartable)
        events = restarts_load(restartable, today=latest)
    barred = {}
    for invoice_id, customer_id, due, period in old:
        last, _from, _since = clock_run(due, period, events.get(invoice_id, ()))
        if last < customers[customer_id][2]:
            barred[invoice_id] = last
    return barred


def limitation_check(
    invoices: Iterable[tuple[str, dt.date]], *, years: int | None, today: dt.date
) -> tuple[list[str], list[str]]:
    """(barred, warnings) in words for (number, due_date) pairs counted from the due date
    alone; limitation_state also counts restarts."""
    if years is None:
        return [], []
    barred, warnings = [], []
    for number, due in invoices:
        last = limitation_date(due, years)
        if last < today:
            barred.append(f"{number} passed its limitation date on {format_day(last)}")
        elif (last - today).days <= WARN_DAYS:
            warnings.append(
                f"{number} reaches its limitation date on {format_day(last)} "
                f"(in {(last - today).days} days)"
            )
    return barred, warnings
