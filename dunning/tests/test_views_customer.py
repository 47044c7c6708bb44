import datetime as dt
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dunning.models import (
    Chase,
    CustomerPolicy,
    DunningSettings,
    PaymentPlan,
    Policy,
    PromiseToPay,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
)
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def overdue_customer(days=10, **fields):
    today = timezone.localdate()
    customer = CustomerFactory(**fields)
    ContactFactory(customer=customer)
    InvoiceFactory(
        customer=customer,
        issue_date=today - dt.timedelta(days=days + 30),
        due_date=today - dt.timedelta(days=days),
    )
    return customer


def panel(client, customer):
    return client.get(reverse("dunning:customer_panel", args=[customer.pk]))


def test_the_panel_says_what_comes_next_and_why(collector_client):
    customer = overdue_customer(days=10)

    response = panel(collector_client, customer)

    planned = response.context["planned"]
    assert planned.plan.action is not None
    assert planned.plan.action.reason in response.content.decode()


def test_the_panel_shows_a_promise_as_the_pause(collector_client):
    customer = overdue_customer()
    collector_client.post(
        reverse("dunning:promise_new", args=[customer.pk]),
        {"amount": "50.00", "promised_for": timezone.localdate().isoformat()},
    )

    response = panel(collector_client, customer)

    assert response.context["planned"].plan.paused_by
    assert "Paused" in response.content.decode()


def test_recording_a_promise_for_some_invoices_names_them(collector_client):
    customer = overdue_customer()
    invoice = customer.invoices.get()
    day = timezone.localdate() + dt.timedelta(days=5)

    response = collector_client.post(
        reverse("dunning:promise_new", args=[customer.pk]),
        {"amount": "100.00", "promised_for": day.isoformat(), "invoices": [invoice.pk]},
    )

    promise = PromiseToPay.objects.get()
    assert response.url.startswith(reverse("customer_detail", args=[customer.pk]))
    assert (promise.amount, promise.promised_for) == (Decimal("100.00"), day)
    assert list(promise.invoices.all()) == [invoice]


def test_a_promise_in_the_past_is_a_form_error(collector_client):
    customer = overdue_customer()

    response = collector_client.post(
        reverse("dunning:promise_new", args=[customer.pk]),
        {"amount": "10", "promised_for": "2020-01-01"},
    )

    assert response.status_code == 200
    assert "promised_for" in response.context["form"].errors
    assert not PromiseToPay.objects.exists()


def test_a_manual_hold_is_set_and_released(collector_client):
    customer = overdue_customer()
    until = timezone.localdate() + dt.timedelta(days=14)

    collector_client.post(
        reverse("dunning:hold_set", args=[customer.pk]),
        {"reason": "Restructuring", "until": until.isoformat()},
    )
    customer.refresh_from_db()
    assert (customer.on_hold, customer.hold_reason, customer.hold_until) == (
        True,
        "Restructuring",
        until,
    )

    collector_client.post(reverse("dunning:hold_release", args=[customer.pk]))
    customer.refresh_from_db()
    assert not customer.on_hold


def test_a_hold_needs_a_reason(collector_client):
    customer = overdue_customer()

    response = collector_client.post(reverse("dunning:hold_set", args=[customer.pk]), {})

    assert "reason" in response.context["form"].errors


def plan_data():
    first = timezone.localdate() + dt.timedelta(days=7)
    return {"count": 3, "amount": "100.00", "first_date": first.isoformat(), "every": "month"}


def test_the_plan_schedule_is_shown_before_anything_is_saved(collector_client):
    customer = overdue_customer()

    response = collector_client.post(reverse("dunning:plan_new", args=[customer.pk]), plan_data())

    assert [amount for _, amount in response.context["schedule"]] == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    assert not PaymentPlan.objects.exists()


def test_confirming_the_plan_creates_its_instalments(collector_client):
    customer = overdue_customer()

    collector_client.post(
        reverse("dunning:plan_new", args=[customer.pk]), {**plan_data(), "confirm": "1"}
    )

    plan = PaymentPlan.objects.get(customer=customer)
    first = timezone.localdate() + dt.timedelta(days=7)
    assert list(plan.instalments.values_list("due_date", "amount")) == [
        (first, Decimal("33.33")),
        (first + relativedelta(months=1), Decimal("33.33")),
        (first + relativedelta(months=2), Decimal("33.34")),
    ]


def test_a_second_active_plan_is_a_form_error(collector_client):
    customer = overdue_customer()
    url = reverse("dunning:plan_new", args=[customer.pk])
    collector_client.post(url, {**plan_data(), "confirm": "1"})

    response = collector_client.post(url, {**plan_data(), "confirm": "1"})

    assert "already has an active payment plan" in str(response.context["form"].errors)
    assert PaymentPlan.objects.count() == 1


