import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from dunning.models import HoldStatus, PromiseToPay, QueueEntry, Task, TaskKind
from dunning.queue import queue_rebuild
from dunning.services import dunning_cycle, promise_record
from dunning.tests.factories import MONDAY_10, overdue_customer
from invoices.models import Customer
from invoices.services import dispute_open, payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from workspace import queue_selectors

pytestmark = pytest.mark.django_db

TODAY = MONDAY_10.date()


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


def owes(customer, *, days: int, amount: str = "100.00"):
    due = TODAY - dt.timedelta(days=days)
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
    )


def queued(client, **params):
    queue_rebuild(as_of=MONDAY_10)
    response = client.get(reverse("queue"), params)
    assert response.status_code == 200
    return [entry.customer.name for entry in response.context["page"].object_list]


def test_a_collector_sees_only_their_own_customers(collector_client, collector, manager):
    owes(CustomerFactory(name="Mine", collector=collector), days=10)
    owes(CustomerFactory(name="Someone else's", collector=manager), days=10)

    assert queued(collector_client) == ["Mine"]
    assert queued(collector_client, collector=manager.pk) == ["Mine"]


def test_it_ranks_by_overdue_balance_times_days_late(collector_client, collector):
    owes(CustomerFactory(name="Big but fresh", collector=collector), days=2, amount="1000.00")
    owes(CustomerFactory(name="Small and old", collector=collector), days=100, amount="50.00")
    owes(CustomerFactory(name="Middling", collector=collector), days=30, amount="300.00")

    # 1000 × 2 = 2,000; 50 × 100 = 5,000; 300 × 30 = 9,000
    assert queued(collector_client) == ["Middling", "Small and old", "Big but fresh"]


def test_a_broken_promise_comes_first_until_someone_calls(collector_client, collector):
    owes(CustomerFactory(name="Heavy", collector=collector), days=60, amount="5000.00")
    broke = CustomerFactory(name="Broke their word", collector=collector)
    owes(broke, days=5)
    PromiseToPay.objects.create(
        customer=broke,
        amount=Decimal("100.00"),
        promised_for=TODAY - dt.timedelta(days=4),
        made_on=TODAY - dt.timedelta(days=6),
        status=HoldStatus.BROKEN,
        resolved_on=TODAY - dt.timedelta(days=1),
    )
    assert queued(collector_client) == ["Broke their word", "Heavy"]

    Task.objects.create(
        kind=TaskKind.CALL,
        customer=broke,
        title="Call",
        due_at=MONDAY_10 - dt.timedelta(hours=1),
        status="done",
        completed_at=MONDAY_10 - dt.timedelta(minutes=30),
        outcome="spoke",
    )
    assert queued(collector_client) == ["Heavy", "Broke their word"]


def test_a_due_phone_task_comes_first(collector_client, collector):
    owes(CustomerFactory(name="Heavy", collector=collector), days=60, amount="5000.00")
    ring = CustomerFactory(name="Ring them", collector=collector)
    owes(ring, days=3)
    Task.objects.create(
        kind=TaskKind.CALL, customer=ring, title="Call", due_at=MONDAY_10 - dt.timedelta(hours=1)
    )

    assert queued(collector_client) == ["Ring them", "Heavy"]
    assert queued(collector_client, flag="call_due") == ["Ring them"]


def test_a_promise_moves_the_customer_down_at_once_with_its_date(collector_client, collector):
    promising = CustomerFactory(name="Promising", collector=collector)
    owes(promising, days=90, amount="900.00")
    owes(CustomerFactory(name="Other", collector=collector), days=10)
    assert queued(collector_client) == ["Promising", "Other"]

    promise_record(
        actor=collector,
        customer=promising,
        amount=Decimal("900.00"),
        promised_for=TODAY + dt.timedelta(days=7),
        made_on=TODAY,
    )
    response = collector_client.get(reverse("queue"))

    names = [entry.customer.name for entry in response.context["page"].object_list]
    assert names == ["Other", "Promising"]
    assert "Paused" in response.text
    assert "Promised for 23 Mar 2026" in response.text  # TODAY + 7 days, en-GB by default


def test_disputed_invoices_are_not_chased_but_the_customer_waits_in_the_queue(
    collector_client, collector
):
    disputed = owes(CustomerFactory(name="Disputed", collector=collector), days=20)
    dispute_open(actor=collector, invoice=disputed, reason="pricing", opened_on=TODAY)
    owes(CustomerFactory(name="Not due", collector=collector), days=-3)

    assert queued(collector_client) == ["Disputed"]
    assert queued(collector_client, flag="disputed") == ["Disputed"]
    entry = QueueEntry.objects.get(customer__name="Disputed")
    assert (entry.overdue_total, entry.disputed_total) == (Decimal("0.00"), Decimal("100.00"))


def test_it_shows_the_overdue_balance_and_oldest_days_late(collector_client, collector):
    customer = CustomerFactory(name="Harbour", collector=collector)
    owes(customer, days=45, amount="100.00")
    owes(customer, days=5, amount="250.00")
    queue_rebuild(as_of=MONDAY_10)

    response = collector_client.get(reverse("queue"))

    [row] = response.context["page"].object_list
    assert (row.overdue_total, row.overdue_count, row.days_late) == (Decimal("350.00"), 2, 45)
    assert "£350.00" in response.text


