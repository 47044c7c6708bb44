import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.services import dispute_open
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    time_machine.move_to(dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC), tick=False)


def owes(customer, *, days: int, amount: str = "100.00"):
    due = TODAY - dt.timedelta(days=days)
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
    )


def queued(response):
    return [customer.name for customer in response.context["page"].object_list]


def test_a_collector_sees_only_their_own_customers(collector_client, collector, manager):
    owes(CustomerFactory(name="Mine", collector=collector), days=10)
    owes(CustomerFactory(name="Someone else's", collector=manager), days=10)

    response = collector_client.get(reverse("queue"))

    assert queued(response) == ["Mine"]


def test_a_collector_cannot_look_at_another_collectors_queue(collector_client, collector, manager):
    owes(CustomerFactory(name="Mine", collector=collector), days=10)
    owes(CustomerFactory(name="Someone else's", collector=manager), days=10)

    response = collector_client.get(reverse("queue"), {"collector": manager.pk})

    assert queued(response) == ["Mine"]


def test_it_ranks_by_overdue_balance_times_days_late(collector_client, collector):
    owes(CustomerFactory(name="Big but fresh", collector=collector), days=2, amount="1000.00")
    owes(CustomerFactory(name="Small and old", collector=collector), days=100, amount="50.00")
    owes(CustomerFactory(name="Middling", collector=collector), days=30, amount="300.00")

    response = collector_client.get(reverse("queue"))

    # 1000 × 2 = 2,000; 50 × 100 = 5,000; 300 × 30 = 9,000
    assert queued(response) == ["Middling", "Small and old", "Big but fresh"]


def test_it_leaves_out_invoices_not_yet_due_and_in_dispute(collector_client, collector):
    owes(CustomerFactory(name="Not due", collector=collector), days=-3)
    disputed = owes(CustomerFactory(name="Disputed", collector=collector), days=20)
    dispute_open(actor=collector, invoice=disputed, reason="pricing", opened_on=TODAY)

    response = collector_client.get(reverse("queue"))

    assert queued(response) == []
    assert "Nothing overdue to chase" in response.text


def test_it_shows_the_overdue_balance_and_oldest_days_late(collector_client, collector):
    customer = CustomerFactory(name="Harbour", collector=collector)
    owes(customer, days=45, amount="100.00")
    owes(customer, days=5, amount="250.00")

    response = collector_client.get(reverse("queue"))

    [row] = response.context["page"].object_list
    assert (row.overdue_total, row.overdue_count, row.days_late) == (Decimal("350.00"), 2, 45)
    assert "£350.00" in response.text


def test_a_manager_sees_everyones_customers(manager_client, collector, manager):
    owes(CustomerFactory(name="Colin's", collector=collector), days=10)
    owes(CustomerFactory(name="Unassigned"), days=20)

    response = manager_client.get(reverse("queue"))

    assert queued(response) == ["Unassigned", "Colin's"]


def test_a_manager_can_pick_one_collectors_queue(manager_client, collector):
    owes(CustomerFactory(name="Colin's", collector=collector), days=10)
    owes(CustomerFactory(name="Unassigned"), days=20)

    response = manager_client.get(reverse("queue"), {"collector": collector.pk})

    assert queued(response) == ["Colin's"]


def test_a_manager_can_see_customers_nobody_chases(manager_client, collector):
    owes(CustomerFactory(name="Colin's", collector=collector), days=10)
    owes(CustomerFactory(name="Unassigned"), days=20)

    response = manager_client.get(reverse("queue"), {"collector": "none"})

    assert queued(response) == ["Unassigned"]


def test_a_bad_collector_value_is_reported_and_ignored(manager_client):
    owes(CustomerFactory(name="Unassigned"), days=20)

    response = manager_client.get(reverse("queue"), {"collector": "x", "page": "abc"})

    assert queued(response) == ["Unassigned"]
    assert "was ignored" in response.text


def test_it_pages_without_counting(collector_client, collector):
    for number in range(51):
        owes(CustomerFactory(collector=collector), days=number + 1)

    first = collector_client.get(reverse("queue"))
    second = collector_client.get(reverse("queue"), {"page": 2})

    assert first.context["page"].has_next and not second.context["page"].has_next
    assert len(second.context["page"].object_list) == 1


def test_the_queue_costs_the_same_queries_for_5_and_50_customers(manager_client, collector):
    def queries_for(count):
        for number in range(count):
            owes(CustomerFactory(collector=collector), days=number + 1)
        with CaptureQueriesContext(connection) as captured:
            response = manager_client.get(reverse("queue"))
        assert response.status_code == 200
        return len(captured)

    assert queries_for(5) == queries_for(45)
