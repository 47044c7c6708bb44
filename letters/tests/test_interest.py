"""Statutory interest and compensation: hand-computed figures on small custom rate tables.

Day count is actual/365; simple interest: principal x (reference + margin)% x days / 365.
"""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from letters.interest import (
    BOE_BASE_RATES,
    ECB_MAIN_REFINANCING_RATES,
    EU,
    REGIMES,
    UK,
    InterestPeriod,
    ReferenceRate,
    claim,
    fixed_compensation,
    statutory_interest,
)

D = Decimal

# Reference 5.00 for the first half of 2024, 4.00 for the second.
UK_RATES = (
    ReferenceRate(dt.date(2024, 1, 1), D("5.00")),
    ReferenceRate(dt.date(2024, 7, 1), D("4.00")),
)
# Reference 4.00 for the first half of 2024, 2.00 for the second.
EU_RATES = (
    ReferenceRate(dt.date(2024, 1, 1), D("4.00")),
    ReferenceRate(dt.date(2024, 7, 1), D("2.00")),
)


def test_the_regimes_are_registered_by_code():
    assert REGIMES == {"eu": EU, "uk": UK}
    assert (EU.currency, EU.margin) == ("EUR", D("8"))
    assert (UK.currency, UK.margin) == ("GBP", D("8"))


def test_uk_interest_on_a_thousand_pounds_thirty_days_late_at_a_five_percent_base_rate():
    # 2 Mar to 31 Mar 2024 = 30 days at 5 + 8 = 13%:
    # 1000 x 0.13 x 30 / 365 = 3900 / 365 = 10.6849... -> 10.68
    interest, periods = statutory_interest(
        regime=UK,
        principal=D("1000.00"),
        due_date=dt.date(2024, 3, 1),
        as_of=dt.date(2024, 3, 31),
        rates=UK_RATES,
    )
    assert interest == D("10.68")
    assert periods == (
        InterestPeriod(dt.date(2024, 3, 2), dt.date(2024, 3, 31), D("13.00"), 30, D("10.68")),
    )


def test_eu_interest_across_the_first_of_july_uses_each_half_years_rate_and_rounds_only_the_sum():
    # 21-30 Jun 2024 = 10 days at 4 + 8 = 12%: 10000 x 0.12 x 10 / 365 = 12000 / 365 = 32.8767...
    # 1-10 Jul 2024 = 10 days at 2 + 8 = 10%: 10000 x 0.10 x 10 / 365 = 10000 / 365 = 27.3972...
    # Total 22000 / 365 = 60.2739... -> 60.27, although the rounded segments (32.88 + 27.40)
    # add up to 60.28: only the exact sum is rounded.
    interest, periods = statutory_interest(
        regime=EU,
        principal=D("10000.00"),
        due_date=dt.date(2024, 6, 20),
        as_of=dt.date(2024, 7, 10),
        rates=EU_RATES,
    )
    assert interest == D("60.27")
    assert periods == (
        InterestPeriod(dt.date(2024, 6, 21), dt.date(2024, 6, 30), D("12.00"), 10, D("32.88")),
        InterestPeriod(dt.date(2024, 7, 1), dt.date(2024, 7, 10), D("10.00"), 10, D("27.40")),
    )


def test_a_debt_running_over_several_half_years_gets_one_segment_per_half_year():
    # Reference 1, 2, 3 for H1 2024, H2 2024, H1 2025; margin 8; principal 3650 so that
    # each day at r% earns 3650 x r / 100 / 365 = r / 10:
    # 31 Mar-30 Jun 2024: 92 days at 9% = 82.8; 1 Jul-31 Dec 2024: 184 days at 10% = 184.0;
    # 1 Jan-10 Jan 2025: 10 days at 11% = 11.0; total 277.80.
    rates = (
        ReferenceRate(dt.date(2024, 1, 1), D("1")),
        ReferenceRate(dt.date(2024, 7, 1), D("2")),
        ReferenceRate(dt.date(2025, 1, 1), D("3")),
    )
    interest, periods = statutory_interest(
        regime=UK,
        principal=D("3650.00"),
        due_date=dt.date(2024, 3, 30),
        as_of=dt.date(2025, 1, 10),
        rates=rates,
    )
    assert interest == D("277.80")
    assert [(p.start, p.end, p.annual_rate, p.days, p.amount) for p in periods] == [
        (dt.date(2024, 3, 31), dt.date(2024, 6, 30), D("9"), 92, D("82.80")),
        (dt.date(2024, 7, 1), dt.date(2024, 12, 31), D("10"), 184, D("184.00")),
        (dt.date(2025, 1, 1), dt.date(2025, 1, 10), D("11"), 10, D("11.00")),
    ]
    assert sum(p.days for p in periods) == (dt.date(2025, 1, 10) - dt.date(2024, 3, 30)).days


