"""Statutory interest and compensation: hand-computed figures on small custom rate tables.

Day count is actual/365; simple interest: principal x (reference + margin)% x days / 365.
"""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from letters.interest import (
    BOE_BASE_RATES,
    BUNDESBANK_BASE_RATES,
    DE,
    ECB_MAIN_REFINANCING_RATES,
    EU,
    REGIMES,
    TERMS,
    UK,
    Applied,
    Debt,
    InterestPeriod,
    ReferenceRate,
    audience,
    balance_interest,
    claim,
    contractual,
    fixed_compensation,
    invoice_claim,
    regime_applies,
    statutory_interest,
    terms_apply,
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
    # The German regime was missing (issue 16): base rate + 9 points, EUR 40 flat.
    assert REGIMES == {"eu": EU, "uk": UK, "de": DE}
    assert (EU.currency, EU.margin) == ("EUR", D("8"))
    assert (UK.currency, UK.margin) == ("GBP", D("8"))
    assert (DE.currency, DE.margin, DE.compensation_bands) == ("EUR", D("9"), ((0, D("40")),))


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
        InterestPeriod(
            dt.date(2024, 3, 2), dt.date(2024, 3, 31), D("13.00"), 30, D("10.68"), D("1000.00")
        ),
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
        InterestPeriod(
            dt.date(2024, 6, 21), dt.date(2024, 6, 30), D("12.00"), 10, D("32.88"), D("10000")
        ),
        InterestPeriod(
            dt.date(2024, 7, 1), dt.date(2024, 7, 10), D("10.00"), 10, D("27.40"), D("10000")
        ),
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
        InterestPeriod(
            dt.date(2024, 7, 1), dt.date(2024, 7, 31), D("10.00"), 31, D("8.49"), D("1000")
        ),
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
        InterestPeriod(
            dt.date(2024, 6, 30), dt.date(2024, 6, 30), D("12.00"), 1, D("0.33"), D("1000")
        ),
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
    ("regime", "table"),
    [(EU, ECB_MAIN_REFINANCING_RATES), (UK, BOE_BASE_RATES), (DE, BUNDESBANK_BASE_RATES)],
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


# --- the balance outstanding each day, paid-late invoices, German and contractual regimes ---


def test_a_part_payment_mid_period_reduces_the_balance_from_the_next_day():
    # UK, 13% (5 + 8) all March 2024. 2,000.00 due 1 Mar; 500.00 paid on 15 Mar.
    # 2-15 Mar: 14 days on 2,000 (the payment day still runs on the old balance):
    #   2000 x 0.13 x 14 / 365 = 3640 / 365 = 9.9726...
    # 16-31 Mar: 16 days on 1,500: 1500 x 0.13 x 16 / 365 = 3120 / 365 = 8.5479...
    # Total 6760 / 365 = 18.5205... -> 18.52 (today's 1,500 over all 30 days would be 16.03)
    line = invoice_claim(
        regime=UK,
        debt=Debt(
            "INV-1",
            D("2000.00"),
            dt.date(2024, 3, 1),
            (Applied(dt.date(2024, 3, 15), D("500.00")),),
        ),
        as_of=dt.date(2024, 3, 31),
        rates=UK_RATES,
    )
    assert line.interest == D("18.52")
    assert line.days == 30 and line.paid_on is None
    assert [(p.start, p.end, p.days, p.base, p.amount) for p in line.periods] == [
        (dt.date(2024, 3, 2), dt.date(2024, 3, 15), 14, D("2000.00"), D("9.97")),
        (dt.date(2024, 3, 16), dt.date(2024, 3, 31), 16, D("1500.00"), D("8.55")),
    ]
    assert line.compensation == D("70.00")  # by the 2,000 invoiced, not the 1,500 left


def test_an_invoice_paid_late_earns_interest_to_the_day_it_was_paid_in_full_and_compensation():
    # UK, 13%. 1,000.00 due 1 Mar 2024; 300.00 paid 10 Mar, the last 700.00 on 20 Mar.
    # 2-10 Mar: 9 days on 1,000: 1000 x 0.13 x 9 = 1170; 11-20 Mar: 10 days on 700: 910.
    # (1170 + 910) / 365 = 2080 / 365 = 5.6986... -> 5.70; nothing after 20 Mar although the
    # claim is made on 30 Jun. 19 days late; compensation 70 (1,000 is in the middle band).
    line = invoice_claim(
        regime=UK,
        debt=Debt(
            "INV-2",
            D("1000.00"),
            dt.date(2024, 3, 1),
            (
                Applied(dt.date(2024, 3, 20), D("700.00")),
                Applied(dt.date(2024, 3, 10), D("300.00")),
            ),
        ),
        as_of=dt.date(2024, 6, 30),
        rates=UK_RATES,
    )
    assert (line.interest, line.days, line.paid_on, line.compensation) == (
        D("5.70"),
        19,
        dt.date(2024, 3, 20),
        D("70.00"),
    )
    assert [(p.days, p.base) for p in line.periods] == [(9, D("1000.00")), (10, D("700.00"))]


def test_a_payment_on_the_first_day_late_still_leaves_that_day_on_the_full_balance():
    # UK, 13%. 2,000 due 1 Mar 2024; 500 paid on 2 Mar, the first day of interest.
    # 2 Mar: 1 day on 2,000: 2000 x 0.13 = 260; 3-31 Mar: 29 days on 1,500: 1500 x 0.13 x 29
    # = 5655; (260 + 5655) / 365 = 5915 / 365 = 16.2055... -> 16.21
    line = invoice_claim(
        regime=UK,
        debt=Debt(
            "INV-1", D("2000.00"), dt.date(2024, 3, 1), (Applied(dt.date(2024, 3, 2), D("500.00")),)
        ),
        as_of=dt.date(2024, 3, 31),
        rates=UK_RATES,
    )
    assert line.interest == D("16.21")
    assert [(p.days, p.base) for p in line.periods] == [(1, D("2000.00")), (29, D("1500.00"))]


@pytest.mark.parametrize(
    ("paid_on", "as_of"),
    [
        (dt.date(2024, 3, 1), dt.date(2024, 6, 30)),  # paid on the due date
        (dt.date(2024, 2, 20), dt.date(2024, 6, 30)),  # paid early
    ],
)
def test_an_invoice_paid_on_time_claims_nothing(paid_on, as_of):
    debt = Debt("INV-3", D("1000.00"), dt.date(2024, 3, 1), (Applied(paid_on, D("1000.00")),))
    assert invoice_claim(regime=UK, debt=debt, as_of=as_of, rates=UK_RATES) is None


def test_a_payment_after_the_day_of_the_claim_is_not_counted_yet():
    # Paid in full on 10 Apr, claimed as of 31 Mar: open on 31 Mar, 30 days on 1,000 at 13%:
    # 3900 / 365 = 10.6849... -> 10.68
    debt = Debt(
        "INV-4", D("1000.00"), dt.date(2024, 3, 1), (Applied(dt.date(2024, 4, 10), D("1000.00")),)
    )
    line = invoice_claim(regime=UK, debt=debt, as_of=dt.date(2024, 3, 31), rates=UK_RATES)
    assert (line.interest, line.paid_on, line.days) == (D("10.68"), None, 30)


@pytest.mark.parametrize(
    ("amount", "left", "expected"),
    [
        ("999.99", "999.99", "40.00"),
        ("1000.00", "20.00", "70.00"),
        ("9999.99", "9999.99", "70.00"),
        ("10000.00", "10000.00", "100.00"),
        ("12000.00", "500.00", "100.00"),  # the case: not 40 by the 500 left
    ],
)
def test_uk_compensation_is_banded_by_the_invoices_original_amount(amount, left, expected):
    paid = D(amount) - D(left)
    debt = Debt(
        "INV-5",
        D(amount),
        dt.date(2024, 3, 1),
        (Applied(dt.date(2024, 3, 10), paid),) if paid else (),
    )
    line = invoice_claim(regime=UK, debt=debt, as_of=dt.date(2024, 3, 31), rates=UK_RATES)
    assert line.compensation == D(expected)


def test_eu_interest_across_the_first_of_july_with_a_payment_on_the_last_day_of_june():
    # EU: 12% (4 + 8) to 30 Jun 2024, 10% (2 + 8) from 1 Jul. 10,000 due 20 Jun; 4,000 paid
    # 30 Jun, so the balance drops to 6,000 exactly at the half-year boundary.
    # 21-30 Jun: 10 days on 10,000 at 12%: 12000 / 365 = 32.8767...
    # 1-10 Jul: 10 days on 6,000 at 10%: 6000 / 365 = 16.4383...
    # Total 18000 / 365 = 49.3150... -> 49.32; compensation 40
    line = invoice_claim(
        regime=EU,
        debt=Debt(
            "INV-6",
            D("10000.00"),
            dt.date(2024, 6, 20),
            (Applied(dt.date(2024, 6, 30), D("4000.00")),),
        ),
        as_of=dt.date(2024, 7, 10),
        rates=EU_RATES,
    )
    assert line.interest == D("49.32")
    assert [(p.annual_rate, p.days, p.base, p.amount) for p in line.periods] == [
        (D("12.00"), 10, D("10000.00"), D("32.88")),
        (D("10.00"), 10, D("6000.00"), D("16.44")),
    ]
    assert line.compensation == D("40.00")


def test_german_interest_is_the_bundesbank_base_rate_plus_nine_across_a_half_year():
    # Shipped table: 2.27 from 1 Jan 2025, 1.27 from 1 Jul 2025; + 9 = 11.27% then 10.27%.
    # 3,650 due 20 Jun 2025, so a day at r% earns 3650 x r / 100 / 365 = r / 10:
    # 21-30 Jun: 10 days x 1.127 = 11.27; 1-10 Jul: 10 days x 1.027 = 10.27; total 21.54.
    # Compensation EUR 40 flat (BGB s. 288 (5)), even on a large invoice.
    line = invoice_claim(
        regime=DE,
        debt=Debt("RE-1", D("3650.00"), dt.date(2025, 6, 20)),
        as_of=dt.date(2025, 7, 10),
        rates=BUNDESBANK_BASE_RATES,
    )
    assert line.interest == D("21.54")
    assert [(p.annual_rate, p.days, p.amount) for p in line.periods] == [
        (D("11.27"), 10, D("11.27")),
        (D("10.27"), 10, D("10.27")),
    ]
    assert line.compensation == D("40.00")
    assert fixed_compensation(regime=DE, principal=D("250000.00")) == D("40.00")


def test_a_negative_german_base_rate_is_used_as_it_is():
    # 2022: -0.88 + 9 = 8.12%. 3,650 due 31 Jan 2022, as of 2 Mar: 1-28 Feb + 1-2 Mar = 30
    # days x 0.812 = 24.36
    interest, periods = statutory_interest(
        regime=DE,
        principal=D("3650.00"),
        due_date=dt.date(2022, 1, 31),
        as_of=dt.date(2022, 3, 2),
        rates=BUNDESBANK_BASE_RATES,
    )
    assert interest == D("24.36")
    assert [(p.annual_rate, p.days) for p in periods] == [(D("8.12"), 30)]


def test_the_shipped_german_table_runs_half_yearly_from_2019_with_the_published_values():
    rates = {row.valid_from: row.rate for row in BUNDESBANK_BASE_RATES}
    assert rates[dt.date(2019, 1, 1)] == rates[dt.date(2022, 7, 1)] == D("-0.88")
    assert [
        rates[dt.date(y, m, 1)]
        for y, m in ((2023, 1), (2023, 7), (2024, 1), (2024, 7), (2025, 1), (2025, 7))
    ] == [
        D("1.62"),
        D("3.12"),
        D("3.62"),
        D("3.37"),
        D("2.27"),
        D("1.27"),
    ]
    assert len(rates) == 16 and max(rates) == dt.date(2026, 7, 1)


def test_contractual_interest_at_a_fixed_rate_on_the_balance_with_a_fee_per_late_invoice():
    # Terms: 12% a year and a USD 25 fee per late invoice. 1,000 due 1 Mar 2024; 400 paid
    # 11 Mar. 2-11 Mar: 10 days on 1,000: 1000 x 0.12 x 10 = 1200;
    # 12-31 Mar: 20 days on 600: 600 x 0.12 x 20 = 1440; 2640 / 365 = 7.2328... -> 7.23
    terms = contractual(name="terms", currency="USD", rate=D("12"), fee=D("25.00"))
    line = invoice_claim(
        regime=terms,
        debt=Debt(
            "US-1", D("1000.00"), dt.date(2024, 3, 1), (Applied(dt.date(2024, 3, 11), D("400.00")),)
        ),
        as_of=dt.date(2024, 3, 31),
        rates=(),
    )
    assert (line.interest, line.compensation) == (D("7.23"), D("25.00"))
    assert [(p.annual_rate, p.days, p.base) for p in line.periods] == [
        (D("12"), 10, D("1000.00")),
        (D("12"), 20, D("600.00")),
    ]
    assert (terms.code, terms.statutory, terms.currency) == (TERMS, False, "USD")


def test_a_contractual_rate_needs_no_rate_table_and_does_not_split_at_the_first_of_july():
    # 21 Jun-10 Jul 2024 = 20 days at 12%: 1000 x 0.12 x 20 / 365 = 2400 / 365 = 6.5753 -> 6.58
    terms = contractual(name="terms", currency="USD", rate=D("12"), fee=None)
    interest, periods = balance_interest(
        regime=terms,
        principal=D("1000.00"),
        due_date=dt.date(2024, 6, 20),
        until=dt.date(2024, 7, 10),
    )
    assert interest == D("6.58") and len(periods) == 1
    assert fixed_compensation(regime=terms, principal=D("1000.00")) == D("0.00")


def test_a_fee_only_contract_charges_the_fee_and_no_interest():
    terms = contractual(name="terms", currency="USD", rate=None, fee=D("15.00"))
    lines, interest, fees = claim(
        regime=terms,
        invoices=[
            ("US-2", D("80.00"), dt.date(2024, 3, 1)),
            ("US-3", D("80.00"), dt.date(2024, 4, 1)),
        ],
        as_of=dt.date(2024, 3, 31),
        rates=(),
    )
    assert [(line.invoice_number, line.interest, line.periods) for line in lines] == [
        ("US-2", D("0.00"), ())
    ]
    assert (interest, fees) == (D("0.00"), D("15.00"))


def test_a_claim_over_open_paid_late_and_paid_on_time_invoices():
    # UK, 13% in March 2024, as of 31 Mar:
    # A 500 open, due 21 Mar: 10 days: 500 x 0.13 x 10 / 365 = 650 / 365 = 1.7808 -> 1.78; 40
    # B 1,500 paid in full 11 Mar, due 1 Mar: 10 days: 1950 / 365 = 5.3424 -> 5.34; 70
    # C 800 paid on its due date: nothing
    # Interest 1.78 + 5.34 = 7.12; compensation 40 + 70 = 110
    lines, interest, compensation = claim(
        regime=UK,
        invoices=[
            Debt("A", D("500.00"), dt.date(2024, 3, 21)),
            Debt(
                "B",
                D("1500.00"),
                dt.date(2024, 3, 1),
                (Applied(dt.date(2024, 3, 11), D("1500.00")),),
            ),
            Debt(
                "C", D("800.00"), dt.date(2024, 3, 5), (Applied(dt.date(2024, 3, 5), D("800.00")),)
            ),
        ],
        as_of=dt.date(2024, 3, 31),
        rates=UK_RATES,
    )
    assert [(x.invoice_number, x.days, x.interest, x.compensation, x.paid_on) for x in lines] == [
        ("A", 10, D("1.78"), D("40.00"), None),
        ("B", 10, D("5.34"), D("70.00"), dt.date(2024, 3, 11)),
    ]
    assert (interest, compensation) == (D("7.12"), D("110.00"))


@pytest.mark.parametrize(
    ("code", "debtor", "currency", "expected"),
    [
        ("uk", "business", "GBP", None),
        ("uk", "sole_trader", "GBP", None),
        ("eu", "business", "EUR", None),
        ("de", "sole_trader", "EUR", None),
        ("uk", "consumer", "GBP", "applies between businesses only; this customer is a consumer"),
        ("de", "consumer", "EUR", "applies between businesses only; this customer is a consumer"),
        ("uk", "business", "EUR", "is claimed in GBP only; this customer is billed in EUR"),
        ("eu", "business", "USD", "is claimed in EUR only; this customer is billed in USD"),
        ("de", "business", "GBP", "is claimed in EUR only; this customer is billed in GBP"),
    ],
)
def test_a_statutory_regime_applies_only_to_businesses_billed_in_its_currency(
    code, debtor, currency, expected
):
    reason = regime_applies(code, debtor, currency)
    if expected is None:
        assert reason is None
    else:
        assert expected in reason and REGIMES[code].name in reason


def test_a_german_consumer_billed_in_euros_on_a_uk_policy_is_refused_as_a_consumer_first():
    # The case: a consumer is never charged, whatever the currency.
    assert "consumer" in regime_applies("uk", "consumer", "EUR")


@pytest.mark.parametrize(
    ("accepted", "rate", "fee", "applies"),
    [
        (dt.date(2024, 1, 5), D("12"), None, True),
        (dt.date(2024, 1, 5), None, D("25.00"), True),
        (None, D("12"), D("25.00"), False),  # terms never accepted
        (dt.date(2024, 1, 5), None, None, False),  # accepted, but no charges in them
        (dt.date(2024, 1, 5), D("0"), D("0.00"), False),
    ],
)
def test_contractual_charges_need_accepted_terms_that_give_a_rate_or_a_fee(
    accepted, rate, fee, applies
):
    assert (terms_apply(accepted_on=accepted, rate=rate, fee=fee) is None) is applies


def test_the_audience_of_a_regime_says_who_may_be_charged():
    assert audience("uk") == "Claimed only from business and sole-trader customers billed in GBP."
    assert audience("de").endswith("billed in EUR.")
