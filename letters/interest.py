"""Late-payment interest and fixed compensation. Pure Python: no ORM, no I/O, money always
as Decimal.

Three statutory regimes are built in, for debts between businesses only:
- EU, Late Payment Directive 2011/7/EU: reference rate (ECB main refinancing operations rate
  in force on 1 January / 1 July, fixed for that half-year) plus at least 8 points; at least
  EUR 40 fixed compensation per late invoice. Member states may add more, so the margin is a
  field of the regime, not a constant.
- UK, Late Payment of Commercial Debts (Interest) Act 1998: Bank of England base rate in force
  on 31 December (for 1 Jan-30 Jun) or 30 June (for 1 Jul-31 Dec) plus 8 points; GBP 40 / 70 /
  100 fixed compensation by the size of the debt.
- Germany, BGB § 288 (2) and (5): the Bundesbank base rate (Basiszinssatz, § 247 BGB, set on
  1 January / 1 July) plus 9 points where no consumer is party; EUR 40 flat per late invoice.

A fourth kind is contractual: the fixed rate and/or fee per late invoice that the customer's
accepted terms give, in the customer's currency, for any jurisdiction (see `contractual`).

All are simple interest, running from the day after the due date, on the balance actually
outstanding each day: money applied to an invoice on a day reduces it from the next day, so an
invoice paid late earns interest up to and including the day it was paid in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import NamedTuple

# Actual days / 365, leap years included: the UK Act's usual reading (daily rate = annual / 365)
# and the common practice across EU member states for the Directive's interest.
DAYS_IN_YEAR = Decimal(365)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE_DAY = dt.timedelta(days=1)
# A fixed context so results never depend on whatever decimal context the caller has set.
_CONTEXT = Context(prec=34)

# The code of a contractual regime; statutory ones are the InterestRegime codes.
TERMS = "terms"
# Debtor types (invoices.models.DebtorType) a statutory regime may charge: the UK Act, the
# Directive and BGB § 288 (2) apply between businesses; a sole trader is a business here.
STATUTORY_DEBTORS = ("business", "sole_trader")


@dataclass(frozen=True)
class ReferenceRate:
    """One row of a dated reference-rate table (admins edit it in the database)."""

    valid_from: dt.date  # first day of the half-year it applies to: 1 January or 1 July
    rate: Decimal  # percent per year, e.g. Decimal("4.50"); may be negative (Germany 2016-22)


@dataclass(frozen=True, kw_only=True)
class Regime:
    """A late-payment regime. A statutory one's rate table is passed separately (it changes
    twice a year and lives in the database); a contractual one has a fixed rate instead."""

    code: str  # "eu", "uk", "de" or TERMS
    name: str  # human-readable, e.g. "EU Late Payment Directive 2011/7/EU"
    margin: Decimal = Decimal("8")  # percentage points over the reference rate
    currency: str  # "EUR" / "GBP"; a contractual regime's is the customer's
    # (lowest principal, amount) pairs in ascending order: a late invoice gets the amount of
    # the highest band whose lower bound its principal reaches. One band = a flat amount;
    # none = no compensation.
    compensation_bands: tuple[tuple[Decimal, Decimal], ...] = ((Decimal("0"), Decimal("40")),)
    # Percent a year, used instead of reference rate + margin (contractual terms); 0 = none.
    fixed_rate: Decimal | None = None

    @property
    def statutory(self) -> bool:
        return self.code != TERMS


EU = Regime(
    code="eu",
    name="EU Late Payment Directive 2011/7/EU",
    margin=Decimal("8"),
    currency="EUR",
    # The Directive's minimum: EUR 40 per invoice, whatever its size.
    compensation_bands=((Decimal("0"), Decimal("40.00")),),
)
UK = Regime(
    code="uk",
    name="Late Payment of Commercial Debts (Interest) Act 1998",
    margin=Decimal("8"),
    currency="GBP",
    # Under 1,000: 40; 1,000 to 9,999.99: 70; 10,000 and over: 100 (s. 5A of the Act).
    compensation_bands=(
        (Decimal("0"), Decimal("40.00")),
        (Decimal("1000.00"), Decimal("70.00")),
        (Decimal("10000.00"), Decimal("100.00")),
    ),
)
# Interest runs from default (Verzug); an invoice with an agreed due date is in default the day
# after it (§ 286 (2) no. 1 BGB), which is when every regime here starts counting.
DE = Regime(
    code="de",
    name="German Civil Code (BGB), § 288 (2) and (5)",
    margin=Decimal("9"),
    currency="EUR",
    compensation_bands=((Decimal("0"), Decimal("40.00")),),
)
REGIMES: dict[str, Regime] = {"eu": EU, "uk": UK, "de": DE}


def contractual(*, name: str, currency: str, rate: Decimal | None, fee: Decimal | None) -> Regime:
    """The charges a customer's accepted terms give: simple interest at a fixed `rate` percent
    a year and/or a fixed `fee` per late invoice (either may be None), in their currency."""
    for what, value in (("rate", rate), ("fee", fee)):
        if value is not None and (not isinstance(value, Decimal) or value < 0):
            raise ValueError(f"A contractual {what} must be a Decimal of zero or more: {value!r}")
    return Regime(
        code=TERMS,
        name=name,
        currency=currency,
        margin=ZERO,
        fixed_rate=rate or ZERO,
        compensation_bands=((ZERO, fee),) if fee else (),
    )


class Applied(NamedTuple):
    """Money applied to an invoice (a payment or a write-off) on a day."""

    on: dt.date
    amount: Decimal


@dataclass(frozen=True)
class Debt:
    """An invoice as interest sees it."""

    number: str
    amount: Decimal  # what it was for, less any corrections; compensation is priced by it
    due_date: dt.date
    applied: tuple[Applied, ...] = ()  # in any order


class InterestPeriod(NamedTuple):
    """One segment of an invoice's interest at one rate on one balance, so a letter or a page
    can show its working: base x annual_rate% x days / 365 = amount."""

    start: dt.date  # first day of interest in this segment
    end: dt.date  # last day of interest in this segment (inclusive)
    annual_rate: Decimal  # percent: reference rate + margin, or the contractual rate
    days: int
    amount: Decimal  # rounded to the cent for display only; see balance_interest
    base: Decimal  # the balance outstanding on each day of the segment


@dataclass(frozen=True)
class InterestLine:
    """One late invoice's claim, for an itemised letter."""

    invoice_number: str
    principal: Decimal  # the invoice's amount (less corrections), not what is left of it
    due_date: dt.date
    days: int  # days late: to as_of, or to the day it was paid in full
    interest: Decimal
    compensation: Decimal
    periods: tuple[InterestPeriod, ...]
    paid_on: dt.date | None = None  # the day it was paid in full, when it was paid late


