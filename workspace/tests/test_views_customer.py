import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dunning.models import (
    Chase,
    CustomerPolicy,
    DunningSettings,
    Policy,
    PromiseToPay,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
)
from dunning.queue import queue_refresh
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


# --- calls ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def mid_morning(time_machine):
    """A call due in an hour is one of today's calls only before the last hour of the day."""
    time_machine.move_to(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC))


def call_task(assignee, *, due_in=dt.timedelta(hours=1), customer=None):
    customer = customer or overdue_customer(days=31, collector=assignee)
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

    response = collector_client.get(reverse("calls"))

    assert list(response.context["page"].object_list) == [mine]


def test_a_manager_can_look_at_a_collectors_calls(manager_client, collector):
    task = call_task(collector)

    response = manager_client.get(reverse("calls"), {"collector": collector.pk})

    assert list(response.context["page"].object_list) == [task]


def test_an_overdue_call_is_highlighted(collector_client, collector):
    call_task(collector, due_in=-dt.timedelta(hours=3))

    response = collector_client.get(reverse("calls"))

    assert response.context["page"].object_list[0].overdue
    assert "Overdue" in response.content.decode()


def test_logging_an_outcome_completes_the_call(collector_client, collector):
    task = call_task(collector)

    collector_client.post(
        reverse("task_complete", args=[task.pk]),
        {"outcome": "no_answer", "notes": "Voicemail"},
    )

    task.refresh_from_db()
    assert (task.status, task.outcome, task.notes) == (TaskStatus.DONE, "no_answer", "Voicemail")
    assert AuditEvent.objects.filter(action="dunning.call.logged").exists()


def test_a_call_without_an_outcome_stays_open(collector_client, collector):
    task = call_task(collector)

    collector_client.post(reverse("task_complete", args=[task.pk]), {"outcome": ""})

    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_the_calls_list_costs_the_same_queries_for_5_or_50_calls(collector_client, collector):
    def queries_with(count):
        Task.objects.all().delete()
        for _ in range(count):
            call_task(collector)
        with CaptureQueriesContext(connection) as queries:
            assert collector_client.get(reverse("calls")).status_code == 200
        return len(queries)

    assert queries_with(5) == queries_with(50)


# --- preview --------------------------------------------------------------------------------


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Touch, Chase, Task, PromiseToPay, AuditEvent, DunningSettings)
    }


def queued(*customers):
    """Queue rows as a run leaves them: the preview starts from them, like the queue."""
    queue_refresh(customer_ids=[c.pk for c in customers])
    return customers


def test_the_preview_lists_what_goes_out_and_writes_nothing(manager_client):
    (customer,) = queued(overdue_customer(days=10, name="Harbour Foods Ltd"))
    before = row_counts()

    response = manager_client.get(reverse("dunning:preview"))

    assert [row.customer_id for row in response.context["rows"]] == [customer.pk]
    assert row_counts() == before


def test_the_preview_lists_the_soonest_first_whatever_the_names(manager_client):
    later = overdue_customer(days=-4, name="Alder Ltd")  # its courtesy reminder: tomorrow
    now = overdue_customer(days=10, name="Zephyr Ltd")  # a reminder due now
    queued(later, now)

    response = manager_client.get(reverse("dunning:preview"))

    assert [row.customer_id for row in response.context["rows"]] == [now.pk, later.pk]


def test_the_preview_filters_by_channel(manager_client):
    queued(overdue_customer(days=10))

    response = manager_client.get(reverse("dunning:preview"), {"channel": "phone"})

    assert response.context["rows"] == []


def test_the_preview_filters_by_collector(manager_client, collector):
    queued(overdue_customer(days=10, collector=collector), overdue_customer(days=10))

    response = manager_client.get(reverse("dunning:preview"), {"collector": collector.pk})

    assert len(response.context["rows"]) == 1


def test_a_collector_cannot_open_the_preview(collector_client):
    assert collector_client.get(reverse("dunning:preview")).status_code == 403
