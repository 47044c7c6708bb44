import datetime as dt
from decimal import Decimal

import pytest

from dunning.calls import call_log
from dunning.models import CallOutcome, HoldStatus, PolicyStep, PromiseToPay, Touch, TouchStatus
from dunning.services import promise_record, promises_settle
from invoices.models import DisputeStatus
from invoices.services import credit_note_issue, dispute_open, dispute_resolve, payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.metrics import (
    collector_results,
    countback_dso,
    currencies_in_use,
    disputes_by_reason,
    month_ends,
    monthly_figures,
    promise_kept_rate,
    step_effectiveness,
)

pytestmark = pytest.mark.django_db

D = Decimal
JAN_31 = dt.date(2026, 1, 31)
FEB_28 = dt.date(2026, 2, 28)
MAR_20 = dt.date(2026, 3, 20)
MAR_31 = dt.date(2026, 3, 31)


def invoice(issued, amount, *, due=None, customer=None, currency="GBP"):
    return InvoiceFactory(
        customer=customer or CustomerFactory(currency=currency),
        issue_date=issued,
        due_date=due or issued + dt.timedelta(days=30),
        amount=D(amount),
    )


def pay(inv, amount, on):
    return payment_record(
        actor=None,
        customer=inv.customer,
        amount=D(amount),
        received_on=on,
        allocations=[(inv, D(amount))],
    )


def credit(inv, amount, on):
    return credit_note_issue(actor=None, invoice=inv, amount=D(amount), reason="x", issued_on=on)


def month(figures, end):
    [found] = [f for f in figures if f.month_end == end]
    return found


# --- month ends -------------------------------------------------------------------------


def test_the_month_of_as_of_ends_on_as_of():
    assert month_ends(dt.date(2026, 3, 15), months=3) == [JAN_31, FEB_28, dt.date(2026, 3, 15)]


def test_a_whole_year_of_month_ends_runs_oldest_first():
    ends = month_ends(MAR_31)

    assert (len(ends), ends[0], ends[-1]) == (12, dt.date(2025, 4, 30), MAR_31)


# --- DSO, best possible DSO, ADD, CEI -----------------------------------------------------


def test_dso_counts_partial_payments_and_credits_against_the_month_s_sales():
    inv = invoice(dt.date(2026, 1, 10), "1000.00")
    pay(inv, "300.00", dt.date(2026, 1, 20))
    credit(inv, "100.00", dt.date(2026, 1, 25))

    jan = month(monthly_figures(as_of=JAN_31, currency="GBP"), JAN_31)

    # AR 1000 - 300 - 100 = 600 on sales of 1000 over 31 days: 600 / 1000 x 31 = 18.6
    assert (jan.credit_sales, jan.ar_close, jan.dso) == (D("1000.00"), D("600.00"), D("18.6"))


def test_a_payment_on_the_month_s_last_day_is_out_of_that_month_s_ar():
    paid = invoice(dt.date(2026, 1, 5), "500.00")
    invoice(dt.date(2026, 1, 15), "500.00")
    pay(paid, "500.00", JAN_31)

    jan = month(monthly_figures(as_of=FEB_28, currency="GBP"), JAN_31)

    # AR 1000 - 500 = 500 on sales of 1000: 500 / 1000 x 31 = 15.5
    assert (jan.ar_close, jan.dso) == (D("500.00"), D("15.5"))


def test_a_payment_the_day_after_month_end_counts_in_the_next_month():
    inv = invoice(dt.date(2026, 1, 5), "500.00")
    pay(inv, "500.00", dt.date(2026, 2, 1))

    figures = monthly_figures(as_of=FEB_28, currency="GBP")

    assert (month(figures, JAN_31).ar_close, month(figures, FEB_28).ar_close) == (
        D("500.00"),
        D("0.00"),
    )


def test_an_invoice_issued_and_paid_within_the_month_is_a_sale_but_not_ar():
    invoice(dt.date(2026, 2, 1), "700.00")
    settled = invoice(dt.date(2026, 2, 3), "300.00")
    pay(settled, "300.00", dt.date(2026, 2, 20))

    feb = month(monthly_figures(as_of=FEB_28, currency="GBP"), FEB_28)

    # sales 700 + 300 = 1000; AR 700: 700 / 1000 x 28 = 19.6
    assert (feb.credit_sales, feb.ar_close, feb.dso) == (D("1000.00"), D("700.00"), D("19.6"))