# Source: European Central Bank, key ECB interest rates (MRO fixed rate, "date of effect"), as
# tabulated by the Banque de France "Key European Central Bank interest rates" page up to the
# 23 Oct 2024 change; later changes from ECB decisions of 12 Dec 2024 (3.15 from 18 Dec),
# 6 Mar 2025 (2.65), 17 Apr 2025 (2.40) and 5 Jun 2025 (2.15 from 11 Jun), and the hold
# reported on 5 Feb 2026. Each row is the rate in force on valid_from itself.
ECB_MAIN_REFINANCING_RATES: tuple[ReferenceRate, ...] = (
    ReferenceRate(dt.date(2019, 1, 1), Decimal("0.00")),  # 0.00 since 16 Mar 2016
    ReferenceRate(dt.date(2019, 7, 1), Decimal("0.00")),
    ReferenceRate(dt.date(2020, 1, 1), Decimal("0.00")),
    ReferenceRate(dt.date(2020, 7, 1), Decimal("0.00")),
    ReferenceRate(dt.date(2021, 1, 1), Decimal("0.00")),
    ReferenceRate(dt.date(2021, 7, 1), Decimal("0.00")),
    ReferenceRate(dt.date(2022, 1, 1), Decimal("0.00")),
    ReferenceRate(dt.date(2022, 7, 1), Decimal("0.00")),  # the 0.50 hike took effect 27 Jul 2022
    ReferenceRate(dt.date(2023, 1, 1), Decimal("2.50")),  # since 21 Dec 2022
    ReferenceRate(dt.date(2023, 7, 1), Decimal("4.00")),  # since 21 Jun 2023
    ReferenceRate(dt.date(2024, 1, 1), Decimal("4.50")),  # since 20 Sep 2023
    ReferenceRate(dt.date(2024, 7, 1), Decimal("4.25")),  # since 12 Jun 2024
    ReferenceRate(dt.date(2025, 1, 1), Decimal("3.15")),  # since 18 Dec 2024
    ReferenceRate(dt.date(2025, 7, 1), Decimal("2.15")),  # since 11 Jun 2025
    ReferenceRate(dt.date(2026, 1, 1), Decimal("2.15")),  # held through 5 Feb 2026
    # unconfirmed: last confirmed value carried forward. A single secondary report says the ECB
    # raised the MRO rate to 2.40 at its 11 Jun 2026 meeting (in effect before 1 Jul); check the
    # ECB's key interest rates page and correct this row.
    ReferenceRate(dt.date(2026, 7, 1), Decimal("2.15")),
)

