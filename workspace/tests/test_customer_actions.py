"""The customer page's actions: each form loads into the page by htmx and posts by htmx
(errors come back in the form, success redirects the page), and works without JavaScript
as a plain form with POST-redirect-GET."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from dunning.models import (
    HoldStatus,
    PaymentPlan,
    PromiseToPay,
    QueueEntry,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from dunning.queue import queue_refresh
from dunning.services import dunning_cycle, promise_record
from dunning.tests.factories import MONDAY_10
from dunning.tests.factories import overdue_customer as any_overdue_customer
from invoices.models import CreditNote, Dispute, DisputeStatus, InvoiceStatus
from invoices.services import dispute_open

pytestmark = pytest.mark.django_db
TODAY = MONDAY_10.date()
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


@pytest.fixture(autouse=True)
def colin(collector):
    return collector


def overdue_customer(**fields):
    # The actions here are done by the customer's own collector (the collector_client):
    # refusing everyone else is tested from the URL configuration (tests/test_ownership.py).
    colin = get_user_model().objects.get(username="colin")
    return any_overdue_customer(collector=colin, **fields)


def url(name, customer):
    return reverse(name, args=[customer.pk])


def page_url(customer):
    return reverse("customer_detail", args=[customer.pk])


def shown_messages(client, customer):
    return [str(m) for m in client.get(page_url(customer)).context["messages"]]


# --- loading a form -----------------------------------------------------------------------------

FORMS = [
    ("customer_call", "Log a call"),
    ("customer_promise", "Record a promise to pay"),
    ("customer_dispute", "Open a dispute"),
    ("customer_dispute_resolve", "Resolve a dispute"),
    ("customer_plan", "Set up a payment plan"),
    ("customer_note", "Add a note"),
    ("customer_hold", "Put chasing on hold"),
    ("customer_send", "Send the next step now"),
]


@pytest.mark.parametrize(("name", "heading"), FORMS)
def test_htmx_loads_the_form_alone_into_the_action_area(collector_client, name, heading):
    customer = overdue_customer()

    response = collector_client.get(url(name, customer), **HTMX)

    assert response.status_code == 200
    assert "site-header" not in response.text
    assert heading in response.text


@pytest.mark.parametrize(("name", "heading"), FORMS)
def test_without_javascript_the_form_opens_inside_the_whole_page(collector_client, name, heading):
    customer = overdue_customer()

    response = collector_client.get(url(name, customer))

    assert "site-header" in response.text
    assert 'id="action-area"' in response.text
    assert heading in response.text


def test_every_field_of_a_form_has_a_label(collector_client):
    customer = overdue_customer()

    text = collector_client.get(url("customer_promise", customer), **HTMX).text

    for field in ("amount", "promised_for", "note"):
        assert f'<label for="id_{field}">' in text


# --- promises -----------------------------------------------------------------------------------


def promise_data(**overrides):
    return {"amount": "100.00", "promised_for": "2026-03-20", **overrides}


@pytest.mark.parametrize(
    "data, error",
    [
        ({"amount": "99999999.00"}, "more than the £100.00 open on the invoices it covers"),
        ({"promised_for": "2030-01-01"}, "At the latest 15 Apr 2026"),
    ],
)
def test_a_promise_beyond_its_limits_is_shown_as_an_error_and_nothing_is_kept(
    collector_client, data, error
):
    customer = overdue_customer()

    response = collector_client.post(
        url("customer_promise", customer), promise_data(**data), **HTMX
    )

    assert error in response.text
    assert not PromiseToPay.objects.exists()


def test_recording_a_promise_redirects_the_page_by_htmx(collector_client):
    customer = overdue_customer()

    response = collector_client.post(url("customer_promise", customer), promise_data(), **HTMX)

    assert response["HX-Redirect"] == page_url(customer)
    promise = PromiseToPay.objects.get(customer=customer)
    assert (promise.amount, promise.promised_for) == (Decimal("100.00"), dt.date(2026, 3, 20))
    (number,) = customer.invoices.values_list("number", flat=True)
    assert shown_messages(collector_client, customer) == [
        f"Promise recorded: chasing of {number} pauses until 23 Mar 2026."
    ]


def test_a_promise_for_some_invoices_names_them(collector_client):
    customer = overdue_customer(invoices=2)
    first = customer.invoices.order_by("id").first()

    collector_client.post(
        url("customer_promise", customer), promise_data(invoices=[first.pk]), **HTMX
    )

    assert list(PromiseToPay.objects.get().invoices.all()) == [first]


def test_a_recorded_promise_shows_in_the_queue_at_once(collector_client):
    customer = overdue_customer()

    collector_client.post(url("customer_promise", customer), promise_data(), **HTMX)

    entry = QueueEntry.objects.get(customer=customer)
    assert entry.promise and entry.paused_by


def test_a_promise_in_the_past_comes_back_as_a_form_error_and_changes_nothing(collector_client):
    customer = overdue_customer()

    response = collector_client.post(
        url("customer_promise", customer), promise_data(promised_for="2026-01-01"), **HTMX
    )

    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert "promised_for" in response.context["form"].errors
    assert "site-header" not in response.text
    assert not PromiseToPay.objects.exists()


def test_without_javascript_a_promise_posts_and_redirects(collector_client):
    customer = overdue_customer()

    response = collector_client.post(url("customer_promise", customer), promise_data())

    assert response.status_code == 302
    assert response.url == page_url(customer)
    assert PromiseToPay.objects.filter(customer=customer).exists()


def test_without_javascript_a_form_error_shows_the_whole_page_with_the_form(collector_client):
    customer = overdue_customer()

    response = collector_client.post(url("customer_promise", customer), {})

    assert "site-header" in response.text
    assert "amount" in response.context["form"].errors


def test_a_promise_can_be_cancelled(collector_client, collector):
    customer = overdue_customer()
    promise = promise_record(
        actor=collector,
        customer=customer,
        amount=Decimal("10"),
        promised_for=TODAY,
        made_on=TODAY,
    )

    collector_client.post(url("customer_promise_cancel", customer), {"promise": promise.pk})

    promise.refresh_from_db()
    assert promise.status == HoldStatus.CANCELLED


def test_cancelling_takes_a_post(collector_client):
    customer = overdue_customer()

    assert collector_client.get(url("customer_promise_cancel", customer)).status_code == 405


# --- disputes -----------------------------------------------------------------------------------


def test_opening_a_dispute_takes_the_invoice_out_of_the_queue_at_once(collector_client, collector):
    customer = overdue_customer()
    invoice = customer.invoices.get()

    response = collector_client.post(
        url("customer_dispute", customer),
        {"invoice": invoice.pk, "reason": "quality", "amount": "40.00", "detail": "Broken"},
        **HTMX,
    )

    assert response["HX-Redirect"] == page_url(customer)
    dispute = Dispute.objects.get(invoice=invoice)
    assert (dispute.amount, dispute.reason, dispute.owner) == (
        Decimal("40.00"),
        "quality",
        collector,
    )
    entry = QueueEntry.objects.get(customer=customer)
    assert entry.disputed and entry.disputed_total == Decimal("100.00")


def test_the_invoice_to_dispute_can_be_chosen_from_its_row(collector_client):
    customer = overdue_customer()
    invoice = customer.invoices.get()

    response = collector_client.get(
        url("customer_dispute", customer), {"invoice": invoice.pk}, **HTMX
    )

    assert response.context["form"]["invoice"].value() == str(invoice.pk)


def test_a_dispute_above_the_open_balance_is_a_form_error(collector_client):
    customer = overdue_customer()
    invoice = customer.invoices.get()

    response = collector_client.post(
        url("customer_dispute", customer),
        {"invoice": invoice.pk, "reason": "quality", "amount": "500.00"},
        **HTMX,
    )

    assert "amount" in response.context["form"].errors
    assert not Dispute.objects.exists()


def test_an_invoice_already_disputed_cannot_be_chosen_again(collector_client, collector):
    customer = overdue_customer()
    invoice = customer.invoices.get()
    dispute_open(actor=collector, invoice=invoice, reason="pricing", opened_on=TODAY)

    response = collector_client.post(
        url("customer_dispute", customer), {"invoice": invoice.pk, "reason": "quality"}, **HTMX
    )

    assert "invoice" in response.context["form"].errors
    assert Dispute.objects.count() == 1


def test_resolving_a_dispute_for_the_customer_credits_the_invoice(collector_client, collector):
    customer = overdue_customer()
    invoice = customer.invoices.get()
    dispute = dispute_open(
        actor=collector, invoice=invoice, reason="pricing", opened_on=TODAY, amount=Decimal("30")
    )

    response = collector_client.post(
        url("customer_dispute_resolve", customer),
        {"dispute": dispute.pk, "outcome": DisputeStatus.RESOLVED_FOR_CUSTOMER},
        **HTMX,
    )

    assert response["HX-Redirect"] == page_url(customer)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_balance) == (InvoiceStatus.OPEN, Decimal("70.00"))
    assert CreditNote.objects.get().amount == Decimal("30.00")
    assert not QueueEntry.objects.get(customer=customer).disputed


def test_a_dispute_resolved_for_us_takes_no_credit(collector_client, collector):
    customer = overdue_customer()
    dispute = dispute_open(
        actor=collector, invoice=customer.invoices.get(), reason="pricing", opened_on=TODAY
    )

    response = collector_client.post(
        url("customer_dispute_resolve", customer),
        {"dispute": dispute.pk, "outcome": DisputeStatus.RESOLVED_FOR_US, "credit_amount": "5"},
        **HTMX,
    )

    assert "credit_amount" in response.context["form"].errors
    dispute.refresh_from_db()
    assert dispute.is_open


def test_another_customers_dispute_cannot_be_resolved_here(collector_client, collector):
    customer = overdue_customer()
    other = overdue_customer()
    dispute = dispute_open(
        actor=collector, invoice=other.invoices.get(), reason="pricing", opened_on=TODAY
    )

    response = collector_client.post(
        url("customer_dispute_resolve", customer),
        {"dispute": dispute.pk, "outcome": DisputeStatus.RESOLVED_FOR_US},
        **HTMX,
    )

    assert "dispute" in response.context["form"].errors


# --- payment plans ------------------------------------------------------------------------------


def plan_data(**overrides):
    return {"count": "3", "amount": "100.00", "first_date": "2026-03-23", "every": "month"}


def test_the_live_preview_shows_the_schedule_of_the_fields(collector_client):
    customer = overdue_customer()

    response = collector_client.get(url("customer_plan_preview", customer), plan_data(), **HTMX)

    assert [amount for _, amount in response.context["schedule"]] == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    assert "23 Apr 2026" in response.text


def test_the_live_preview_of_unfinished_fields_asks_for_them(collector_client):
    customer = overdue_customer()

    response = collector_client.get(url("customer_plan_preview", customer), {"count": "3"}, **HTMX)

    assert response.context["schedule"] is None
    assert "Fill in" in response.text


def test_the_plan_form_updates_its_preview_as_the_fields_change(collector_client):
    customer = overdue_customer()

    text = collector_client.get(url("customer_plan", customer), **HTMX).text

    assert 'hx-trigger="input changed delay:300ms' in text
    assert reverse("customer_plan_preview", args=[customer.pk]) in text


def test_without_javascript_the_schedule_is_shown_before_anything_is_saved(collector_client):
    customer = overdue_customer()

    response = collector_client.post(url("customer_plan", customer), plan_data())

    assert len(response.context["schedule"]) == 3
    assert not PaymentPlan.objects.exists()


def test_agreeing_the_plan_creates_its_instalments(collector_client):
    customer = overdue_customer()

    response = collector_client.post(
        url("customer_plan", customer), {**plan_data(), "confirm": "1"}, **HTMX
    )

    assert response["HX-Redirect"] == page_url(customer)
    plan = PaymentPlan.objects.get(customer=customer)
    assert list(plan.instalments.values_list("amount", flat=True)) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    assert QueueEntry.objects.get(customer=customer).plan


def test_a_second_active_plan_is_a_form_error(collector_client):
    customer = overdue_customer()
    collector_client.post(url("customer_plan", customer), {**plan_data(), "confirm": "1"})

    response = collector_client.post(
        url("customer_plan", customer), {**plan_data(), "confirm": "1"}, **HTMX
    )

    assert "already has an active payment plan" in str(response.context["form"].errors)
    assert PaymentPlan.objects.count() == 1


# --- notes --------------------------------------------------------------------------------------


def test_a_note_goes_on_the_timeline(collector_client, collector):
    customer = overdue_customer()

    response = collector_client.post(
        url("customer_note", customer), {"text": "Their AP clerk is new"}, **HTMX
    )

    assert response["HX-Redirect"] == page_url(customer)
    event = AuditEvent.objects.get(action="ledger.note.added")
    assert (event.customer_id, event.actor) == (customer.pk, collector)
    assert "Their AP clerk is new" in collector_client.get(page_url(customer)).text


def test_an_empty_note_is_a_form_error(collector_client):
    customer = overdue_customer()

    response = collector_client.post(url("customer_note", customer), {"text": "  "}, **HTMX)

    assert "text" in response.context["form"].errors
    assert not AuditEvent.objects.filter(action="ledger.note.added").exists()


# --- holds --------------------------------------------------------------------------------------


def test_a_hold_is_set_with_its_reason_and_end(collector_client):
    customer = overdue_customer()

    collector_client.post(
        url("customer_hold", customer), {"reason": "Restructuring", "until": "2026-04-01"}, **HTMX
    )

    customer.refresh_from_db()
    assert (customer.on_hold, customer.hold_reason, customer.hold_until) == (
        True,
        "Restructuring",
        dt.date(2026, 4, 1),
    )
    assert QueueEntry.objects.get(customer=customer).on_hold


def test_a_hold_needs_a_reason(collector_client):
    customer = overdue_customer()

    response = collector_client.post(url("customer_hold", customer), {}, **HTMX)

    assert "reason" in response.context["form"].errors


def test_a_hold_is_released(collector_client):
    customer = overdue_customer()
    collector_client.post(url("customer_hold", customer), {"reason": "Restructuring"})

    response = collector_client.post(url("customer_hold_release", customer))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert not customer.on_hold


def test_releasing_a_hold_takes_a_post(collector_client):
    customer = overdue_customer()

    assert collector_client.get(url("customer_hold_release", customer)).status_code == 405


# --- calls --------------------------------------------------------------------------------------


def test_logging_a_call_with_a_promise_records_the_promise(collector_client):
    customer = overdue_customer()

    response = collector_client.post(
        url("customer_call", customer),
        {"outcome": "promise", "promise_amount": "100.00", "promise_date": "2026-03-20"},
        **HTMX,
    )

    assert response["HX-Redirect"] == page_url(customer)
    assert PromiseToPay.objects.get(customer=customer).amount == Decimal("100.00")
    task = Task.objects.get(customer=customer, kind=TaskKind.CALL)
    assert (task.status, task.outcome) == (TaskStatus.DONE, "promise")
    [message] = shown_messages(collector_client, customer)
    assert message.startswith("Call logged: Promise to pay; promise of £100.00")


def test_logging_a_call_completes_the_customers_open_call_task(collector_client, collector):
    customer = overdue_customer()
    task = Task.objects.create(
        kind=TaskKind.CALL,
        customer=customer,
        assigned_to=collector,
        title="Call them",
        due_at=MONDAY_10,
    )

    collector_client.post(url("customer_call", customer), {"outcome": "spoke"}, **HTMX)

    task.refresh_from_db()
    assert (task.status, task.outcome) == (TaskStatus.DONE, "spoke")
    assert Task.objects.filter(customer=customer).count() == 1


def test_a_promise_outcome_without_an_amount_is_a_form_error(collector_client):
    customer = overdue_customer()

    response = collector_client.post(url("customer_call", customer), {"outcome": "promise"}, **HTMX)

    assert "promise_amount" in response.context["form"].errors
    assert not Task.objects.filter(customer=customer).exists()


# --- send the next step now ----------------------------------------------------------------------


def reminded_customer():
    """The friendly reminder went this morning; the second reminder is next, on Friday."""
    customer = overdue_customer(days=3)
    dunning_cycle(as_of=MONDAY_10)
    return customer


def test_the_next_step_is_previewed_as_it_will_be_sent(collector_client):
    customer = reminded_customer()

    response = collector_client.get(url("customer_send", customer), **HTMX)

    preview = response.context["preview"]
    assert preview.step_name == "Second reminder"
    assert preview.subject in response.text
    assert "Send it now" in response.text


def test_confirming_sends_the_next_step(collector_client, collector):
    customer = reminded_customer()
    sent = len(mail.outbox)

    response = collector_client.post(url("customer_send", customer), **HTMX)

    assert response["HX-Redirect"] == page_url(customer)
    touch = Touch.objects.filter(customer=customer).order_by("-id").first()
    assert (touch.step.name, touch.status, touch.created_by) == (
        "Second reminder",
        TouchStatus.SENT,
        collector,
    )
    assert len(mail.outbox) == sent + 1
    assert shown_messages(collector_client, customer) == ["Second reminder sent."]


def test_a_paused_customer_has_nothing_to_send(collector_client):
    customer = overdue_customer()
    collector_client.post(url("customer_hold", customer), {"reason": "Restructuring"})

    response = collector_client.get(url("customer_send", customer), **HTMX)

    assert response.context["preview"] is None
    assert "Nothing to send now" in response.text


def test_a_refused_send_comes_back_in_the_preview(collector_client):
    customer = reminded_customer()
    collector_client.post(url("customer_hold", customer), {"reason": "Restructuring"})
    queue_refresh(customer_ids=[customer.pk])
    before = Touch.objects.count()

    response = collector_client.post(url("customer_send", customer), **HTMX)

    assert "HX-Redirect" not in response
    assert response.context["error"]
    assert Touch.objects.count() == before