def test_best_possible_dso_counts_only_ar_not_yet_due_and_add_is_the_difference():
    late = invoice(dt.date(2026, 1, 10), "1000.00", due=dt.date(2026, 2, 9))
    invoice(dt.date(2026, 2, 15), "500.00", due=FEB_28)  # due on month end: still current
    pay(late, "600.00", dt.date(2026, 2, 20))

    feb = month(monthly_figures(as_of=FEB_28, currency="GBP"), FEB_28)

    # AR 400 overdue + 500 current = 900 on sales of 500 over 28 days:
    # DSO 900 / 500 x 28 = 50.4; best 500 / 500 x 28 = 28.0; ADD 50.4 - 28.0 = 22.4
    assert (feb.ar_close, feb.ar_current) == (D("900.00"), D("500.00"))
    assert (feb.dso, feb.best_dso, feb.add) == (D("50.4"), D("28.0"), D("22.4"))


def test_cei_starts_from_the_opening_ar():
    late = invoice(dt.date(2026, 1, 10), "1000.00", due=dt.date(2026, 2, 9))
    invoice(dt.date(2026, 2, 15), "500.00", due=dt.date(2026, 3, 17))
    pay(late, "600.00", dt.date(2026, 2, 20))

    feb = month(monthly_figures(as_of=FEB_28, currency="GBP"), FEB_28)

    # opening 1000, sales 500, closing 900 of which 500 current:
    # (1000 + 500 - 900) / (1000 + 500 - 500) x 100 = 600 / 1000 x 100 = 60.0
    assert (feb.ar_open, feb.cei) == (D("1000.00"), D("60.0"))


def test_a_month_without_sales_has_no_dso_but_still_a_countback_and_cei():
    invoice(dt.date(2026, 1, 10), "1000.00", due=dt.date(2026, 2, 9))

    feb = month(monthly_figures(as_of=FEB_28, currency="GBP"), FEB_28)

    # No sales: DSO, best and ADD have no denominator. Countback: February absorbs nothing
    # (28 days), January's 1000 absorbs 1000: 28 + 1000 / 1000 x 31 = 59.0.
    # CEI: (1000 + 0 - 1000) / (1000 + 0 - 0) x 100 = 0.0
    assert (feb.dso, feb.best_dso, feb.add) == (None, None, None)
    assert (feb.countback_dso, feb.cei) == (D("59.0"), D("0.0"))


def test_an_empty_ledger_gives_no_figures_rather_than_zeros():
    [only] = monthly_figures(as_of=JAN_31, currency="GBP", months=1)

    assert (only.dso, only.countback_dso, only.best_dso, only.add, only.cei) == (None,) * 5


def test_countback_takes_away_each_month_s_sales_going_back():
    jan = invoice(dt.date(2026, 1, 10), "200.00", due=dt.date(2026, 4, 30))
    invoice(dt.date(2026, 2, 10), "100.00")
    invoice(dt.date(2026, 3, 10), "100.00")
    pay(jan, "150.00", dt.date(2026, 3, 5))

    mar = month(monthly_figures(as_of=MAR_31, currency="GBP"), MAR_31)

    # AR 50 + 100 + 100 = 250. March's 100 (31 days) leaves 150, February's 100 (28 days)
    # leaves 50, January's 200 takes it: 50 / 200 x 31 = 7.75. 31 + 28 + 7.75 = 66.75
    # Standard DSO for comparison: 250 / 100 x 31 = 77.5
    assert (mar.ar_close, mar.countback_dso, mar.dso) == (D("250.00"), D("66.8"), D("77.5"))


def test_countback_of_an_ar_within_the_month_s_sales_is_a_fraction_of_the_month():
    sales = {dt.date(2026, 3, 1): D("400")}

    # 100 / 400 x 31 = 7.75
    assert countback_dso(D("100"), sales, MAR_31) == D("7.75")


def test_the_month_to_date_counts_its_days_so_far():
    invoice(dt.date(2026, 3, 1), "300.00")

    [mtd] = monthly_figures(as_of=dt.date(2026, 3, 15), currency="GBP", months=1)

    # 300 / 300 x 15 days so far = 15.0
    assert (mtd.month_end, mtd.days, mtd.dso) == (dt.date(2026, 3, 15), 15, D("15.0"))


def test_it_never_adds_two_currencies():
    invoice(dt.date(2026, 1, 10), "100.00", currency="GBP")
    invoice(dt.date(2026, 1, 10), "200.00", currency="EUR")

    gbp = month(monthly_figures(as_of=JAN_31, currency="GBP"), JAN_31)
    eur = month(monthly_figures(as_of=JAN_31, currency="EUR"), JAN_31)

    assert (gbp.credit_sales, gbp.ar_close) == (D("100.00"), D("100.00"))
    assert (eur.credit_sales, eur.ar_close) == (D("200.00"), D("200.00"))


def test_the_currencies_in_use_are_those_invoiced():
    invoice(dt.date(2026, 1, 10), "100.00", currency="GBP")
    invoice(dt.date(2026, 1, 10), "200.00", currency="EUR")
    CustomerFactory(currency="USD")  # no invoices

    assert currencies_in_use() == ["EUR", "GBP"]