# Source: Bank of England, Official Bank Rate history (MPC decisions), checked against press
# reports of each decision (BBC and others). Each row is Bank Rate in force on the day before
# valid_from (31 December / 30 June), which the 1998 Act applies to the following half-year.
BOE_BASE_RATES: tuple[ReferenceRate, ...] = (
    ReferenceRate(dt.date(2019, 1, 1), Decimal("0.75")),  # 0.75 since 2 Aug 2018
    ReferenceRate(dt.date(2019, 7, 1), Decimal("0.75")),
    ReferenceRate(dt.date(2020, 1, 1), Decimal("0.75")),
    ReferenceRate(dt.date(2020, 7, 1), Decimal("0.10")),  # since 19 Mar 2020
    ReferenceRate(dt.date(2021, 1, 1), Decimal("0.10")),
    ReferenceRate(dt.date(2021, 7, 1), Decimal("0.10")),
    ReferenceRate(dt.date(2022, 1, 1), Decimal("0.25")),  # since 16 Dec 2021
    ReferenceRate(dt.date(2022, 7, 1), Decimal("1.25")),  # since 16 Jun 2022
    ReferenceRate(dt.date(2023, 1, 1), Decimal("3.50")),  # since 15 Dec 2022
    ReferenceRate(dt.date(2023, 7, 1), Decimal("5.00")),  # since 22 Jun 2023
    ReferenceRate(dt.date(2024, 1, 1), Decimal("5.25")),  # since 3 Aug 2023
    ReferenceRate(dt.date(2024, 7, 1), Decimal("5.25")),  # first cut came 1 Aug 2024
    ReferenceRate(dt.date(2025, 1, 1), Decimal("4.75")),  # since 7 Nov 2024
    ReferenceRate(dt.date(2025, 7, 1), Decimal("4.25")),  # since 8 May 2025
    ReferenceRate(dt.date(2026, 1, 1), Decimal("3.75")),  # cut in Dec 2025
    ReferenceRate(dt.date(2026, 7, 1), Decimal("3.75")),  # held on 18 Jun 2026
)


# Source: Deutsche Bundesbank, Basiszinssatz gemäß § 247 BGB (its announcements in the Federal
# Gazette). -0.88 from 1 Jul 2016 until 31 Dec 2022. From 2023 each row is the previous one
# moved by the change in the ECB main refinancing rate on the row's first day since the last
# adjustment, which the ECB table above reproduces. A negative base rate is used as it is:
# -0.88 + 9 = 8.12 percent (BGB sets no floor).
BUNDESBANK_BASE_RATES: tuple[ReferenceRate, ...] = (
    ReferenceRate(dt.date(2019, 1, 1), Decimal("-0.88")),
    ReferenceRate(dt.date(2019, 7, 1), Decimal("-0.88")),
    ReferenceRate(dt.date(2020, 1, 1), Decimal("-0.88")),
    ReferenceRate(dt.date(2020, 7, 1), Decimal("-0.88")),
    ReferenceRate(dt.date(2021, 1, 1), Decimal("-0.88")),
    ReferenceRate(dt.date(2021, 7, 1), Decimal("-0.88")),
    ReferenceRate(dt.date(2022, 1, 1), Decimal("-0.88")),
    ReferenceRate(dt.date(2022, 7, 1), Decimal("-0.88")),
    ReferenceRate(dt.date(2023, 1, 1), Decimal("1.62")),
    ReferenceRate(dt.date(2023, 7, 1), Decimal("3.12")),
    ReferenceRate(dt.date(2024, 1, 1), Decimal("3.62")),
    ReferenceRate(dt.date(2024, 7, 1), Decimal("3.37")),
    ReferenceRate(dt.date(2025, 1, 1), Decimal("2.27")),
    ReferenceRate(dt.date(2025, 7, 1), Decimal("1.27")),
    # unconfirmed: the ECB rate held at 2.15 into 2026, which leaves the base rate at 1.27;
    # check the Bundesbank's announcement for 1 Jan 2026 and correct this row.
    ReferenceRate(dt.date(2026, 1, 1), Decimal("1.27")),
    # unconfirmed: carried forward. Should the ECB rate be 2.40 on 1 Jul 2026 (see the ECB
    # table's note), the base rate moves by the same 0.25 to 1.52.
    ReferenceRate(dt.date(2026, 7, 1), Decimal("1.27")),
)
# The shipped table of each statutory regime, by code (letters.defaults.ship_rates).
RATE_TABLES: dict[str, tuple[ReferenceRate, ...]] = {
    "eu": ECB_MAIN_REFINANCING_RATES,
    "uk": BOE_BASE_RATES,
    "de": BUNDESBANK_BASE_RATES,
}