def test_filters_narrow_by_age_currency_and_search(manager_client, collector):
    owes(CustomerFactory(name="Old pounds", collector=collector), days=100)
    owes(CustomerFactory(name="Young euros", collector=collector, currency="EUR"), days=10)

    assert queued(manager_client, bucket="90_plus") == ["Old pounds"]
    assert queued(manager_client, bucket="1_30") == ["Young euros"]
    assert queued(manager_client, currency="EUR") == ["Young euros"]
    assert queued(manager_client, q="pounds") == ["Old pounds"]


def test_a_manager_sees_everyone_and_can_pick_a_collector_or_nobody(manager_client, collector):
    owes(CustomerFactory(name="Colin's", collector=collector), days=10)
    owes(CustomerFactory(name="Unassigned"), days=20)

    assert queued(manager_client) == ["Unassigned", "Colin's"]
    assert queued(manager_client, collector=collector.pk) == ["Colin's"]
    assert queued(manager_client, collector="none") == ["Unassigned"]


def test_a_bad_filter_value_is_reported_and_ignored(manager_client):
    owes(CustomerFactory(name="Unassigned"), days=20)
    queue_rebuild(as_of=MONDAY_10)

    response = manager_client.get(reverse("queue"), {"collector": "x", "page": "abc"})

    assert [e.customer.name for e in response.context["page"].object_list] == ["Unassigned"]
    assert "was ignored" in response.text


def test_a_paid_customer_leaves_the_queue_after_the_next_rebuild(collector_client, collector):
    payer = CustomerFactory(name="Payer", collector=collector)
    owes(payer, days=10)
    assert queued(collector_client) == ["Payer"]

    payment_record(actor=None, customer=payer, amount=Decimal("100.00"), received_on=TODAY)

    assert queued(collector_client) == []
    assert not QueueEntry.objects.exists()


def test_the_queue_costs_the_same_queries_for_5_and_500_invoices(manager_client, collector):
    def queries_for(customers, invoices_each):
        for number in range(customers):
            customer = overdue_customer(
                days=number + 1, invoices=invoices_each, collector=collector
            )
            customer.save()
        queue_rebuild(as_of=MONDAY_10)
        with CaptureQueriesContext(connection) as captured:
            response = manager_client.get(reverse("queue"))
        assert response.status_code == 200
        return len(captured)

    few = queries_for(5, 1)
    many = queries_for(50, 10)  # 500 more invoices
    assert few == many


# --- what a row says ------------------------------------------------------------------------


def row_of(response, customer) -> str:
    url = reverse("customer_detail", args=[customer.pk])
    [row] = re.findall(rf'<tr data-href="{url}".*?</tr>', response.text, re.S)
    return row


def test_a_row_and_the_customer_page_both_flag_a_call_due(collector_client, collector):
    customer = CustomerFactory(name="Saltmarsh Interiors", collector=collector)
    owes(customer, days=35)
    Task.objects.create(kind=TaskKind.CALL, customer=customer, title="Call them", due_at=MONDAY_10)
    queue_rebuild(as_of=MONDAY_10)

    queue = collector_client.get(reverse("queue"))
    page = collector_client.get(reverse("customer_detail", args=[customer.pk]))

    assert '<span class="badge badge-danger">Call due</span>' in row_of(queue, customer)
    assert [flag.label for flag in page.context["view"].flags] == ["Call due"]
    assert "No flags" not in page.text