def test_figures_for_a_collector_count_only_their_customers(collector):
    invoice(dt.date(2026, 1, 10), "100.00", customer=CustomerFactory(collector=collector))
    invoice(dt.date(2026, 1, 10), "900.00")

    jan = month(monthly_figures(as_of=JAN_31, currency="GBP", collector_id=collector.pk), JAN_31)

    assert (jan.credit_sales, jan.ar_close) == (D("100.00"), D("100.00"))


def test_an_invoice_settled_before_the_first_month_weighs_nothing():
    old = invoice(dt.date(2025, 1, 10), "800.00")
    pay(old, "800.00", dt.date(2025, 2, 1))
    invoice(dt.date(2026, 1, 10), "100.00")

    jan = month(monthly_figures(as_of=JAN_31, currency="GBP"), JAN_31)

    # AR: 800 - 800 + 100 = 100; opening (31 Dec) 0
    assert (jan.ar_open, jan.ar_close) == (D("0.00"), D("100.00"))


def test_an_invoice_paid_after_the_first_month_opened_stays_in_the_opening_ar():
    old = invoice(dt.date(2025, 12, 10), "800.00")
    pay(old, "800.00", dt.date(2026, 1, 5))

    jan = month(monthly_figures(as_of=JAN_31, currency="GBP", months=1), JAN_31)

    # opening (31 Dec) 800, closing 0, no sales: CEI (800 - 0) / (800 - 0) x 100 = 100.0
    assert (jan.ar_open, jan.ar_close, jan.cei) == (D("800.00"), D("0.00"), D("100.0"))


# --- promises ---------------------------------------------------------------------------


def promise(invoice, *, amount, promised_for, made_on):
    return promise_record(
        actor=None,
        customer=invoice.customer,
        invoices=[invoice],
        amount=D(amount),
        promised_for=promised_for,
        made_on=made_on,
        grace_days=0,
    )


def test_the_promise_kept_rate_is_kept_out_of_kept_and_broken_falling_due_in_the_period():
    kept = invoice(dt.date(2026, 2, 1), "100.00")
    promise(kept, amount="100.00", promised_for=dt.date(2026, 3, 10), made_on=FEB_28)
    pay(kept, "100.00", dt.date(2026, 3, 9))
    broken = invoice(dt.date(2026, 2, 1), "100.00")
    promise(broken, amount="100.00", promised_for=dt.date(2026, 3, 12), made_on=FEB_28)
    later = invoice(dt.date(2026, 2, 1), "100.00")
    promise(later, amount="100.00", promised_for=dt.date(2026, 4, 10), made_on=MAR_20)
    promises_settle(on=dt.date(2026, 3, 20))

    result = promise_kept_rate(start=dt.date(2026, 3, 1), end=MAR_31)

    # kept 1, broken 1 (the April promise falls due later): 1 / 2 x 100 = 50.0
    assert result == {"kept": 1, "broken": 1, "open": 0, "cancelled": 0, "rate": D("50.0")}


def test_without_settled_promises_there_is_no_kept_rate():
    result = promise_kept_rate(start=dt.date(2026, 3, 1), end=MAR_31)

    assert (result["kept"], result["broken"], result["rate"]) == (0, 0, None)


# --- disputes ---------------------------------------------------------------------------


def test_disputes_are_counted_by_reason_with_their_days_to_resolve():
    first = invoice(dt.date(2026, 2, 1), "100.00")
    second = invoice(dt.date(2026, 2, 1), "50.00", currency="EUR")
    third = invoice(dt.date(2026, 2, 1), "80.00")
    a = dispute_open(actor=None, invoice=first, reason="pricing", opened_on=dt.date(2026, 3, 1))
    b = dispute_open(actor=None, invoice=second, reason="pricing", opened_on=dt.date(2026, 3, 5))
    dispute_open(actor=None, invoice=third, reason="quality", opened_on=dt.date(2026, 3, 20))
    for dispute, day in ((a, 11), (b, 9)):
        dispute_resolve(
            actor=None,
            dispute=dispute,
            outcome=DisputeStatus.RESOLVED_FOR_US,
            resolved_on=dt.date(2026, 3, day),
        )

    rows = disputes_by_reason(start=dt.date(2026, 3, 1), end=MAR_31)

    # pricing: 10 days (1 to 11 March) and 4 days (5 to 9 March): (10 + 4) / 2 = 7.0
    assert [
        (r["reason"], r["opened"], r["resolved"], r["open_now"], r["avg_days_to_resolve"])
        for r in rows
    ] == [("pricing", 2, 2, 0, D("7.0")), ("quality", 1, 0, 1, None)]
    assert rows[0]["amount"] == {"EUR": D("50.00"), "GBP": D("100.00")}
    assert rows[0]["label"] == "Pricing or rate"


