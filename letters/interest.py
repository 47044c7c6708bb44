"""Statutory late-payment interest and fixed compensation for B2B debts. Pure Python: no ORM,
no I/O, money always as Decimal.

Two regimes are built in:
- EU, Late Payment Directive 2011/7/EU: reference rate (ECB main refinancing operations rate
  in force on 1 January / 1 July, fixed for that half-year) plus at least 8 points; at least
  EUR 40 fixed compensation per late invoice. Member states may add more (Germany: 9 points
  for B2B), so the margin is a field of the regime, not a constant.
- UK, Late Payment of Commercial Debts (Interest) Act 1998: Bank of England base rate in force
  on 31 December (for 1 Jan-30 Jun) or 30 June (for 1 Jul-31 Dec) plus 8 points; GBP 40 / 70 /
  100 fixed compensation by the size of the debt.

Both are simple interest on the principal, running from the day after the due date up to and
including the `as_of` date, with no reminder needed.
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
ONE_DAY = dt.timedelta(days=1)
# A fixed context so results never depend on whatever decimal context the caller has set.
_CONTEXT = Context(prec=34)


@dataclass(frozen=True)
class ReferenceRate:
    """One row of a dated reference-rate table (admins will edit it in the database later)."""

    valid_from: dt.date  # first day of the half-year it applies to: 1 January or 1 July
    rate: Decimal  # percent per year, e.g. Decimal("4.50")


@dataclass(frozen=True, kw_only=True)
class Regime:
    """A statutory late-payment regime. The rate table is passed separately (it changes twice a
    year and will live in the database); everything fixed by statute is here."""

    code: str  # "eu" or "uk"
    name: str  # human-readable, e.g. "EU Late Payment Directive 2011/7/EU"
    margin: Decimal = Decimal("8")  # percentage points over the reference rate
    currency: str  # "EUR" / "GBP"
    # (lowest principal, amount) pairs in ascending order: a late invoice gets the amount of
    # the highest band whose lower bound its principal reaches. One band = a flat amount.
    compensation_bands: tuple[tuple[Decimal, Decimal], ...] = ((Decimal("0"), Decimal("40")),)


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
REGIMES: dict[str, Regime] = {"eu": EU, "uk": UK}


class InterestPeriod(NamedTuple):
    """One half-year segment of an invoice's interest, so a letter can show its working."""

    start: dt.date  # first day of interest in this segment
    end: dt.date  # last day of interest in this segment (inclusive)
    annual_rate: Decimal  # percent: reference rate + margin
    days: int
    amount: Decimal  # rounded to the cent for display only; see statutory_interest


@dataclass(frozen=True)
class InterestLine:
    """One late invoice's claim, for an itemised letter."""

    invoice_number: str
    principal: Decimal
    due_date: dt.date
    days: int
    interest: Decimal
    compensation: Decimal
    periods: tuple[InterestPeriod, ...]


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


def statutory_interest(
    *,
    regime: Regime,
    principal: Decimal,
    due_date: dt.date,
    as_of: dt.date,
    rates: Sequence[ReferenceRate],
) -> tuple[Decimal, tuple[InterestPeriod, ...]]:
    """Simple interest on `principal` from the day after `due_date` to `as_of` inclusive, split
    at each 1 January / 1 July so every half-year uses its own reference rate + the margin.

    Rounding: segments are computed at full precision and their exact amounts summed; only that
    sum is rounded (to the cent, half up). Each period's `amount` is rounded too, for display,
    so the shown segments may differ from the total by a cent; the total is the claim, and it
    does not depend on how many half-years the debt happens to span.

    Not yet overdue (as_of on or before due_date) gives (0.00, ()). Raises ValueError if the
    table does not reach back to the first day of interest.
    """
    _check_money(principal)
    if as_of <= due_date:
        return Decimal("0.00"), ()
    table = _sorted_table(rates)
    periods: list[InterestPeriod] = []
    total = Decimal(0)
    with localcontext(_CONTEXT):
        start = due_date + ONE_DAY
        while start <= as_of:
            end = min(_next_half_year_start(start) - ONE_DAY, as_of)
            annual_rate = _rate_on(table, start, regime) + regime.margin
            days = (end - start).days + 1
            amount = principal * annual_rate / 100 * days / DAYS_IN_YEAR
            total += amount
            periods.append(
                InterestPeriod(
                    start=start,
                    end=end,
                    annual_rate=annual_rate,
                    days=days,
                    amount=amount.quantize(CENT, rounding=ROUND_HALF_UP),
                )
            )
            start = end + ONE_DAY
        return total.quantize(CENT, rounding=ROUND_HALF_UP), tuple(periods)


def fixed_compensation(*, regime: Regime, principal: Decimal) -> Decimal:
    """The fixed sum per late invoice, by the band its principal (the unpaid amount) falls in.
    The caller decides whether the invoice is late; this only prices it."""
    _check_money(principal)
    amount = Decimal("0.00")
    for lowest, band_amount in regime.compensation_bands:
        if principal >= lowest:
            amount = band_amount
    return amount


def claim(
    *,
    regime: Regime,
    invoices: Sequence[tuple[str, Decimal, dt.date]],
    as_of: dt.date,
    rates: Sequence[ReferenceRate],
) -> tuple[list[InterestLine], Decimal, Decimal]:
    """Interest and compensation for each overdue invoice of (number, principal, due date),
    with the totals. Invoices not yet overdue on `as_of` are left out. The total interest is
    the sum of the lines' (rounded) interest, so an itemised letter always adds up."""
    lines: list[InterestLine] = []
    for invoice_number, principal, due_date in invoices:
        days = (as_of - due_date).days
        if days <= 0:
            continue
        interest, periods = statutory_interest(
            regime=regime, principal=principal, due_date=due_date, as_of=as_of, rates=rates
        )
        lines.append(
            InterestLine(
                invoice_number=invoice_number,
                principal=principal,
                due_date=due_date,
                days=days,
                interest=interest,
                compensation=fixed_compensation(regime=regime, principal=principal),
                periods=periods,
            )
        )
    total_interest = sum((line.interest for line in lines), Decimal("0.00"))
    total_compensation = sum((line.compensation for line in lines), Decimal("0.00"))
    return lines, total_interest, total_compensation