def test_a_complete_ladder_shows_its_suggestion_in_full_behind_more(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    owes(customer, days=400)
    queue_rebuild(as_of=MONDAY_10)
    reason = (
        "Ladder complete: every step has been taken in this chase and the oldest invoice "
        "INV-1 is 400 days overdue. A collector decides what happens next: consider a legal "
        "referral, a collection agency or a write-off."
    )
    QueueEntry.objects.filter(customer=customer).update(next_step="", next_reason=reason)

    row = row_of(collector_client.get(reverse("queue")), customer)

    assert "Ladder complete" in row
    assert "consider a legal referral, a collection agency or a write-off." in row
    assert '<span class="clamp-more">more</span>' in row
    assert "…" not in row


def test_a_paused_row_gives_the_engines_words_with_each_date_once(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    owes(customer, days=20)
    promise_record(
        actor=collector,
        customer=customer,
        amount=Decimal("100.00"),
        promised_for=TODAY + dt.timedelta(days=7),
        made_on=TODAY,
        grace_days=0,
    )

    row = row_of(collector_client.get(reverse("queue")), customer)

    assert '<span class="badge badge-warn">Paused</span>' in row
    assert "until 23 Mar 2026)." in row
    assert row.count("until 23 Mar 2026") == 1


def test_a_legal_referral_is_named_once(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    owes(customer, days=90)
    queue_rebuild(as_of=MONDAY_10)
    QueueEntry.objects.filter(customer=customer).update(
        next_step="Legal referral", next_channel="legal", next_at=MONDAY_10
    )

    row = row_of(collector_client.get(reverse("queue")), customer)

    assert "Legal referral" in row
    assert "Legal referral (Legal referral)" not in row
    assert "Legal referral as a legal referral" not in row


def test_the_last_touch_names_the_step_that_went_out(collector_client, collector):
    customer = overdue_customer(days=3, collector=collector)
    dunning_cycle(as_of=MONDAY_10)

    row = row_of(collector_client.get(reverse("queue")), customer)

    assert "Friendly reminder by email" in row
    assert "16 Mar 2026, 10:00" in row


# --- bulk actions ------------------------------------------------------------------------


def test_a_bulk_hold_asks_for_confirmation_before_changing_anything(collector_client, collector):
    customer = CustomerFactory(name="Hold me", collector=collector)
    owes(customer, days=10)
    queue_rebuild(as_of=MONDAY_10)

    response = collector_client.post(
        reverse("queue_bulk"), {"action": "hold", "customer": [customer.pk]}
    )

    assert response.status_code == 200
    assert "Confirm: put on hold" in response.text
    customer.refresh_from_db()
    assert not customer.on_hold


def test_a_confirmed_bulk_hold_holds_each_customer_audited_and_queued(collector_client, collector):
    first, second = (CustomerFactory(collector=collector) for _ in range(2))
    owes(first, days=10)
    owes(second, days=20)
    queue_rebuild(as_of=MONDAY_10)

    response = collector_client.post(
        reverse("queue_bulk"),
        {
            "action": "hold",
            "customer": [first.pk, second.pk],
            "reason": "Awaiting remittance",
            "until": (TODAY + dt.timedelta(days=5)).isoformat(),
            "confirm": "1",
        },
    )

    assert response.status_code == 302
    assert Customer.objects.filter(on_hold=True).count() == 2
    assert AuditEvent.objects.filter(action="dunning.hold.set").count() == 2
    assert set(QueueEntry.objects.values_list("on_hold", flat=True)) == {True}


def test_a_bulk_hold_without_a_reason_is_refused_and_changes_nothing(collector_client, collector):
    customer = CustomerFactory(collector=collector)
    owes(customer, days=10)

    response = collector_client.post(
        reverse("queue_bulk"), {"action": "hold", "customer": [customer.pk], "confirm": "1"}
    )

    assert response.status_code == 200
    assert "Give a reason for the hold." in response.text
    customer.refresh_from_db()
    assert not customer.on_hold


def test_a_collector_cannot_act_on_someone_elses_customers(collector_client, manager):
    theirs = CustomerFactory(collector=manager)
    owes(theirs, days=10)

    collector_client.post(
        reverse("queue_bulk"),
        {"action": "hold", "customer": [theirs.pk], "reason": "x", "confirm": "1"},
    )

    theirs.refresh_from_db()
    assert not theirs.on_hold


def test_a_collector_cannot_assign_customers(collector_client, collector, manager):
    customer = CustomerFactory(collector=collector)
    owes(customer, days=10)

    collector_client.post(
        reverse("queue_bulk"),
        {"action": "assign", "customer": [customer.pk], "collector": manager.pk, "confirm": "1"},
    )

    customer.refresh_from_db()
    assert customer.collector == collector


def test_a_manager_assigns_customers_and_their_queue_rows_follow(manager_client, manager):
    customer = CustomerFactory(collector=None)
    owes(customer, days=10)
    queue_rebuild(as_of=MONDAY_10)

    manager_client.post(
        reverse("queue_bulk"),
        {"action": "assign", "customer": [customer.pk], "collector": manager.pk, "confirm": "1"},
    )

    customer.refresh_from_db()
    assert customer.collector == manager
    assert QueueEntry.objects.get(customer=customer).collector == manager


@pytest.mark.parametrize("few", [True, False])
def test_an_age_bucket_lists_in_queue_order_whether_sorted_or_walked(
    manager_client, collector, monkeypatch, few
):
    """A small bucket is read by age and sorted, a large one walked in the queue's order:
    the same customers in the same order either way."""
    monkeypatch.setattr(queue_selectors, "FEW_IN_BUCKET", 100 if few else 0)
    for name, days, amount in [
        ("Heavy", 40, "900.00"),
        ("Light", 35, "20.00"),
        ("Middle", 50, "300.00"),
        ("Too old", 95, "5000.00"),
        ("Too young", 10, "5000.00"),
    ]:
        owes(CustomerFactory(name=name, collector=collector), days=days, amount=amount)
    promised = CustomerFactory(name="Promised", collector=collector)
    owes(promised, days=45, amount="10000.00")
    promise_record(
        actor=collector,
        customer=promised,
        amount=Decimal("10000.00"),
        promised_for=TODAY + dt.timedelta(days=7),
        made_on=TODAY,
    )

    # Chasing first, heaviest first (balance × days late); waiting customers after.
    assert queued(manager_client, bucket="31_60") == ["Heavy", "Middle", "Light", "Promised"]