def test_a_dispute_opened_before_the_period_and_still_open_counts_as_open_only():
    inv = invoice(dt.date(2026, 1, 1), "100.00")
    dispute_open(actor=None, invoice=inv, reason="no_po", opened_on=dt.date(2026, 1, 15))

    [row] = disputes_by_reason(start=dt.date(2026, 3, 1), end=MAR_31)

    assert (row["reason"], row["opened"], row["open_now"], row["amount"]) == ("no_po", 0, 1, {})


# --- ladder steps -----------------------------------------------------------------------


@pytest.fixture
def step():
    """The second step of the default ladder (the migration ships it)."""
    return PolicyStep.objects.filter(version__policy__name="Standard").order_by("position")[1]


def touch(customer, step, on: dt.date):
    at = dt.datetime.combine(on, dt.time(10), tzinfo=dt.UTC)
    return Touch.objects.create(
        key=f"{customer.pk}:{step.pk}:{on}",
        customer=customer,
        step=step,
        channel=step.channel,
        status=TouchStatus.SENT,
        scheduled_for=at,
        sent_at=at,
        currency=customer.currency,
    )


def test_a_payment_within_fourteen_days_of_a_touch_counts_for_its_step(step):
    quick = invoice(dt.date(2026, 1, 1), "100.00")
    slow = invoice(dt.date(2026, 1, 1), "100.00")
    touch(quick.customer, step, dt.date(2026, 3, 2))
    touch(slow.customer, step, dt.date(2026, 3, 2))
    pay(quick, "60.00", dt.date(2026, 3, 12))  # 10 days after: counts
    pay(slow, "100.00", dt.date(2026, 3, 22))  # 20 days after: does not

    [row] = step_effectiveness(start=dt.date(2026, 3, 1), end=MAR_31)

    # 2 touches to 2 customers; 60 collected; 1 of 2 touches followed by payment: 50.0
    assert (row["position"], row["step"]) == (step.position, step.name)
    assert (row["touches"], row["customers"], row["collected"]) == (2, 2, {"GBP": D("60.00")})
    assert (row["paid"], row["paid_share"]) == (1, D("50.0"))


def test_credits_and_payments_on_the_day_of_the_touch_are_not_collected_after_it(step):
    inv = invoice(dt.date(2026, 1, 1), "100.00")
    touch(inv.customer, step, dt.date(2026, 3, 2))
    pay(inv, "30.00", dt.date(2026, 3, 2))
    credit(inv, "20.00", dt.date(2026, 3, 5))

    [row] = step_effectiveness(start=dt.date(2026, 3, 1), end=MAR_31)

    assert (row["collected"], row["paid"], row["paid_share"]) == ({}, 0, D("0.0"))


# --- collectors -------------------------------------------------------------------------


def test_collector_results_count_payments_not_credits_and_what_was_overdue_at_the_end(
    collector,
):
    mine = invoice(
        dt.date(2026, 1, 1),
        "1000.00",
        due=dt.date(2026, 2, 1),
        customer=CustomerFactory(collector=collector),
    )
    pay(mine, "400.00", dt.date(2026, 3, 10))
    credit(mine, "100.00", dt.date(2026, 3, 12))
    theirs = invoice(dt.date(2026, 2, 1), "200.00", due=dt.date(2026, 3, 1))
    pay(theirs, "200.00", dt.date(2026, 4, 5))  # after the period: still overdue on 31 March

    rows = collector_results(start=dt.date(2026, 3, 1), end=MAR_31)

    # mine: overdue 1000 - 400 - 100 = 500, collected 400 (the 100 credit is not collected)
    assert [(r["name"], r["customers"], r["overdue"], r["collected"]) for r in rows] == [
        ("colin", 1, {"GBP": D("500.00")}, {"GBP": D("400.00")}),
        ("Unassigned", 1, {"GBP": D("200.00")}, {}),
    ]


def test_collector_results_count_calls_and_promises(collector):
    customer = CustomerFactory(collector=collector)
    invoice(dt.date(2026, 1, 1), "100.00", customer=customer)
    call_log(
        actor=collector,
        customer=customer,
        at=dt.datetime(2026, 3, 16, 10, tzinfo=dt.UTC),
        outcome=CallOutcome.PROMISE,
        promise_amount=D("100.00"),
        promise_date=dt.date(2026, 3, 20),
    )
    PromiseToPay.objects.filter(customer=customer).update(status=HoldStatus.BROKEN)

    [row] = collector_results(start=dt.date(2026, 3, 1), end=MAR_31)

    assert (row["calls"], row["promises_made"], row["promises_kept"]) == (1, 1, 0)
    assert row["promises_broken"] == 1