def regime_applies(regime_code: str, debtor_type: str, currency: str) -> str | None:
    """None when the statutory regime may be claimed from this debtor; otherwise why not, in
    words a collector can repeat: these laws are for debts between businesses, in the currency
    their fixed sums are set in."""
    regime = REGIMES.get(regime_code)
    if regime is None:
        return f"There is no statutory interest regime {regime_code!r}."
    if debtor_type not in STATUTORY_DEBTORS:
        return f"The {regime.name} applies between businesses only; this customer is a consumer."
    if currency != regime.currency:
        return (
            f"The {regime.name} is claimed in {regime.currency} only; this customer is billed"
            f" in {currency}."
        )
    return None


def terms_apply(
    *, accepted_on: dt.date | None, rate: Decimal | None, fee: Decimal | None
) -> str | None:
    """None when the customer's accepted terms give late-payment charges; otherwise why not."""
    if accepted_on is None:
        return "The customer has not accepted terms of business that provide for late charges."
    if not rate and not fee:
        return "The customer's accepted terms give no late-payment interest or fee."
    return None


def audience(regime_code: str) -> str:
    """Whom a statutory regime may charge, as a sentence."""
    regime = REGIMES[regime_code]
    return f"Claimed only from business and sole-trader customers billed in {regime.currency}."


def _next_half_year_start(day: dt.date) -> dt.date:
    """The 1 January or 1 July strictly after `day`: where a new reference rate may apply."""
    return dt.date(day.year, 7, 1) if day.month < 7 else dt.date(day.year + 1, 1, 1)


def _sorted_table(rates: Sequence[ReferenceRate]) -> list[ReferenceRate]:
    """The table in date order, rejecting rows that would make a half-year's rate ambiguous:
    the reference rate is fixed for a whole half-year, so rows must start on 1 Jan or 1 Jul."""
    seen: set[dt.date] = set()
    for row in rates:
        if row.valid_from.day != 1 or row.valid_from.month not in (1, 7):
            raise ValueError(
                f"Reference rate dated {row.valid_from.isoformat()} does not start a half-year"
                " (1 January or 1 July)"
            )
        if row.valid_from in seen:
            raise ValueError(f"Two reference rates for {row.valid_from.isoformat()}")
        if not isinstance(row.rate, Decimal):
            raise TypeError(f"Reference rate for {row.valid_from.isoformat()} is not a Decimal")
        seen.add(row.valid_from)
    return sorted(rates, key=lambda row: row.valid_from)


def _rate_on(table: list[ReferenceRate], day: dt.date, regime: Regime) -> Decimal:
    """The reference rate of the latest row starting on or before `day`."""
    found = None
    for row in table:
        if row.valid_from > day:
            break
        found = row.rate
    if found is None:
        raise ValueError(
            f"No {regime.name} reference rate for {day.isoformat()}: the rate table must go"
            " back at least to the half-year containing that date"
        )
    return found


def _check_money(principal: Decimal) -> None:
    # Floats would silently carry binary rounding errors into a legal claim.
    if not isinstance(principal, Decimal):
        raise TypeError(f"principal must be a Decimal, not {type(principal).__name__}")
    if principal < 0:
        raise ValueError(f"principal must not be negative: {principal}")


