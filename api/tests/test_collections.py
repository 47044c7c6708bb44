import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import Scope
from audit.models import AuditEvent
from dunning.models import (
    HoldStatus,
    PaymentPlan,
    PlanStatus,
    Policy,
    PromiseToPay,
    QueueEntry,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from invoices.models import Dispute, DisputeStatus
from invoices.services import customer_note_add
from invoices.tests.factories import CustomerFactory, InvoiceFactory


@pytest.fixture
def collections(make_token):
    """A client sending a read + write_collections token."""
    token, raw = make_token(scopes=(Scope.READ, Scope.WRITE_COLLECTIONS))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.token = token
    return client


@pytest.fixture
def overdue(db):
    customer = CustomerFactory(external_id="C1", currency="EUR")
    invoice = InvoiceFactory(customer=customer, number="INV-1", amount=Decimal("250.00"))
    return customer, invoice


@pytest.fixture
def ladder(db):
    return Policy.objects.get(is_default=True)


def _event(action):
    return AuditEvent.objects.get(action=action)


def _by_token(event, client):
    return event.actor_id is None and event.actor_label == f"API token {client.token.prefix}"


def _in_a_week():
    return (timezone.localdate() + dt.timedelta(days=7)).isoformat()


# --- disputes -------------------------------------------------------------------------------


def test_a_dispute_opened_by_invoice_number_is_audited_and_queued(collections, overdue):
    customer, invoice = overdue

    response = collections.post(
        "/api/v1/disputes/",
        {"invoice": "INV-1", "reason": "pricing", "detail": "Rate differs", "amount": "100.00"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["invoice"] == "INV-1" and body["customer"] == "C1"
    assert body["amount"] == "100.00" and body["currency"] == "EUR"
    assert body["status"] == "open"
    assert Dispute.objects.get(invoice=invoice).reason == "pricing"
    assert _by_token(_event("ledger.dispute.opened"), collections)
    row = QueueEntry.objects.get(customer=customer)
    assert row.disputed and row.overdue_total == Decimal("0")  # out of dunning


def test_a_second_dispute_on_the_invoice_is_refused_with_the_reason(collections, overdue):
    collections.post("/api/v1/disputes/", {"invoice": "INV-1", "reason": "quality"}, format="json")

    again = collections.post(
        "/api/v1/disputes/", {"invoice": "INV-1", "reason": "quality"}, format="json"
    )
    unknown = collections.post(
        "/api/v1/disputes/", {"invoice": "NOPE", "reason": "quality"}, format="json"
    )

    assert again.status_code == 400
    assert "already has an open dispute" in again.json()["error"]["details"][0]["message"]
    assert unknown.status_code == 400
    assert unknown.json()["error"]["details"][0]["field"] == "invoice"
    assert Dispute.objects.count() == 1


def test_resolving_for_the_customer_issues_the_credit_and_requeues(collections, overdue):
    customer, invoice = overdue
    opened = collections.post(
        "/api/v1/disputes/",
        {"invoice": "INV-1", "reason": "pricing", "amount": "50.00"},
        format="json",
    ).json()

    response = collections.post(
        f"/api/v1/disputes/{opened['id']}/resolve/",
        {"outcome": "resolved_for_customer", "note": "Agreed"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "resolved_for_customer"
    invoice.refresh_from_db()
    assert invoice.open_balance == Decimal("200.00")
    assert _by_token(_event("ledger.dispute.resolved"), collections)
    assert not QueueEntry.objects.get(customer=customer).disputed
    again = collections.post(
        f"/api/v1/disputes/{opened['id']}/resolve/", {"outcome": "resolved_for_us"}, format="json"
    )
    assert again.status_code == 400
    assert Dispute.objects.get().status == DisputeStatus.RESOLVED_FOR_CUSTOMER


# --- promises and plans ------------------------------------------------------------------------


def test_a_promise_is_recorded_for_named_invoices_and_pauses_the_queue(collections, overdue):
    customer, invoice = overdue

    response = collections.post(
        "/api/v1/promises/",
        {"customer": "C1", "amount": "200.00", "promised_for": _in_a_week(), "invoices": ["INV-1"]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "200.00" and body["currency"] == "EUR"
    assert body["invoices"] == ["INV-1"] and body["status"] == "open"
    event = _event("dunning.promise.recorded")
    assert _by_token(event, collections) and event.customer_id == customer.pk
    assert QueueEntry.objects.get(customer=customer).promise


def test_a_promise_over_the_open_balance_is_refused(collections, overdue):
    response = collections.post(
        "/api/v1/promises/",
        {"customer": "C1", "amount": "900.00", "promised_for": _in_a_week()},
        format="json",
    )

    assert response.status_code == 400
    assert "more than the" in response.json()["error"]["details"][0]["message"]
    assert not PromiseToPay.objects.exists()


def test_cancelling_a_promise_resumes_dunning(collections, overdue):
    customer, _ = overdue
    promise = collections.post(
        "/api/v1/promises/",
        {"customer": "C1", "amount": "100.00", "promised_for": _in_a_week()},
        format="json",
    ).json()

    response = collections.post(
        f"/api/v1/promises/{promise['id']}/cancel/", {"note": "Customer withdrew"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert PromiseToPay.objects.get().status == HoldStatus.CANCELLED
    assert _by_token(_event("dunning.promise.cancelled"), collections)
    assert not QueueEntry.objects.get(customer=customer).promise
    again = collections.post(f"/api/v1/promises/{promise['id']}/cancel/", {}, format="json")
    assert again.status_code == 400


def test_a_payment_plan_is_created_with_its_instalments(collections, overdue):
    customer, _ = overdue
    today = timezone.localdate()
    instalments = [
        {"due_date": (today + dt.timedelta(days=30 * n)).isoformat(), "amount": "125.00"}
        for n in (1, 2)
    ]

    response = collections.post(
        "/api/v1/plans/", {"customer": "C1", "instalments": instalments}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active" and body["currency"] == "EUR"
    assert body["instalments"] == instalments
    assert _by_token(_event("dunning.plan.created"), collections)
    assert QueueEntry.objects.get(customer=customer).plan
    second = collections.post(
        "/api/v1/plans/", {"customer": "C1", "instalments": instalments}, format="json"
    )
    assert second.status_code == 400
    assert PaymentPlan.objects.count() == 1


def _plan(client):
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    body = {"customer": "C1", "instalments": [{"due_date": due, "amount": "250.00"}]}
    return client.post("/api/v1/plans/", body, format="json").json()


def test_cancelling_a_plan_resumes_dunning_and_names_the_token(collections, overdue):
    customer, _ = overdue
    plan = _plan(collections)

    response = collections.post(
        f"/api/v1/plans/{plan['id']}/cancel/", {"reason": "Customer asked to stop"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert response.json()["ended_on"] == timezone.localdate().isoformat()
    event = _event("dunning.plan.cancelled")
    assert _by_token(event, collections) and event.data["note"] == "Customer asked to stop"
    assert not QueueEntry.objects.get(customer=customer).plan


def test_cancelling_a_cancelled_plan_answers_it_unchanged_and_records_nothing(collections, overdue):
    plan = _plan(collections)
    url = f"/api/v1/plans/{plan['id']}/cancel/"
    first = collections.post(url, {"reason": "Customer asked to stop"}, format="json")

    again = collections.post(url, {"reason": "Retry"}, format="json")

    assert again.status_code == 200 and again.json() == first.json()
    assert AuditEvent.objects.filter(action="dunning.plan.cancelled").count() == 1


def test_a_plan_that_ended_otherwise_cannot_be_cancelled(collections, overdue):
    plan = _plan(collections)
    PaymentPlan.objects.filter(pk=plan["id"]).update(status=PlanStatus.COMPLETED)

    response = collections.post(
        f"/api/v1/plans/{plan['id']}/cancel/", {"reason": "Too late"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "refused"
    assert "Only an active plan" in response.json()["error"]["message"]
    assert PaymentPlan.objects.get().status == PlanStatus.COMPLETED
    assert not AuditEvent.objects.filter(action="dunning.plan.cancelled").exists()


def test_a_plan_is_cancelled_with_a_reason_and_the_write_collections_scope(
    collections, api, overdue
):
    plan = _plan(collections)
    url = f"/api/v1/plans/{plan['id']}/cancel/"

    no_reason = collections.post(url, {}, format="json")
    ledger_token = api.post(url, {"reason": "Stop"}, format="json")

    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["details"][0]["field"] == "reason"
    assert ledger_token.status_code == 403
    assert PaymentPlan.objects.get().status == PlanStatus.ACTIVE


# --- notes -------------------------------------------------------------------------------------


def test_a_note_goes_on_the_timeline_by_the_token(collections, overdue):
    customer, _ = overdue

    response = collections.post(
        "/api/v1/notes/", {"customer": "C1", "text": "Called, will pay Friday"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["text"] == "Called, will pay Friday"
    assert response.json()["customer"] == "C1"
    event = _event("ledger.note.added")
    assert _by_token(event, collections) and event.customer_id == customer.pk
    assert QueueEntry.objects.filter(customer=customer).exists()
    listed = collections.get("/api/v1/notes/?customer=C1").json()["results"]
    assert [note["text"] for note in listed] == ["Called, will pay Friday"]
    assert collections.get("/api/v1/notes/?customer=C2").json()["results"] == []


def test_an_empty_note_is_refused(collections, overdue):
    response = collections.post("/api/v1/notes/", {"customer": "C1", "text": " "}, format="json")

    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="ledger.note.added").exists()


# --- scopes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/disputes/", {"invoice": "INV-1", "reason": "pricing"}),
        ("/api/v1/promises/", {"customer": "C1", "amount": "10.00", "promised_for": "2026-12-31"}),
        ("/api/v1/plans/", {"customer": "C1", "instalments": []}),
        ("/api/v1/notes/", {"customer": "C1", "text": "Hello"}),
    ],
)
def test_writes_need_the_write_collections_scope(api, overdue, url, body):
    # api sends read + write_ledger: enough for invoices, not for collections.
    response = api.post(url, body, format="json")

    assert response.status_code == 403
    assert "write_collections" in response.json()["error"]["message"]
    assert not Dispute.objects.exists() and not PromiseToPay.objects.exists()
    assert not AuditEvent.objects.filter(action="ledger.note.added").exists()


def test_reads_need_the_read_scope(make_token, overdue):
    _, raw = make_token(scopes=(Scope.WRITE_COLLECTIONS,))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get("/api/v1/disputes/").status_code == 403
    assert client.get("/api/v1/tasks/").status_code == 403
    assert APIClient().get("/api/v1/touches/").status_code == 401


# --- touches and tasks ------------------------------------------------------------------------


def _touch(customer, invoice, **fields):
    now = timezone.now()
    return Touch.objects.create(
        key=f"{customer.pk}:{Touch.objects.count()}",
        customer=customer,
        channel="email",
        status=TouchStatus.SENT,
        scheduled_for=now,
        sent_at=now,
        total=invoice.open_balance,
        currency=customer.currency,
        invoices=[
            {
                "id": invoice.pk,
                "number": invoice.number,
                "due_date": invoice.due_date.isoformat(),
                "balance": str(invoice.open_balance),
            }
        ],
        **fields,
    )


def test_a_touch_shows_its_channel_status_step_and_invoices(collections, overdue, ladder):
    customer, invoice = overdue
    step = ladder.current_version.steps.order_by("position").first()
    touch = _touch(customer, invoice, step=step)

    body = collections.get(f"/api/v1/touches/{touch.pk}/").json()

    assert body["channel"] == "email" and body["status"] == "sent"
    assert body["step"] == step.name and body["customer"] == "C1"
    assert body["sent_at"] is not None and body["total"] == "250.00"
    assert body["invoices"] == [{"number": "INV-1", "due_date": "2026-01-31", "balance": "250.00"}]
    assert collections.post("/api/v1/touches/", {}, format="json").status_code == 405


def test_a_task_is_read_only(collections, overdue, admin_user):
    customer, _ = overdue
    task = Task.objects.create(
        kind=TaskKind.CALL,
        customer=customer,
        assigned_to=admin_user,
        title="Call about INV-1",
        due_at=timezone.now(),
    )

    body = collections.get(f"/api/v1/tasks/{task.pk}/").json()

    assert body["title"] == "Call about INV-1" and body["kind"] == "call"
    assert body["customer"] == "C1" and body["assigned_to"] == admin_user.username
    assert collections.delete(f"/api/v1/tasks/{task.pk}/").status_code == 405
    assert collections.get("/api/v1/tasks/999999/").status_code == 404


def _task(customer, kind=TaskKind.CALL, status=TaskStatus.OPEN):
    return Task.objects.create(
        kind=kind, customer=customer, title="Call about INV-1", due_at=timezone.now(), status=status
    )


def test_a_call_is_completed_with_its_outcome_and_its_follow_up(collections, overdue):
    customer, _ = overdue
    task = _task(customer)

    response = collections.post(
        f"/api/v1/tasks/{task.pk}/complete/",
        {"outcome": "no_answer", "notes": "Rang twice"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "done" and body["outcome"] == "no_answer"
    assert body["notes"] == "Rang twice" and body["assigned_to"] is None
    assert _by_token(_event("dunning.call.logged"), collections)
    # No answer: the ladder's retry call, for the customer's collector.
    retry = Task.objects.get(customer=customer, status=TaskStatus.OPEN, kind=TaskKind.CALL)
    assert retry.assigned_to == customer.collector


def test_completing_a_done_task_answers_it_unchanged_and_records_nothing(collections, overdue):
    url = f"/api/v1/tasks/{_task(overdue[0], kind=TaskKind.INTERNAL).pk}/complete/"
    first = collections.post(url, {"notes": "Plan set up"}, format="json")

    again = collections.post(url, {"notes": "Retry"}, format="json")

    assert first.status_code == 200 and first.json()["status"] == "done"
    assert again.status_code == 200 and again.json() == first.json()
    assert AuditEvent.objects.filter(action="dunning.task.completed").count() == 1


@pytest.mark.parametrize(
    "kind, status, body",
    [
        (TaskKind.CALL, TaskStatus.OPEN, {}),  # a call needs its outcome
        (TaskKind.INTERNAL, TaskStatus.CANCELLED, {}),
        (TaskKind.CALL, TaskStatus.OPEN, {"outcome": "call_back"}),  # needs call_back_at
    ],
)
def test_a_task_that_cannot_be_completed_is_422_and_stays_as_it_was(
    collections, overdue, kind, status, body
):
    task = _task(overdue[0], kind=kind, status=status)

    response = collections.post(f"/api/v1/tasks/{task.pk}/complete/", body, format="json")

    assert response.status_code == 422, response.json()
    task.refresh_from_db()
    assert task.status == status and task.completed_at is None


def test_completing_a_task_needs_the_write_collections_scope(api, overdue):
    task = _task(overdue[0])

    response = api.post(f"/api/v1/tasks/{task.pk}/complete/", {"outcome": "spoke"}, format="json")

    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


# --- fixed query counts ------------------------------------------------------------------------


def _world(rows, ladder, admin_user):
    step = ladder.current_version.steps.order_by("position").first()
    for _ in range(rows):
        customer = CustomerFactory()
        invoice = InvoiceFactory(customer=customer)
        Dispute.objects.create(
            invoice=invoice, reason="pricing", amount=Decimal("10.00"), opened_on=invoice.due_date
        )
        promise = PromiseToPay.objects.create(
            customer=customer,
            amount=Decimal("5.00"),
            promised_for=dt.date(2026, 3, 1),
            made_on=dt.date(2026, 2, 1),
        )
        promise.invoices.set([invoice])
        plan = PaymentPlan.objects.create(customer=customer, agreed_on=dt.date(2026, 2, 1))
        plan.instalments.create(due_date=dt.date(2026, 3, 1), amount=Decimal("50.00"))
        plan.instalments.create(due_date=dt.date(2026, 4, 1), amount=Decimal("50.00"))
        _touch(customer, invoice, step=step)
        Task.objects.create(
            kind=TaskKind.CALL,
            customer=customer,
            assigned_to=admin_user,
            title="Call",
            due_at=timezone.now(),
        )
        customer_note_add(actor=admin_user, customer=customer, text="A note")


LISTS = ["disputes", "promises", "plans", "notes", "touches", "tasks", "policies"]


@pytest.mark.parametrize("resource", LISTS)
def test_a_list_costs_the_same_queries_for_few_or_many_rows(
    collections, ladder, admin_user, resource
):
    collections.get(f"/api/v1/{resource}/")  # the token's first use writes last_used_at

    def count(rows):
        _world(rows, ladder, admin_user)
        with CaptureQueriesContext(connection) as queries:
            response = collections.get(f"/api/v1/{resource}/?limit=1000")
        assert response.status_code == 200
        return len(queries)

    few = count(2)
    many = count(30)

    assert few == many
