"""Limitation as a clock: the period by jurisdiction and kind of claim, the shortest known
one where a region has none, and restarts by part-payments and written acknowledgements."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from dunning.limitation import (
    ACKNOWLEDGEMENT,
    PART_PAYMENT,
    Periods,
    barred_load,
    limitation_state,
)
from dunning.models import Acknowledgement, LimitationPeriod
from invoices.dates import format_day
from invoices.services import payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 15)
DUE = dt.date(2019, 1, 10)  # six years on, England's limitation date passed on 10 Jan 2025


def invoice(customer, due=DUE, **fields):
    return InvoiceFactory(
        customer=customer, issue_date=due - dt.timedelta(days=30), due_date=due, **fields
    )


def state(customer, *invoices, today=TODAY, **kwargs):
    return limitation_state(customer=customer, invoices=invoices, today=today, **kwargs)


def paid(customer, inv, on, amount="10.00"):
    payment_record(
        actor=None,
        customer=customer,
        amount=Decimal(amount),
        received_on=on,
        allocations=[(inv, Decimal(amount))],
    )


def acknowledged(customer, on, *invoices):
    ack = Acknowledgement.objects.create(customer=customer, acknowledged_on=on, note="Letter")
    ack.invoices.set(invoices)


# --- the period by jurisdiction --------------------------------------------------------------


@pytest.mark.parametrize(
    "country, region, years",
    [
        ("GB", "", 6),
        ("GB", "England", 6),
        ("US", "CA", 4),
        ("US", "Texas", 4),
        ("US", "New York", 6),
        ("US", "FL", 4),
        ("US", "IL", 5),
        ("US", "Delaware", 3),
    ],
)
def test_an_open_account_runs_for_its_jurisdictions_period_from_the_due_date(
    country, region, years
):
    customer = CustomerFactory(country=country, region=region)
    inv = invoice(customer, dt.date(2020, 1, 10))

    clock = state(customer, inv).clock(inv.number)

    assert clock.last_day == dt.date(2020 + years, 1, 10)
    assert clock.why.startswith(
        f"{years} years from the due date, {format_day(dt.date(2020, 1, 10))}"
    )


@pytest.mark.parametrize(
    "region, kind, years",
    [
        ("FL", "written_contract", 5),
        ("IL", "written_contract", 10),
        ("NY", "written_contract", 6),
        ("CA", "sale_of_goods", 4),
        ("Ohio", "sale_of_goods", 4),
    ],
)
def test_a_written_contract_or_a_sale_of_goods_has_its_own_period(region, kind, years):
    period = Periods.load().find("US", region, due=DUE, kind=kind)

    assert period.years == years


def test_a_state_with_no_period_on_file_takes_the_shortest_known_in_the_country_and_says_so():
    customer = CustomerFactory(country="US", region="Ohio")
    inv = invoice(customer, dt.date(2022, 1, 10))

    found = state(customer, inv)

    assert found.said == "no period for Ohio on file: using 3 years, the shortest known in the US"
    assert found.clock(inv.number).last_day == dt.date(2025, 1, 10)
    assert found.barred == (inv.number,)


def test_a_us_customer_with_no_state_takes_the_shortest_period_too():
    customer = CustomerFactory(country="US", region="")

    found = state(customer, invoice(customer))

    assert found.said == "no region on file: using 3 years, the shortest known in the US"


def test_a_country_with_nothing_on_file_has_no_limitation_date_and_says_why():
    customer = CustomerFactory(country="FR")
    inv = invoice(customer)

    found = state(customer, inv)

    assert (
        found.unknown == "no limitation period for France on file: the limitation date is unknown"
    )
    assert found.clock(inv.number).last_day is None
    assert found.barred == () and found.warnings == ()


def test_a_period_applies_to_debts_falling_due_from_its_valid_from_date():
    LimitationPeriod.objects.create(
        country="GB", region="", valid_from=dt.date(2022, 1, 1), years=3, note="Shorter from 2022"
    )
    customer = CustomerFactory(country="GB")
    before, after = invoice(customer, dt.date(2021, 6, 1)), invoice(customer, dt.date(2022, 6, 1))

    found = state(customer, before, after)

    assert found.clock(before.number).last_day == dt.date(2027, 6, 1)
    assert found.clock(after.number).last_day == dt.date(2025, 6, 1)


# --- barred and close ------------------------------------------------------------------------


def test_an_invoice_past_its_limitation_date_is_barred_and_said_so():
    customer = CustomerFactory(country="GB")
    inv = invoice(customer)

    found = state(customer, inv)

    assert found.barred == (inv.number,)
    assert found.in_words() == (
        [f"{inv.number} passed its limitation date on {format_day(dt.date(2025, 1, 10))}"],
        [],
    )


def test_the_engine_finds_a_debt_barred_from_the_day_after_its_limitation_date():
    # Delaware's three years are the shortest period on file: the engine looks at no
    # invoice younger than that, and must still find one just past it.
    periods = {"US": 3, "GB": 6}
    customers = {1: ("US", "DE", TODAY), 2: ("GB", "", TODAY + dt.timedelta(days=1))}
    for country, years in periods.items():
        assert Periods.load().find(country, "DE" if country == "US" else "", due=DUE).years == (
            years
        )
    invoices = [
        (11, 1, dt.date(2023, 3, 14)),  # its last day was yesterday
        (12, 1, dt.date(2023, 3, 15)),  # today is its last day
        (21, 2, dt.date(2020, 3, 15)),  # the customer's today is a day ahead: barred
        (22, 2, dt.date(2020, 3, 16)),
    ]

    barred = barred_load(invoices, customers)

    assert barred == {11: dt.date(2026, 3, 14), 21: dt.date(2026, 3, 15)}


def test_an_invoice_reaching_its_limitation_date_within_the_warning_window_is_warned_of():
    customer = CustomerFactory(country="GB")
    inv = invoice(customer, dt.date(2020, 4, 14))  # its date comes on 14 Apr 2026

    found = state(customer, inv)

    assert found.warnings == (inv.number,)
    assert found.in_words()[1] == [
        f"{inv.number} reaches its limitation date on {format_day(dt.date(2026, 4, 14))} "
        "(in 30 days)"
    ]


# --- restarts ------------------------------------------------------------------------------


def test_a_part_payment_starts_the_period_again_from_its_date():
    customer = CustomerFactory(country="GB")
    inv = invoice(customer)
    paid(customer, inv, dt.date(2024, 6, 1))

    found = state(customer, inv)
    clock = found.clock(inv.number)

    assert (clock.last_day, clock.since) == (dt.date(2030, 6, 1), PART_PAYMENT)
    assert clock.why.startswith(
        f"6 years from the part-payment on {format_day(dt.date(2024, 6, 1))}"
    )
    assert found.barred == ()


def test_a_part_payment_after_the_limitation_date_does_not_revive_the_debt():
    customer = CustomerFactory(country="GB")
    inv = invoice(customer)
    paid(customer, inv, dt.date(2025, 6, 1))

    assert state(customer, inv).barred == (inv.number,)


def test_each_part_payment_in_time_restarts_the_clock_again():
    customer = CustomerFactory(country="US", region="DE")  # 3 years
    inv = invoice(customer, dt.date(2015, 1, 10))
    paid(customer, inv, dt.date(2017, 6, 1))
    paid(customer, inv, dt.date(2020, 5, 1))  # before 1 Jun 2020, when the first restart ran out

    assert state(customer, inv).clock(inv.number).last_day == dt.date(2023, 5, 1)


def test_a_written_acknowledgement_naming_the_invoice_starts_the_period_again():
    customer = CustomerFactory(country="US", region="NY")
    inv, other = invoice(customer), invoice(customer)
    acknowledged(customer, dt.date(2024, 2, 1), inv)

    found = state(customer, inv, other)

    assert found.clock(inv.number).last_day == dt.date(2030, 2, 1)
    assert found.clock(inv.number).since == ACKNOWLEDGEMENT
    assert found.clock(other.number).last_day == dt.date(2025, 1, 10)


def test_an_acknowledgement_naming_no_invoice_covers_the_whole_account():
    customer = CustomerFactory(country="GB")
    first, second = invoice(customer), invoice(customer, dt.date(2019, 3, 1))
    acknowledged(customer, dt.date(2024, 2, 1))

    found = state(customer, first, second)

    assert found.barred == ()
    assert {found.clock(n).last_day for n in (first.number, second.number)} == {dt.date(2030, 2, 1)}


def test_an_acknowledgement_dated_after_today_is_not_counted_yet():
    customer = CustomerFactory(country="GB")
    inv = invoice(customer)
    acknowledged(customer, TODAY + dt.timedelta(days=1), inv)

    assert state(customer, inv).barred == (inv.number,)


def test_nothing_restarts_the_clock_where_the_period_says_it_does_not():
    LimitationPeriod.objects.filter(country="GB", kind="open_account").update(restarts=False)
    customer = CustomerFactory(country="GB")
    inv = invoice(customer)
    paid(customer, inv, dt.date(2024, 6, 1))
    acknowledged(customer, dt.date(2024, 7, 1), inv)

    clock = state(customer, inv).clock(inv.number)

    assert (clock.last_day, clock.since) == (dt.date(2025, 1, 10), "due date")


def test_the_clock_costs_three_queries_for_any_number_of_invoices(django_assert_num_queries):
    customer = CustomerFactory(country="GB")
    invoices = [invoice(customer, DUE + dt.timedelta(days=i)) for i in range(12)]
    for inv in invoices[:6]:
        paid(customer, inv, dt.date(2023, 1, 1))
    acknowledged(customer, dt.date(2024, 1, 1), *invoices[6:9])
    acknowledged(customer, dt.date(2024, 2, 1))

    with django_assert_num_queries(3):
        found = state(customer, *invoices)

    assert found.barred == ()


# --- the shipped table ---------------------------------------------------------------------


def test_shipping_replaces_the_old_rows_still_as_shipped_and_keeps_an_admins():
    shipped = importlib.import_module("dunning.migrations.0013_ship_limitation_periods")
    LimitationPeriod.objects.all().delete()
    for country, region, years, note in shipped.OLD:
        LimitationPeriod.objects.create(country=country, region=region, years=years, note=note)
    LimitationPeriod.objects.filter(region="FL").update(note="Florida: as our lawyer advised")
    LimitationPeriod.objects.create(country="US", region="OH", years=6, note="Ohio")

    shipped.ship_periods(apps, None)

    def years(region, kind="open_account"):
        return LimitationPeriod.objects.get(country="US", region=region, kind=kind).years

    assert (years("IL"), years("IL", "written_contract"), years("DE")) == (5, 10, 3)
    assert years("FL") == 5  # the admin's row, kept
    assert years("OH") == 6
    assert not LimitationPeriod.objects.filter(country="US", region="", kind="open_account")
    assert years("", "sale_of_goods") == 4
