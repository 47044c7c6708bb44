"""The interest a message claims, read from the ledger: who may be charged, the balance day by
day from the payments recorded, invoices already paid late, and the reason when nothing is.

Figures use the shipped rate tables. A principal of 3,650.00 earns r / 10 a day at r percent
a year (3650 x r / 100 / 365), which keeps the arithmetic in the comments short:
Bank Rate 5.25 all 2024 (UK 13.25%); ECB 4.25 in H2 2024, 3.15 in H1 2025 (EU 12.25%, 11.15%);
Bundesbank 3.37 in H2 2024, 2.27 in H1 2025 (Germany 12.37%, 11.27%)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoices.models import DebtorType
from invoices.services import credit_note_issue, payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from letters.claims import claim_record
from letters.context import invoice_line
from letters.render import context_build

pytestmark = pytest.mark.django_db
D = Decimal


def pay(invoice, amount: str, on: dt.date):
    payment_record(
        actor=None,
        customer=invoice.customer,
        amount=D(amount),
        received_on=on,
        allocations=[(invoice, D(amount))],
    )
    invoice.refresh_from_db()


def lines_of(*invoices, today):
    return [
        invoice_line(
            number=i.number,
            due_date=i.due_date,
            balance=i.open_balance,
            amount=i.amount,
            today=today,
        )
        for i in invoices
    ]


def invoice(customer, amount: str, due: dt.date, **fields):
    return InvoiceFactory(
        customer=customer,
        amount=D(amount),
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        **fields,
    )


def test_part_payments_are_honoured_day_by_day_and_each_segment_shows_its_base():
    # UK, 13.25%. 3,650.00 due 1 Mar 2024; 1,825.00 paid 11 Mar; claimed 31 Mar.
    # 2-11 Mar: 10 days on 3,650 = 10 x 1.325 = 13.25
    # 12-31 Mar: 20 days on 1,825 = 20 x 0.6625 = 13.25
    # Interest 26.50 (the old method, 1,825 over all 30 days, said 19.88); compensation 70
    # by the 3,650 invoiced.
    customer = CustomerFactory()
    open_one = invoice(customer, "3650.00", dt.date(2024, 3, 1))
    pay(open_one, "1825.00", dt.date(2024, 3, 11))
    today = dt.date(2024, 3, 31)

    record = claim_record(
        customer=customer, regime="uk", lines=lines_of(open_one, today=today), today=today
    )

    assert record["enabled"] and record["statutory"] and record["reason"] == ""
    assert (record["total"], record["compensation"]) == (D("26.50"), D("70.00"))
    [line] = record["lines"]
    assert (line["invoice_number"], line["days"], line["rate"], line["amount"]) == (
        open_one.number,
        30,
        D("13.25"),
        D("3650.00"),
    )
    assert [
        (p["start"], p["end"], p["days"], p["base"], p["interest"]) for p in line["periods"]
    ] == [
        (dt.date(2024, 3, 2), dt.date(2024, 3, 11), 10, D("3650.00"), D("13.25")),
        (dt.date(2024, 3, 12), dt.date(2024, 3, 31), 20, D("1825.00"), D("13.25")),
    ]
    assert record["paid_late"] == () and record["paid_late_total"] == D("0.00")


def test_an_invoice_paid_late_during_the_chase_is_claimed_to_its_payment_day():
    # Covered: 3,650 due 1 Mar 2024, open; 20 days to 21 Mar: 20 x 1.325 = 26.50; 70.
    # Paid late: 730.00 due 15 Feb, paid in full 6 Mar (after the covered invoice fell due):
    #   16 Feb-6 Mar = 14 + 6 = 20 days on 730: 730 x 0.1325 x 20 / 365 = 5.30; compensation 40
    # Paid on time: 500.00 due 10 Mar, paid 8 Mar: nothing.
    customer = CustomerFactory()
    covered = invoice(customer, "3650.00", dt.date(2024, 3, 1))
    late = invoice(customer, "730.00", dt.date(2024, 2, 15))
    pay(late, "730.00", dt.date(2024, 3, 6))
    on_time = invoice(customer, "500.00", dt.date(2024, 3, 10))
    pay(on_time, "500.00", dt.date(2024, 3, 8))
    today = dt.date(2024, 3, 21)

    record = claim_record(
        customer=customer, regime="uk", lines=lines_of(covered, today=today), today=today
    )

    assert [(x["invoice_number"], x["interest"]) for x in record["lines"]] == [
        (covered.number, D("26.50"))
    ]
    [paid] = record["paid_late"]
    assert (paid["invoice_number"], paid["days"], paid["paid_on"]) == (
        late.number,
        20,
        dt.date(2024, 3, 6),
    )
    assert (paid["interest"], paid["compensation"]) == (D("5.30"), D("40.00"))
    assert (record["paid_late_interest"], record["paid_late_compensation"]) == (
        D("5.30"),
        D("40.00"),
    )
    assert record["paid_late_total"] == D("45.30")
    # The open invoices' totals stay apart from what is owed on those already paid.
    assert (record["total"], record["compensation"]) == (D("26.50"), D("70.00"))


def test_invoices_paid_late_before_the_chase_began_are_claimed_only_when_asked():
    # 730.00 due 1 Feb 2024, paid 21 Feb: 20 days on 730 = 5.30 and 40, closed before the
    # covered invoice fell due on 1 Mar.
    customer = CustomerFactory()
    covered = invoice(customer, "3650.00", dt.date(2024, 3, 1))
    earlier = invoice(customer, "730.00", dt.date(2024, 2, 1))
    pay(earlier, "730.00", dt.date(2024, 2, 21))
    today = dt.date(2024, 3, 21)
    lines = lines_of(covered, today=today)

    default = claim_record(customer=customer, regime="uk", lines=lines, today=today)
    asked = claim_record(
        customer=customer,
        regime="uk",
        lines=lines,
        today=today,
        paid_late_since=dt.date(2024, 1, 1),
    )

    assert default["paid_late"] == ()
    assert [(x["invoice_number"], x["interest"]) for x in asked["paid_late"]] == [
        (earlier.number, D("5.30"))
    ]
    assert asked["paid_late_total"] == D("45.30")


def test_a_twelve_thousand_pound_invoice_with_five_hundred_left_gets_the_hundred_pound_band():
    # 11,500 paid on the due date, 1 Mar 2024, so only 500 runs late:
    # 2-31 Mar: 30 days on 500 at 13.25%: 500 x 0.1325 x 30 / 365 = 1987.5 / 365 = 5.4452 -> 5.45
    # Compensation by the 12,000 invoiced: 100, not the 40 the balance would give.
    customer = CustomerFactory()
    big = invoice(customer, "12000.00", dt.date(2024, 3, 1))
    pay(big, "11500.00", dt.date(2024, 3, 1))
    today = dt.date(2024, 3, 31)

    record = claim_record(
        customer=customer, regime="uk", lines=lines_of(big, today=today), today=today
    )

    assert (record["total"], record["compensation"]) == (D("5.45"), D("100.00"))


def test_a_corrective_credit_note_comes_off_the_invoice_from_the_start():
    # 1,000 invoiced, 400 credited (a pricing correction) on 20 Mar: the debt was 600 all along.
    # 2-31 Mar 2024: 30 days on 600 at 13.25%: 600 x 0.1325 x 30 / 365 = 2385 / 365 = 6.5342
    # -> 6.53; compensation by the 600 owed: 40.
    customer = CustomerFactory()
    corrected = invoice(customer, "1000.00", dt.date(2024, 3, 1))
    credit_note_issue(
        actor=None,
        invoice=corrected,
        amount=D("400.00"),
        reason="Price agreed was lower",
        issued_on=dt.date(2024, 3, 20),
    )
    corrected.refresh_from_db()
    today = dt.date(2024, 3, 31)

    record = claim_record(
        customer=customer, regime="uk", lines=lines_of(corrected, today=today), today=today
    )

    assert (record["total"], record["compensation"]) == (D("6.53"), D("40.00"))


def test_an_invoice_cancelled_by_a_credit_note_after_its_due_date_is_not_paid_late():
    customer = CustomerFactory()
    covered = invoice(customer, "3650.00", dt.date(2024, 3, 1))
    cancelled = invoice(customer, "800.00", dt.date(2024, 2, 20))
    credit_note_issue(
        actor=None,
        invoice=cancelled,
        amount=D("800.00"),
        reason="Invoiced in error",
        issued_on=dt.date(2024, 3, 10),
    )
    today = dt.date(2024, 3, 21)

    record = claim_record(
        customer=customer, regime="uk", lines=lines_of(covered, today=today), today=today
    )

    assert record["paid_late"] == ()


@pytest.mark.parametrize(
    ("regime", "expected"),
    [
        # 22-31 Dec 2024: 10 days x 1.225 = 12.25; 1-10 Jan 2025: 10 days x 1.115 = 11.15
        ("eu", (D("12.25"), D("11.15"), D("23.40"))),
        # 10 days x 1.237 = 12.37; 10 days x 1.127 = 11.27; total 23.64
        ("de", (D("12.37"), D("11.27"), D("23.64"))),
    ],
)
def test_eu_and_german_interest_across_the_new_year_use_each_half_years_rate(regime, expected):
    customer = CustomerFactory(currency="EUR", country="DE")
    due = invoice(customer, "3650.00", dt.date(2024, 12, 21))
    today = dt.date(2025, 1, 10)

    record = claim_record(
        customer=customer, regime=regime, lines=lines_of(due, today=today), today=today
    )

    [line] = record["lines"]
    assert tuple(p["interest"] for p in line["periods"]) + (record["total"],) == expected
    assert record["compensation"] == D("40.00")


@pytest.mark.parametrize("regime", ["", "uk"])
def test_a_us_customers_accepted_terms_are_claimed_when_no_statute_applies(regime):
    # Terms: 18.25% a year and USD 25 per late invoice. 1,000 due 1 Mar 2024, 20 days late:
    # 1000 x 0.1825 x 20 / 365 = 3650 / 365 = 10.00
    customer = CustomerFactory(
        currency="USD",
        country="US",
        region="CA",
        terms_accepted_on=dt.date(2024, 1, 5),
        late_interest_rate=D("18.25"),
        late_fee=D("25.00"),
    )
    due = invoice(customer, "1000.00", dt.date(2024, 3, 1))
    today = dt.date(2024, 3, 21)

    record = claim_record(
        customer=customer, regime=regime, lines=lines_of(due, today=today), today=today
    )

    assert record["enabled"] and not record["statutory"]
    assert record["regime"] == "terms of business accepted on 5 Jan 2024"
    assert (record["total"], record["compensation"]) == (D("10.00"), D("25.00"))
    assert record["lines"][0]["rate"] == D("18.25")


def test_a_consumer_is_charged_nothing_and_the_record_says_why():
    customer = CustomerFactory(debtor_type=DebtorType.CONSUMER)
    due = invoice(customer, "3650.00", dt.date(2024, 3, 1))
    today = dt.date(2024, 3, 31)

    record = claim_record(
        customer=customer, regime="uk", lines=lines_of(due, today=today), today=today
    )

    assert not record["enabled"]
    assert "applies between businesses only; this customer is a consumer" in record["reason"]
    assert (record["total"], record["compensation"], record["paid_late_total"]) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert record["lines"] == record["paid_late"] == ()


def test_a_business_billed_in_euros_gets_no_uk_interest_and_is_told_why():
    customer = CustomerFactory(currency="EUR", country="FR")
    due = invoice(customer, "3650.00", dt.date(2024, 3, 1))
    today = dt.date(2024, 3, 31)

    record = claim_record(
        customer=customer, regime="uk", lines=lines_of(due, today=today), today=today
    )

    assert not record["enabled"]
    assert "is claimed in GBP only; this customer is billed in EUR" in record["reason"]
    assert "not accepted terms" in record["reason"]


def test_with_no_regime_and_no_terms_nothing_is_claimed_and_nothing_is_read():
    customer = CustomerFactory()
    due = invoice(customer, "3650.00", dt.date(2024, 3, 1))
    today = dt.date(2024, 3, 31)
    lines = lines_of(due, today=today)

    with CaptureQueriesContext(connection) as queries:
        record = claim_record(customer=customer, regime="", lines=lines, today=today)

    assert not record["enabled"] and "claims no statutory interest" in record["reason"]
    assert len(queries) == 0


def test_the_issues_german_consumer_on_a_uk_policy_gets_no_interest_in_the_letter():
    # Issue 16: 537.60 of interest and "70.00 EUR" compensation were printed.
    customer = CustomerFactory(debtor_type=DebtorType.CONSUMER, currency="EUR", country="DE")
    due = invoice(customer, "4000.00", dt.date(2025, 1, 10))
    today = dt.date(2026, 3, 16)

    context = context_build(
        customer=customer,
        contact=None,
        invoices=[{"number": due.number, "due_date": due.due_date, "balance": due.open_balance}],
        today=today,
        interest_regime="uk",
    )

    assert not context["interest"]["enabled"]
    assert context["grand_total"] == D("4000.00")


def test_a_claim_costs_three_queries_however_many_invoices_and_payments():
    customer = CustomerFactory()
    covered = []
    for n in range(6):
        one = invoice(customer, "1000.00", dt.date(2024, 3, 1) + dt.timedelta(days=n))
        pay(one, "100.00", dt.date(2024, 3, 10))
        pay(one, "100.00", dt.date(2024, 3, 20))
        covered.append(one)
    for n in range(4):
        pay(invoice(customer, "200.00", dt.date(2024, 3, 2)), "200.00", dt.date(2024, 3, 12 + n))
    today = dt.date(2024, 3, 31)
    lines = lines_of(*covered, today=today)

    with CaptureQueriesContext(connection) as queries:
        record = claim_record(customer=customer, regime="uk", lines=lines, today=today)

    assert len(record["lines"]) == 6 and len(record["paid_late"]) == 4
    assert len(queries) == 3  # invoices, their allocations, the rate table


def test_an_invoice_in_another_currency_than_the_claims_is_left_out():
    # A GBP customer with one invoice raised in euros: the UK Act's pounds are not claimed on
    # it, whether it is open or was paid late. The GBP one: 20 days x 1.325 = 26.50.
    customer = CustomerFactory()
    pounds = invoice(customer, "3650.00", dt.date(2024, 3, 1))
    euros = invoice(customer, "3650.00", dt.date(2024, 3, 1), currency="EUR")
    paid_euros = invoice(customer, "500.00", dt.date(2024, 3, 1), currency="EUR")
    payment_record(
        actor=None,
        customer=customer,
        amount=D("500.00"),
        currency="EUR",
        received_on=dt.date(2024, 3, 15),
        allocations=[(paid_euros, D("500.00"))],
    )
    today = dt.date(2024, 3, 21)

    record = claim_record(
        customer=customer, regime="uk", lines=lines_of(pounds, euros, today=today), today=today
    )

    assert [line["invoice_number"] for line in record["lines"]] == [pounds.number]
    assert record["total"] == D("26.50") and record["paid_late"] == ()