def test_a_due_date_on_the_last_day_of_june_accrues_nothing_at_the_old_rate():
    # Interest starts the day after, 1 Jul: 1-31 Jul = 31 days at 2 + 8 = 10%:
    # 1000 x 0.10 x 31 / 365 = 3100 / 365 = 8.4931... -> 8.49
    interest, periods = statutory_interest(
        regime=EU,
        principal=D("1000.00"),
        due_date=dt.date(2024, 6, 30),
        as_of=dt.date(2024, 7, 31),
        rates=EU_RATES,
    )
    assert interest == D("8.49")
    assert periods == (
        InterestPeriod(dt.date(2024, 7, 1), dt.date(2024, 7, 31), D("10.00"), 31, D("8.49")),
    )


def test_a_due_date_on_the_first_of_july_starts_interest_on_the_second():
    # 2-31 Jul = 30 days at 10%: 1000 x 0.10 x 30 / 365 = 3000 / 365 = 8.2191... -> 8.22
    interest, periods = statutory_interest(
        regime=EU,
        principal=D("1000.00"),
        due_date=dt.date(2024, 7, 1),
        as_of=dt.date(2024, 7, 31),
        rates=EU_RATES,
    )
    assert interest == D("8.22")
    assert [(p.start, p.days) for p in periods] == [(dt.date(2024, 7, 2), 30)]


def test_one_day_late_on_the_last_day_of_june_is_a_single_segment_at_the_old_rate():
    # 30 Jun only: 1 day at 12%: 1000 x 0.12 / 365 = 0.3287... -> 0.33
    interest, periods = statutory_interest(
        regime=EU,
        principal=D("1000.00"),
        due_date=dt.date(2024, 6, 29),
        as_of=dt.date(2024, 6, 30),
        rates=EU_RATES,
    )
    assert interest == D("0.33")
    assert periods == (
        InterestPeriod(dt.date(2024, 6, 30), dt.date(2024, 6, 30), D("12.00"), 1, D("0.33")),
    )


def test_interest_is_rounded_half_up_to_the_penny():
    # 1 day at 2 + 8 = 10%: 456.25 x 0.10 / 365 = 0.125 exactly -> 0.13 (half-even would say 0.12)
    interest, _ = statutory_interest(
        regime=EU,
        principal=D("456.25"),
        due_date=dt.date(2024, 7, 1),
        as_of=dt.date(2024, 7, 2),
        rates=EU_RATES,
    )
    assert interest == D("0.13")


def test_a_member_state_margin_above_eight_points_is_applied():
    # Germany-style 9 points: 1 Jul-30 Jul = 30 days at 2 + 9 = 11%:
    # 1000 x 0.11 x 30 / 365 = 3300 / 365 = 9.0410... -> 9.04
    germany = dataclasses.replace(EU, code="de", name="Germany, BGB s. 288(2)", margin=D("9"))
    interest, periods = statutory_interest(
        regime=germany,
        principal=D("1000.00"),
        due_date=dt.date(2024, 6, 30),
        as_of=dt.date(2024, 7, 30),
        rates=EU_RATES,
    )
    assert interest == D("9.04")
    assert periods[0].annual_rate == D("11.00")


@pytest.mark.parametrize("as_of", [dt.date(2024, 6, 14), dt.date(2024, 6, 15)])
def test_an_invoice_not_yet_overdue_earns_nothing(as_of):
    interest, periods = statutory_interest(
        regime=UK,
        principal=D("5000.00"),
        due_date=dt.date(2024, 6, 15),
        as_of=as_of,
        rates=UK_RATES,
    )
    assert (interest, periods) == (D("0.00"), ())
    lines, total_interest, total_compensation = claim(
        regime=UK,
        invoices=[("INV-1", D("5000.00"), dt.date(2024, 6, 15))],
        as_of=as_of,
        rates=UK_RATES,
    )
    assert (lines, total_interest, total_compensation) == ([], D("0.00"), D("0.00"))


def test_a_rate_table_that_starts_too_late_raises_an_error_naming_the_first_uncovered_day():
    with pytest.raises(ValueError, match="2024-06-16"):
        statutory_interest(
            regime=UK,
            principal=D("1000.00"),
            due_date=dt.date(2024, 6, 15),
            as_of=dt.date(2024, 7, 15),
            rates=(ReferenceRate(dt.date(2024, 7, 1), D("5.00")),),
        )


def test_an_empty_rate_table_raises_an_error_once_interest_is_due():
    with pytest.raises(ValueError, match="2024-03-02"):
        statutory_interest(
            regime=EU,
            principal=D("1000.00"),
            due_date=dt.date(2024, 3, 1),
            as_of=dt.date(2024, 3, 2),
            rates=(),
        )


def test_a_rate_table_row_that_does_not_start_a_half_year_is_rejected():
    with pytest.raises(ValueError, match="2024-03-15"):
        statutory_interest(
            regime=EU,
            principal=D("1000.00"),
            due_date=dt.date(2024, 3, 1),
            as_of=dt.date(2024, 4, 1),
            rates=(ReferenceRate(dt.date(2024, 3, 15), D("4.00")),),
        )


