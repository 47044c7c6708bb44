"""A barred debt is never threatened: the policy stops chasing it, or covers it by email
reminders only (no letter, no call, no legal step). The engine alone first, then the run
on the issue's case: a consumer in England whose invoice fell due on 10 Jan 2019."""

import datetime as dt
from decimal import Decimal

import pytest

from dunning.engine import plan_customer
from dunning.facts import Calendar, CustomerFacts, InvoiceFact
from dunning.models import Chase, Policy, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.selectors import Steps, facts_load
from invoices.dates import format_day
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

from .factories import MONDAY_10
from .test_engine import LADDER, NOON

BARRED_ON = dt.date(2025, 1, 10)
PASSED = f"INV-1 passed its limitation date on {format_day(BARRED_ON)}"


def barred(number="INV-1", due=dt.date(2019, 1, 10)):
    return InvoiceFact(int(number[4:]), number, due, Decimal("500.00"), barred_on=BARRED_ON)


def live(number="INV-2", days=50):
    due = NOON.date() - dt.timedelta(days=days)
    return InvoiceFact(int(number[4:]), number, due, Decimal("300.00"))


def plan(*invoices, rule="soft", done=(1, 2, 3, 4, 5)):
    facts = CustomerFacts(
        customer_id=1,
        timezone="Europe/London",
        debtor_type="consumer",
        invoices=invoices,
        chase_cycle=1,
        steps_done=frozenset(done),
        barred_debts=rule,
    )
    return plan_customer(facts, LADDER, Calendar(), NOON)


# --- soft: email reminders only ------------------------------------------------------------


def test_soft_lets_an_email_reminder_cover_a_barred_invoice():
    result = plan(barred(), done=(1, 2))

    assert result.action.step.name == "Second reminder"
    assert result.action.invoice_ids == (1,)
    assert not result.action.skip


def test_soft_skips_the_final_demand_when_every_invoice_it_would_cover_is_barred():
    result = plan(barred())

    assert result.action.step.name == "Final demand"
    assert result.action.skip
    assert not result.explanation.startswith("Due now")
    assert result.explanation == (
        f"Final demand will be skipped now. Skipped: {PASSED}, and this policy chases barred "
        "debts by email reminders only (no letter, phone call or legal step)."
    )


def test_soft_leaves_a_barred_invoice_out_of_a_final_demand_for_the_others():
    result = plan(barred(), live())

    assert result.action.step.name == "Final demand"
    assert result.action.invoice_ids == (2,)
    assert result.action.total == Decimal("300.00")
    assert (
        f"Left out: {PASSED}: this policy chases barred debts by email reminders only."
        in result.action.reason
    )


def test_soft_skips_the_phone_call_and_the_legal_referral_on_a_barred_debt():
    call = plan(barred(), done=(1, 2, 3, 4))
    referral = plan(barred(), done=(1, 2, 3, 4, 5, 6))

    assert (call.action.step.name, call.action.skip) == ("Phone call", True)
    assert (referral.action.step.name, referral.action.skip) == ("Legal referral", True)


# --- stop: not chased ----------------------------------------------------------------------


def test_stop_chases_nothing_when_every_open_invoice_is_barred_and_says_why():
    result = plan(barred(), rule="stop")

    assert result.action is None
    assert result.explanation == f"Not chased: {PASSED}: this policy stops chasing barred debts."
    assert result.paused_by == (f"{PASSED}: this policy stops chasing barred debts",)


def test_stop_chases_the_other_invoices_and_names_the_barred_one_left_out():
    result = plan(barred(), live(days=3), rule="stop", done=())

    assert result.action.step.name == "Friendly reminder"
    assert result.action.invoice_ids == (2,)
    assert f"Left out: {PASSED}: this policy stops chasing barred debts." in result.action.reason


# --- the run: facts loaded from the database ----------------------------------------------


@pytest.fixture
def english_consumer(db):
    """A consumer in England with one invoice due 10 Jan 2019 (barred since 10 Jan 2025),
    chased up to the phone call: next comes the final demand."""
    customer = CustomerFactory(country="GB", region="England", debtor_type="consumer")
    ContactFactory(customer=customer)
    InvoiceFactory(
        customer=customer,
        number="INV-1",
        issue_date=dt.date(2018, 12, 11),
        due_date=dt.date(2019, 1, 10),
        amount=Decimal("500.00"),
    )
    version = Policy.objects.get(name="Standard").current_version
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version=version, started_at=MONDAY_10
    )
    at = MONDAY_10 - dt.timedelta(days=20)
    for step in version.steps.filter(position__lte=5):
        Touch.objects.create(
            key=f"{customer.pk}:1:{step.position}",
            customer=customer,
            chase=chase,
            step=step,
            channel=step.channel,
            status=TouchStatus.SENT,
            scheduled_for=at,
            sent_at=at,
            currency="GBP",
        )
    return customer


def test_the_facts_say_which_open_invoices_are_barred_and_the_policys_rule(english_consumer):
    Policy.objects.filter(name="Standard").update(barred_debts="stop")

    [loaded] = facts_load([english_consumer.pk], as_of=MONDAY_10, steps=Steps())

    assert [inv.barred_on for inv in loaded.facts.invoices] == [BARRED_ON]
    assert loaded.facts.barred_debts == "stop"


def test_a_barred_consumer_debt_in_england_gets_no_final_demand_under_soft(english_consumer):
    [result] = dunning_run(as_of=MONDAY_10)

    assert result.step == "Letter of claim"  # the Pre-Action Protocol's, for a consumer
    assert result.status == TouchStatus.SKIPPED
    assert PASSED in result.reason
    assert not Touch.objects.filter(
        customer=english_consumer, channel="letter", status=TouchStatus.PENDING
    ).exists()


def test_a_barred_consumer_debt_in_england_is_not_chased_under_stop(english_consumer):
    Policy.objects.filter(name="Standard").update(barred_debts="stop")

    results = dunning_run(as_of=MONDAY_10, explain=True)

    assert [r.reason for r in results] == [
        f"Not chased: {PASSED}: this policy stops chasing barred debts."
    ]
    assert Touch.objects.filter(customer=english_consumer).count() == 5