def test_an_admin_assigns_a_policy_to_a_customer(admin_client_):
    customer = overdue_customer()
    standard = Policy.objects.get(name="Standard")

    admin_client_.post(
        reverse("dunning:customer_policy", args=[customer.pk]), {"policy": standard.pk}
    )

    assert CustomerPolicy.objects.get(customer=customer).policy == standard


def test_a_collector_cannot_assign_a_policy(collector_client):
    customer = overdue_customer()

    response = collector_client.post(reverse("dunning:customer_policy", args=[customer.pk]), {})

    assert response.status_code == 403


def test_the_panel_costs_the_same_queries_for_5_or_50_touches_and_promises(collector_client):
    def queries_with(count):
        customer = overdue_customer()
        for i in range(count):
            Touch.objects.create(
                key=f"{customer.pk}-{i}",
                customer=customer,
                channel="email",
                status="sent",
                scheduled_for=timezone.now(),
                currency="GBP",
            )
            PromiseToPay.objects.create(
                customer=customer,
                amount=Decimal("1"),
                promised_for=timezone.localdate(),
                made_on=timezone.localdate(),
            ).invoices.set(customer.invoices.all())
        with CaptureQueriesContext(connection) as queries:
            assert panel(collector_client, customer).status_code == 200
        return len(queries)

    assert queries_with(5) == queries_with(50)


# --- calls ----------------------------------------------------------------------------------


def call_task(assignee, *, due_in=dt.timedelta(hours=1), customer=None):
    customer = customer or overdue_customer(days=31)
    return Task.objects.create(
        kind=TaskKind.CALL,
        customer=customer,
        assigned_to=assignee,
        title="Phone call",
        detail="The oldest invoice is 31 days overdue.",
        due_at=timezone.now() + due_in,
    )


def test_a_collector_sees_only_their_own_calls(collector_client, collector, manager):
    mine = call_task(collector)
    call_task(manager)

    response = collector_client.get(reverse("dunning:calls"))

    assert list(response.context["page"].object_list) == [mine]


def test_a_manager_can_look_at_a_collectors_calls(manager_client, collector):
    task = call_task(collector)

    response = manager_client.get(reverse("dunning:calls"), {"collector": collector.pk})

    assert list(response.context["page"].object_list) == [task]


def test_an_overdue_call_is_highlighted(collector_client, collector):
    call_task(collector, due_in=-dt.timedelta(hours=3))

    response = collector_client.get(reverse("dunning:calls"))

    assert response.context["page"].object_list[0].overdue
    assert "Overdue" in response.content.decode()


def test_logging_an_outcome_completes_the_call(collector_client, collector):
    task = call_task(collector)

    collector_client.post(
        reverse("dunning:task_complete", args=[task.pk]),
        {"outcome": "no_answer", "notes": "Voicemail"},
    )

    task.refresh_from_db()
    assert (task.status, task.outcome, task.notes) == (TaskStatus.DONE, "no_answer", "Voicemail")
    assert AuditEvent.objects.filter(action="dunning.call.logged").exists()


def test_a_call_without_an_outcome_stays_open(collector_client, collector):
    task = call_task(collector)

    collector_client.post(reverse("dunning:task_complete", args=[task.pk]), {"outcome": ""})

    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_the_calls_list_costs_the_same_queries_for_5_or_50_calls(collector_client, collector):
    def queries_with(count):
        Task.objects.all().delete()
        for _ in range(count):
            call_task(collector)
        with CaptureQueriesContext(connection) as queries:
            assert collector_client.get(reverse("dunning:calls")).status_code == 200
        return len(queries)

    assert queries_with(5) == queries_with(50)


# --- preview --------------------------------------------------------------------------------


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Touch, Chase, Task, PromiseToPay, AuditEvent, DunningSettings)
    }


def test_the_preview_lists_what_goes_out_and_writes_nothing(manager_client):
    customer = overdue_customer(days=10, name="Harbour Foods Ltd")
    before = row_counts()

    response = manager_client.get(reverse("dunning:preview"))

    assert [row.customer_id for row in response.context["rows"]] == [customer.pk]
    assert row_counts() == before


def test_the_preview_filters_by_channel(manager_client):
    overdue_customer(days=10)

    response = manager_client.get(reverse("dunning:preview"), {"channel": "phone"})

    assert response.context["rows"] == []


def test_the_preview_filters_by_collector(manager_client, collector):
    overdue_customer(days=10, collector=collector)
    overdue_customer(days=10)

    response = manager_client.get(reverse("dunning:preview"), {"collector": collector.pk})

    assert len(response.context["rows"]) == 1


def test_a_collector_cannot_open_the_preview(collector_client):
    assert collector_client.get(reverse("dunning:preview")).status_code == 403