def test_an_unsorted_rate_table_is_read_in_date_order():
    # Same figures as the boundary test: 60.27.
    interest, _ = statutory_interest(
        regime=EU,
        principal=D("10000.00"),
        due_date=dt.date(2024, 6, 20),
        as_of=dt.date(2024, 7, 10),
        rates=tuple(reversed(EU_RATES)),
    )
    assert interest == D("60.27")


def test_a_float_principal_is_refused():
    with pytest.raises(TypeError):
        statutory_interest(
            regime=EU,
            principal=1000.0,  # type: ignore[arg-type]
            due_date=dt.date(2024, 3, 1),
            as_of=dt.date(2024, 4, 1),
            rates=EU_RATES,
        )


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ("0.01", "40.00"),
        ("999.99", "40.00"),
        ("1000.00", "70.00"),
        ("9999.99", "70.00"),
        ("10000.00", "100.00"),
        ("250000.00", "100.00"),
    ],
)
def test_uk_compensation_follows_the_forty_seventy_hundred_pound_bands(principal, expected):
    assert fixed_compensation(regime=UK, principal=D(principal)) == D(expected)


@pytest.mark.parametrize("principal", ["0.01", "999.99", "10000.00", "250000.00"])
def test_eu_compensation_is_forty_euros_whatever_the_size_of_the_invoice(principal):
    assert fixed_compensation(regime=EU, principal=D(principal)) == D("40.00")


def test_a_uk_claim_over_several_invoices_totals_its_lines_and_leaves_out_those_not_yet_due():
    # As of 31 Jul 2024, reference 5.00 to 30 Jun and 4.00 from 1 Jul (13% then 12%):
    # INV-1: 500.00 due 1 Jul, 2-31 Jul = 30 days at 12%: 500 x 0.12 x 30 / 365 = 1800 / 365
    #        = 4.9315... -> 4.93; compensation 40 (under 1,000)
    # INV-2: 2000.00 due 15 Jun, 16-30 Jun = 15 days at 13%: 3900 / 365 = 10.6849...
    #        plus 1-31 Jul = 31 days at 12%: 7440 / 365 = 20.3835...
    #        total 11340 / 365 = 31.0684... -> 31.07 over 46 days; compensation 70
    # INV-3: 12000.00 due 15 Aug: not yet due, left out
    # INV-4: 10000.00 due 30 Jul, 31 Jul = 1 day at 12%: 1200 / 365 = 3.2876... -> 3.29;
    #        compensation 100
    # Interest 4.93 + 31.07 + 3.29 = 39.29; compensation 40 + 70 + 100 = 210.00
    lines, total_interest, total_compensation = claim(
        regime=UK,
        invoices=[
            ("INV-1", D("500.00"), dt.date(2024, 7, 1)),
            ("INV-2", D("2000.00"), dt.date(2024, 6, 15)),
            ("INV-3", D("12000.00"), dt.date(2024, 8, 15)),
            ("INV-4", D("10000.00"), dt.date(2024, 7, 30)),
        ],
        as_of=dt.date(2024, 7, 31),
        rates=UK_RATES,
    )
    assert [
        (line.invoice_number, line.days, line.interest, line.compensation) for line in lines
    ] == [
        ("INV-1", 30, D("4.93"), D("40.00")),
        ("INV-2", 46, D("31.07"), D("70.00")),
        ("INV-4", 1, D("3.29"), D("100.00")),
    ]
    assert [len(line.periods) for line in lines] == [1, 2, 1]
    assert lines[1].principal == D("2000.00")
    assert lines[1].due_date == dt.date(2024, 6, 15)
    assert total_interest == D("39.29") == sum(line.interest for line in lines)
    assert total_compensation == D("210.00") == sum(line.compensation for line in lines)


@pytest.mark.parametrize("table", [ECB_MAIN_REFINANCING_RATES, BOE_BASE_RATES])
def test_the_shipped_rate_tables_are_sorted_half_yearly_without_gaps(table):
    dates = [row.valid_from for row in table]
    assert dates[0] <= dt.date(2019, 1, 1)
    assert dates[-1] >= dt.date(2026, 7, 1)
    for row in table:
        assert row.valid_from.day == 1 and row.valid_from.month in (1, 7)
        assert isinstance(row.rate, Decimal) and row.rate >= 0
    for earlier, later in zip(dates, dates[1:], strict=False):
        expected = (
            dt.date(earlier.year, 7, 1) if earlier.month == 1 else dt.date(earlier.year + 1, 1, 1)
        )
        assert later == expected


@pytest.mark.parametrize(
    ("regime", "table"), [(EU, ECB_MAIN_REFINANCING_RATES), (UK, BOE_BASE_RATES)]
)
def test_the_shipped_rate_tables_price_a_debt_spanning_their_whole_range(regime, table):
    interest, periods = statutory_interest(
        regime=regime,
        principal=D("1000.00"),
        due_date=dt.date(2018, 12, 31),
        as_of=dt.date(2026, 12, 31),
        rates=table,
    )
    assert len(periods) == len(table)
    assert interest > 0