def balance_interest(
    *,
    regime: Regime,
    principal: Decimal,
    due_date: dt.date,
    until: dt.date,
    applied: Sequence[Applied] = (),
    rates: Sequence[ReferenceRate] = (),
) -> tuple[Decimal, tuple[InterestPeriod, ...]]:
    """Simple interest from the day after `due_date` to `until` inclusive on the balance
    outstanding each day: `principal` less the money applied before that day. Money applied
    on a day counts from the next one, so the day of a payment still earns interest on what
    it paid. A new segment starts wherever the balance changes and, for a statutory regime,
    at each 1 January / 1 July, so every half-year uses its own reference rate + the margin.

    Rounding: segments are computed at full precision and their exact amounts summed; only that
    sum is rounded (to the cent, half up). Each period's `amount` is rounded too, for display,
    so the shown segments may differ from the total by a cent; the total is the claim, and it
    does not depend on how many segments the debt happens to span.

    Nothing due (until on or before due_date, or a zero rate) gives (0.00, ()). Raises
    ValueError if a statutory table does not reach back to the first day of interest.
    """
    _check_money(principal)
    for part in applied:
        _check_money(part.amount)
    fixed = regime.fixed_rate
    if until <= due_date or fixed == 0:
        return ZERO, ()
    table = _sorted_table(rates) if fixed is None else []
    changes = sorted({part.on + ONE_DAY for part in applied})
    periods: list[InterestPeriod] = []
    total = Decimal(0)
    with localcontext(_CONTEXT):
        start = due_date + ONE_DAY
        while start <= until:
            base = principal - sum((p.amount for p in applied if p.on < start), ZERO)
            if base <= 0:
                break  # paid in full: nothing runs after that
            end = until
            if fixed is None:
                end = min(end, _next_half_year_start(start) - ONE_DAY)
            change = next((day for day in changes if day > start), None)
            if change is not None:
                end = min(end, change - ONE_DAY)
            annual_rate = (
                fixed if fixed is not None else _rate_on(table, start, regime) + regime.margin
            )
            days = (end - start).days + 1
            amount = base * annual_rate / 100 * days / DAYS_IN_YEAR
            total += amount
            periods.append(
                InterestPeriod(
                    start=start,
                    end=end,
                    annual_rate=annual_rate,
                    days=days,
                    amount=amount.quantize(CENT, rounding=ROUND_HALF_UP),
                    base=base,
                )
            )
            start = end + ONE_DAY
        return total.quantize(CENT, rounding=ROUND_HALF_UP), tuple(periods)


def statutory_interest(
    *,
    regime: Regime,
    principal: Decimal,
    due_date: dt.date,
    as_of: dt.date,
    rates: Sequence[ReferenceRate],
) -> tuple[Decimal, tuple[InterestPeriod, ...]]:
    """Interest on a `principal` nothing was paid off, from the day after `due_date` to
    `as_of` inclusive (see balance_interest)."""
    return balance_interest(
        regime=regime, principal=principal, due_date=due_date, until=as_of, rates=rates
    )


def fixed_compensation(*, regime: Regime, principal: Decimal) -> Decimal:
    """The fixed sum per late invoice, by the band its principal falls in: the invoice's
    amount, not what is left of it (a GBP 12,000 invoice with 500 left is a GBP 10,000+ debt).
    The caller decides whether the invoice is late; this only prices it."""
    _check_money(principal)
    amount = ZERO
    for lowest, band_amount in regime.compensation_bands:
        if principal >= lowest:
            amount = band_amount
    return amount


def paid_in_full_on(debt: Debt) -> dt.date | None:
    """The day the money applied to a debt first covered all of it; None while it is open."""
    applied = ZERO
    for part in sorted(debt.applied):
        applied += part.amount
        if applied >= debt.amount:
            return part.on
    return None


def invoice_claim(
    *, regime: Regime, debt: Debt, as_of: dt.date, rates: Sequence[ReferenceRate]
) -> InterestLine | None:
    """Interest and compensation on one invoice as of a day: to `as_of` while any of it is
    open, to the day it was paid in full if that was late. None when it was not late."""
    if debt.amount <= 0:
        return None
    paid_on = paid_in_full_on(debt)
    if paid_on is not None and paid_on > as_of:
        paid_on = None  # paid after the day in question: still open on it
    until = paid_on or as_of
    if until <= debt.due_date:
        return None
    interest, periods = balance_interest(
        regime=regime,
        principal=debt.amount,
        due_date=debt.due_date,
        until=until,
        applied=debt.applied,
        rates=rates,
    )
    return InterestLine(
        invoice_number=debt.number,
        principal=debt.amount,
        due_date=debt.due_date,
        days=(until - debt.due_date).days,
        interest=interest,
        compensation=fixed_compensation(regime=regime, principal=debt.amount),
        periods=periods,
        paid_on=paid_on,
    )


def claim(
    *,
    regime: Regime,
    invoices: Sequence[Debt | tuple[str, Decimal, dt.date]],
    as_of: dt.date,
    rates: Sequence[ReferenceRate],
) -> tuple[list[InterestLine], Decimal, Decimal]:
    """Interest and compensation for each late invoice, a Debt or (number, principal, due
    date) with nothing paid, with the totals. Invoices neither overdue on `as_of` nor paid
    late are left out. The total interest is the sum of the lines' (rounded) interest, so an
    itemised letter always adds up."""
    lines: list[InterestLine] = []
    for invoice in invoices:
        debt = invoice if isinstance(invoice, Debt) else Debt(*invoice)
        line = invoice_claim(regime=regime, debt=debt, as_of=as_of, rates=rates)
        if line is not None:
            lines.append(line)
    total_interest = sum((line.interest for line in lines), ZERO)
    total_compensation = sum((line.compensation for line in lines), ZERO)
    return lines, total_interest, total_compensation
