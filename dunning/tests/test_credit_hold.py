import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_q.models import Schedule

from audit.models import AuditEvent
from dunning.credit_hold import RELEASED, SET, credit_holds_apply
from dunning.models import DunningSettings, QueueEntry
from dunning.queue import queue_refresh
from dunning.schedule import CREDIT_HOLDS_FUNC, on_post_migrate
from invoices.models import Customer
from invoices.services import dispute_open, payment_record
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory, InvoiceFactory

from .factories import MONDAY_10
from .test_views_policies import settings_post

pytestmark = pytest.mark.django_db

TODAY = MONDAY_10.date()
HEADER = "invoice_number,date,amount,reference\n"
AUDIT_INSERT = re.compile(r'INSERT INTO "audit_auditevent"')


def rule(*, days: int | None = None, over_limit: bool = False) -> None:
    settings = DunningSettings.current()
    settings.credit_hold_overdue_days = days
    settings.credit_hold_over_limit = over_limit
    settings.save()


def owes(customer, *, days: int, amount: str = "100.00", number: str | None = None):
    due = TODAY - dt.timedelta(days=days)
    extra = {"number": number} if number else {}
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
        **extra,
    )


def apply():
    return credit_holds_apply(as_of_date=TODAY)


def fresh(customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def pay(customer, invoice, amount=None):
    payment_record(
        actor=None,
        customer=customer,
        amount=amount or invoice.amount,
        received_on=TODAY,
        allocations=[(invoice, amount or invoice.amount)],
    )


# --- setting holds ------------------------------------------------------------------------


def test_an_invoice_more_than_the_days_overdue_puts_the_account_on_credit_hold():
    rule(days=60)
    late = CustomerFactory()
    owes(late, days=64, number="INV-7")
    on_the_day = CustomerFactory()
    owes(on_the_day, days=60)

    result = apply()

    late = fresh(late)
    assert result.held == [late.pk]
    assert (late.credit_hold, late.credit_hold_by_rule, late.credit_hold_since) == (
        True,
        True,
        TODAY,
    )
    assert late.credit_hold_reason == "INV-7 is 64 days overdue (rule: 60 days)"
    assert not fresh(on_the_day).credit_hold


def test_owing_over_the_credit_limit_puts_the_account_on_credit_hold():
    rule(over_limit=True)
    over = CustomerFactory(credit_limit=Decimal("10000.00"))
    owes(over, days=-10, amount="12400.00")  # not even due yet
    under = CustomerFactory(credit_limit=Decimal("10000.00"))
    owes(under, days=5, amount="10000.00")
    no_limit = CustomerFactory()
    owes(no_limit, days=5, amount="99999.00")

    apply()

    assert fresh(over).credit_hold_reason == "owes £12,400.00, over the £10,000.00 limit"
    assert list(Customer.objects.filter(credit_hold=True)) == [over]


def test_with_the_rule_off_nobody_is_put_on_credit_hold():
    customer = CustomerFactory(credit_limit=Decimal("10.00"))
    owes(customer, days=400)

    assert apply().held == []
    assert not fresh(customer).credit_hold


def test_a_disputed_invoice_does_not_count_as_overdue():
    rule(days=30)
    customer = CustomerFactory()
    invoice = owes(customer, days=90)
    dispute_open(actor=None, invoice=invoice, reason="pricing", opened_on=TODAY)

    apply()

    assert not fresh(customer).credit_hold


def test_each_hold_is_audited_as_the_systems_with_its_reason():
    rule(days=60)
    customer = CustomerFactory()
    owes(customer, days=64, number="INV-7")

    apply()

    event = AuditEvent.objects.get(action=SET)
    assert (event.customer_id, event.actor_id, event.actor_label) == (customer.pk, None, "system")
    assert event.data["reason"] == "INV-7 is 64 days overdue (rule: 60 days)"


def test_the_queue_row_carries_the_credit_hold():
    rule(days=60)
    held = CustomerFactory()
    owes(held, days=64)
    not_held = CustomerFactory()
    owes(not_held, days=10)

    queue_refresh(customer_ids=[held.pk, not_held.pk], as_of=MONDAY_10)

    apply()

    assert QueueEntry.objects.get(customer=held).credit_hold
    assert not QueueEntry.objects.get(customer=not_held).credit_hold


def test_a_queue_row_written_later_carries_the_credit_hold_too():
    rule(days=60)
    customer = CustomerFactory()
    owes(customer, days=64)
    apply()

    queue_refresh(customer_ids=[customer.pk], as_of=MONDAY_10)

    assert QueueEntry.objects.get(customer=customer).credit_hold


# --- holds set by hand --------------------------------------------------------------------


def test_a_hold_set_by_hand_is_never_lifted_by_the_rule():
    rule(days=60, over_limit=True)
    customer = CustomerFactory(credit_hold=True)  # in terms: owes nothing overdue
    owes(customer, days=3)

    result = apply()

    assert result.released == []
    assert fresh(customer).credit_hold
    assert not AuditEvent.objects.filter(action__startswith="customer.credit_hold").exists()


def test_a_hold_set_by_hand_on_an_account_out_of_terms_stays_the_persons():
    rule(days=60)
    customer = CustomerFactory(credit_hold=True, credit_hold_reason="Asked by sales")
    owes(customer, days=90)

    apply()

    customer = fresh(customer)
    assert (customer.credit_hold_by_rule, customer.credit_hold_reason) == (False, "Asked by sales")


def test_a_rule_hold_a_person_lifted_is_set_again_while_the_account_is_out_of_terms():
    rule(days=60)
    customer = CustomerFactory()
    owes(customer, days=64)
    apply()
    Customer.objects.filter(pk=customer.pk).update(credit_hold=False)  # lifted by a person

    assert apply().held == [customer.pk]
    assert fresh(customer).credit_hold_by_rule


def test_a_rule_hold_a_person_lifted_keeps_no_rule_mark_once_in_terms():
    rule(days=60)
    customer = CustomerFactory()
    invoice = owes(customer, days=64)
    apply()
    Customer.objects.filter(pk=customer.pk).update(credit_hold=False)  # lifted by a person
    pay(customer, invoice)

    apply()

    customer = fresh(customer)
    assert (customer.credit_hold_by_rule, customer.credit_hold_reason) == (False, "")


# --- releasing ----------------------------------------------------------------------------


def test_paying_the_late_invoice_lifts_the_rule_hold():
    rule(days=60)
    customer = CustomerFactory()
    invoice = owes(customer, days=64, number="INV-7")
    apply()
    queue_refresh(customer_ids=[customer.pk], as_of=MONDAY_10)
    pay(customer, invoice)

    result = apply()

    customer = fresh(customer)
    assert result.released == [customer.pk]
    assert (customer.credit_hold, customer.credit_hold_by_rule) == (False, False)
    assert (customer.credit_hold_since, customer.credit_hold_reason) == (None, "")
    event = AuditEvent.objects.get(action=RELEASED)
    assert event.data["reason"] == "back in terms (was: INV-7 is 64 days overdue (rule: 60 days))"
    assert not QueueEntry.objects.get(customer=customer).credit_hold


def test_paying_back_under_the_limit_lifts_the_rule_hold():
    rule(over_limit=True)
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    invoice = owes(customer, days=5, amount="1500.00")
    apply()
    pay(customer, invoice, Decimal("600.00"))

    apply()

    assert not fresh(customer).credit_hold


def test_a_rule_hold_stays_while_another_condition_still_holds():
    rule(days=60, over_limit=True)
    customer = CustomerFactory(credit_limit=Decimal("100.00"))
    late = owes(customer, days=64)
    owes(customer, days=5, amount="500.00")
    apply()
    pay(customer, late)  # no longer late, still over the limit

    assert apply().released == []
    assert fresh(customer).credit_hold


def test_turning_the_rule_off_lifts_the_holds_it_set():
    rule(days=60)
    customer = CustomerFactory()
    owes(customer, days=64)
    apply()
    rule(days=None)

    apply()

    assert not fresh(customer).credit_hold
    assert (
        AuditEvent.objects.get(action=RELEASED)
        .data["reason"]
        .startswith("the credit-hold rule is turned off")
    )


# --- runs ---------------------------------------------------------------------------------


def test_a_second_run_changes_nothing_and_audits_nothing():
    rule(days=60, over_limit=True)
    late = CustomerFactory()
    owes(late, days=64)
    over = CustomerFactory(credit_limit=Decimal("10.00"))
    owes(over, days=1)
    apply()
    events = AuditEvent.objects.count()
    before = list(Customer.objects.values_list("pk", "credit_hold", "credit_hold_reason"))

    result = apply()

    assert (result.held, result.released) == ([], [])
    assert AuditEvent.objects.count() == events
    assert list(Customer.objects.values_list("pk", "credit_hold", "credit_hold_reason")) == before


@pytest.mark.parametrize("step", ["hold", "release"])
def test_the_rule_costs_the_same_queries_for_5_or_200_customers(step):
    rule(days=60)

    def queries_for(count: int) -> int:
        customers = [CustomerFactory() for _ in range(count)]
        invoices = [owes(customer, days=64) for customer in customers]
        if step == "release":
            apply()
            for customer, invoice in zip(customers, invoices, strict=True):
                pay(customer, invoice)
        with CaptureQueriesContext(connection) as captured:
            result = apply()
        assert len(result.held if step == "hold" else result.released) == count
        # The audit trail goes in as one COPY on PostgreSQL; SQLite's bulk insert splits
        # at 999 parameters (99 events a statement), which is the audit helper's affair.
        return len([q for q in captured if not AUDIT_INSERT.match(q["sql"])])

    assert queries_for(5) == queries_for(200)


def test_an_import_of_payments_lifts_the_holds_it_brings_back_in_terms(
    tmp_path, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(MONDAY_10, tick=False)
    rule(days=60)
    customer = CustomerFactory()
    owes(customer, days=64, number="INV-LATE")
    apply()
    paid = HEADER + "INV-LATE,2026-03-16,100.00,BANK-1\n"

    with django_capture_on_commit_callbacks(execute=True):
        import_csv("payments", write_csv(tmp_path, paid, "payments.csv"))

    assert not fresh(customer).credit_hold
    assert AuditEvent.objects.filter(action=RELEASED, customer_id=customer.pk).exists()


def test_the_command_applies_the_rule(capsys):
    rule(days=60)
    customer = CustomerFactory()
    owes(customer, days=64)

    call_command("credit_holds", "--as-of", TODAY.isoformat())

    assert fresh(customer).credit_hold
    assert "1 set, 0 released" in capsys.readouterr().out


def test_the_rule_runs_every_hour_on_the_schedule():
    on_post_migrate(sender=None)
    on_post_migrate(sender=None)

    schedule = Schedule.objects.get(func=CREDIT_HOLDS_FUNC)
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        Schedule.MINUTES,
        60,
        -1,
    )


# --- settings -----------------------------------------------------------------------------


def test_the_rule_is_turned_on_in_the_settings_and_applies_at_once(
    admin_client_, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    owes(customer, days=64)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("dunning:settings"),
            settings_post(credit_hold_overdue_days=60, credit_hold_over_limit="on"),
        )

    assert response.status_code == 302
    settings = DunningSettings.current()
    assert (settings.credit_hold_overdue_days, settings.credit_hold_over_limit) == (60, True)
    event = AuditEvent.objects.get(action="dunning.settings.updated")
    assert event.data["changes"]["credit_hold_overdue_days"] == [None, 60]
    assert fresh(customer).credit_hold


def test_the_settings_page_explains_the_rule(admin_client_):
    page = admin_client_.get(reverse("dunning:settings")).text

    assert "Credit hold after (days overdue)" in page
    assert "holds set by hand stay" in page


@pytest.mark.parametrize(
    ("days", "error"),
    [("-1", "greater than or equal to 0"), ("3651", "At most 3650 days"), ("ten", "whole number")],
)
def test_a_bad_number_of_days_is_refused_and_changes_nothing(admin_client_, days, error):
    response = admin_client_.post(
        reverse("dunning:settings"), settings_post(credit_hold_overdue_days=days)
    )

    assert response.status_code == 200
    assert error in str(response.context["form"].errors["credit_hold_overdue_days"])
    assert DunningSettings.current().credit_hold_overdue_days is None
    assert not AuditEvent.objects.filter(action="dunning.settings.updated").exists()
