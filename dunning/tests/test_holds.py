import datetime as dt
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from dunning.exceptions import DunningError
from dunning.models import HoldStatus, PlanStatus, PromiseToPay, Touch
from dunning.planning import dunning_run
from dunning.services import (
    hold_release,
    hold_set,
    plan_create,
    plans_settle,
    promise_record,
    promises_settle,
)
from invoices.services import payment_record
from invoices.tests.factories import InvoiceFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]
TODAY = MONDAY_10.date()


def promise(customer, amount="100.00", days=7):
    return promise_record(
        actor=None,
        customer=customer,
        amount=Decimal(amount),
        promised_for=TODAY + dt.timedelta(days=days),
        made_on=TODAY,
        grace_days=3,
    )


def test_a_promise_pauses_the_chase_until_its_date_plus_grace():
    customer = overdue_customer(days=3)
    promise(customer)

    assert dunning_run(as_of=MONDAY_10) == []
    assert Touch.objects.count() == 0


def test_a_promise_covered_by_payments_is_kept():
    customer = overdue_customer(days=3)
    kept = promise(customer)
    payment_record(actor=None, customer=customer, amount=100, received_on=TODAY)

    promises_settle(on=TODAY + dt.timedelta(days=11))

    kept.refresh_from_db()
    assert kept.status == HoldStatus.KEPT


def test_an_unpaid_promise_is_broken_and_audited():
    customer = overdue_customer(days=3)
    broken = promise(customer)

    promises_settle(on=TODAY + dt.timedelta(days=11))

    broken.refresh_from_db()
    assert broken.status == HoldStatus.BROKEN
    assert AuditEvent.objects.filter(action="dunning.promise.broken").count() == 1


def test_a_promise_is_not_settled_before_its_grace_ends():
    customer = overdue_customer(days=3)
    waiting = promise(customer)

    promises_settle(on=TODAY + dt.timedelta(days=10))

    waiting.refresh_from_db()
    assert waiting.status == HoldStatus.OPEN


def test_a_broken_promise_resumes_the_chase():
    customer = overdue_customer(days=3)
    promise(customer)
    later = MONDAY_10 + dt.timedelta(days=11)  # a Friday

    promises_settle(on=later.date())
    dunning_run(as_of=later)

    assert Touch.objects.count() == 1


def plan(customer, first_due_in=7):
    return plan_create(
        actor=None,
        customer=customer,
        agreed_on=TODAY,
        instalments=[
            (TODAY + dt.timedelta(days=first_due_in), Decimal("50.00")),
            (TODAY + dt.timedelta(days=first_due_in + 30), Decimal("50.00")),
        ],
        grace_days=3,
    )


def test_a_payment_plan_being_met_pauses_the_chase():
    customer = overdue_customer(days=3)
    plan(customer)

    assert dunning_run(as_of=MONDAY_10) == []


def test_a_missed_instalment_breaks_the_plan():
    customer = overdue_customer(days=3)
    missed = plan(customer)

    plans_settle(on=TODAY + dt.timedelta(days=11))

    missed.refresh_from_db()
    assert missed.status == PlanStatus.BROKEN


def test_a_paid_instalment_keeps_the_plan_active():
    customer = overdue_customer(days=3)
    met = plan(customer)
    payment_record(actor=None, customer=customer, amount=50, received_on=TODAY)

    plans_settle(on=TODAY + dt.timedelta(days=11))

    met.refresh_from_db()
    assert met.status == PlanStatus.ACTIVE


def test_a_manual_hold_pauses_the_chase_and_is_audited():
    customer = overdue_customer(days=3)

    hold_set(actor=None, customer=customer, reason="Director on leave")

    assert dunning_run(as_of=MONDAY_10) == []
    assert AuditEvent.objects.filter(action="dunning.hold.set").count() == 1


def test_releasing_a_hold_resumes_the_chase():
    customer = overdue_customer(days=3)
    hold_set(actor=None, customer=customer, reason="Director on leave")

    hold_release(actor=None, customer=customer)

    assert len(dunning_run(as_of=MONDAY_10)) == 1


# --- a promise's limits -------------------------------------------------------------------


def test_a_promise_for_more_than_the_open_balance_is_refused_and_nothing_is_kept():
    customer = overdue_customer(days=3, amount=Decimal("30000.00"))

    with pytest.raises(DunningError, match="more than the £30,000.00 open"):
        promise(customer, amount="99999999.00")

    assert not PromiseToPay.objects.exists()
    assert not AuditEvent.objects.filter(action="dunning.promise.recorded").exists()


def test_a_promise_further_ahead_than_the_settings_allow_is_refused():
    customer = overdue_customer(days=3)

    with pytest.raises(DunningError, match="at most 30 days ahead"):
        promise(customer, days=31)

    assert promise(customer, days=30).promised_for == TODAY + dt.timedelta(days=30)


def test_a_promise_naming_no_invoices_covers_those_overdue_not_those_still_to_fall_due():
    customer = overdue_customer(days=10)
    coming = InvoiceFactory(customer=customer, due_date=TODAY + dt.timedelta(days=3))

    covered = promise(customer)

    assert coming not in covered.invoices.all()
    assert list(covered.invoices.all()) == list(customer.invoices.exclude(pk=coming.pk))
    # The invoice not yet due still gets its courtesy reminder.
    dunning_run(as_of=MONDAY_10)
    (sent,) = Touch.objects.values_list("invoices", flat=True)
    assert [inv["number"] for inv in sent] == [coming.number]


def test_a_promise_is_refused_when_nothing_is_overdue_and_no_invoice_is_named():
    customer = overdue_customer(days=-5)

    with pytest.raises(DunningError, match="Nothing is overdue"):
        promise(customer)
