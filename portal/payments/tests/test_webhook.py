"""Stripe's signed events: a confirmed payment is recorded once, allocated, stops chasing
and is confirmed to the contact; anything not signed for us in the last five minutes is
refused with nothing recorded."""

import datetime as dt
import json
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dunning.models import ChaseStatus, QueueEntry, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.queue import queue_refresh
from invoices.models import Allocation, InvoiceStatus, Payment, PaymentMethod
from portal.models import CheckoutSession, CheckoutStatus, Confirmation, ProviderEvent
from portal.payments.views import stripe_webhook
from workspace.timeline import timeline_for

from .conftest import WEBHOOK_SECRET
from .stripe_stand_in import signature
from .world import Account, weekday_morning_before_today

pytestmark = pytest.mark.django_db


def _checkout(client, account, invoices=None):
    invoices = account.invoices if invoices is None else invoices
    client.post(account.url("portal:pay"), {"invoice": [i.pk for i in invoices]})
    return CheckoutSession.objects.latest("pk")


def _post(client, body: bytes, header: str | None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return client.post(
        reverse("portal:stripe_webhook"),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def _paid_event(stand_in, checkout) -> tuple[dict, bytes]:
    event = stand_in.event(stand_in.pay(checkout.session_id))
    return event, json.dumps(event).encode()


def _nothing_recorded(checkout):
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.OPEN
    assert not Payment.objects.exists()
    assert not ProviderEvent.objects.exists()


# --- recording ------------------------------------------------------------------------------


def test_a_confirmed_payment_is_recorded_allocated_and_confirmed(client, account, stand_in):
    checkout = _checkout(client, account)
    event = stand_in.complete(checkout.session_id)

    payment = Payment.objects.get()
    checkout.refresh_from_db()
    assert stand_in.deliveries == [(event["id"], 200)]
    assert (payment.amount, payment.currency, payment.method) == (
        Decimal("250.50"),
        "GBP",
        PaymentMethod.CARD,
    )
    assert payment.reference == event["data"]["object"]["payment_intent"]
    assert payment.received_on == timezone.localdate()
    assert sorted(Allocation.objects.values_list("invoice__number", "amount")) == [
        (account.invoices[0].number, Decimal("100.00")),
        (account.invoices[1].number, Decimal("150.50")),
    ]
    for invoice in account.invoices:
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
    assert (checkout.status, checkout.payment) == (CheckoutStatus.PAID, payment)
    confirmation = Confirmation.objects.get(key=f"payment:{payment.pk}")
    assert confirmation.to_email == account.contact.email
    assert "£250.50" in confirmation.subject
    assert account.invoices[1].number in confirmation.body_text
    audit = AuditEvent.objects.get(action="portal.payment.received")
    assert audit.data["via"] == "customer_page" and audit.data["payment_id"] == payment.pk


def test_paying_everything_stops_chasing_at_once(client, account, stand_in):
    # An earlier run chased the customer and planned a message not yet sent.
    dunning_run(as_of=weekday_morning_before_today())
    queue_refresh(customer_ids=[account.customer.pk])
    assert QueueEntry.objects.filter(customer=account.customer).exists()
    chase = account.customer.chases.get()
    assert Touch.objects.filter(customer=account.customer, status=TouchStatus.PENDING).exists()

    stand_in.complete(_checkout(client, account).session_id)

    chase.refresh_from_db()
    assert chase.status == ChaseStatus.CLOSED
    assert not Touch.objects.filter(customer=account.customer, status=TouchStatus.PENDING).exists()
    assert not QueueEntry.objects.filter(customer=account.customer).exists()


def test_the_timeline_shows_the_payment_made_on_the_customer_page(client, account, stand_in):
    stand_in.complete(_checkout(client, account).session_id)
    texts = [entry.said.text for entry in timeline_for(account.customer).entries]
    assert any(t.startswith("Payment of £250.50 paid online by Ada Payables") for t in texts)
    assert any("started paying £250.50 online" in t for t in texts)


def test_the_receipt_waits_for_the_event_and_never_trusts_the_redirect(client, account, stand_in):
    checkout = _checkout(client, account)
    done = account.url("portal:pay_done", checkout.pk)

    waiting = client.get(done).content.decode()
    stand_in.complete(checkout.session_id)
    received = client.get(done).content.decode()

    assert "We are confirming your payment" in waiting and 'hx-trigger="every 2s"' in waiting
    assert "Payment received" in received and "hx-trigger" not in received
    assert account.invoices[0].number in received


def test_another_customers_receipt_is_the_one_404(client, account, stand_in):
    other = Account()
    checkout = _checkout(client, other)
    response = client.get(account.url("portal:pay_done", checkout.pk))
    assert response.status_code == 404


def test_the_same_event_delivered_twice_records_one_payment(client, account, stand_in):
    checkout = _checkout(client, account)
    event = stand_in.complete(checkout.session_id)
    again = stand_in.deliver(event)  # Stripe's retry: same event, fresh signature
    assert again == 200
    assert Payment.objects.count() == 1
    assert Confirmation.objects.count() == 1
    assert AuditEvent.objects.filter(action="portal.payment.received").count() == 1


def test_a_second_paid_event_for_the_same_session_records_nothing(client, account, stand_in):
    checkout = _checkout(client, account)
    stand_in.complete(checkout.session_id)
    late = stand_in.event(
        stand_in.sessions[checkout.session_id], "checkout.session.async_payment_succeeded"
    )
    assert stand_in.deliver(late) == 200
    assert Payment.objects.count() == 1


def test_a_delayed_method_is_recorded_when_its_payment_succeeds(client, account, stand_in):
    checkout = _checkout(client, account)
    session = dict(stand_in.sessions[checkout.session_id], status="complete")
    stand_in.deliver(stand_in.event(session))  # completed, unpaid: a bank debit pending
    assert not Payment.objects.exists()
    paid = stand_in.pay(checkout.session_id)
    stand_in.deliver(stand_in.event(paid, "checkout.session.async_payment_succeeded"))
    assert Payment.objects.get().amount == Decimal("250.50")


def test_an_amount_other_than_asked_is_kept_unapplied_for_matching(client, account, stand_in):
    checkout = _checkout(client, account)
    session = stand_in.pay(checkout.session_id)
    session["amount_total"] = 20000
    stand_in.deliver(stand_in.event(session))
    payment = Payment.objects.get()
    assert (payment.amount, payment.unapplied) == (Decimal("200.00"), Decimal("200.00"))
    assert not Allocation.objects.exists()
    assert "expected" in AuditEvent.objects.get(action="portal.payment.received").data["mismatch"]


def test_an_invoice_settled_meanwhile_leaves_the_rest_as_credit(client, account, stand_in):
    checkout = _checkout(client, account)
    first = account.invoices[0]
    first.status, first.open_balance = InvoiceStatus.PAID, Decimal("0.00")
    first.save()
    stand_in.complete(checkout.session_id)
    payment = Payment.objects.get()
    assert payment.unapplied == Decimal("100.00")
    assert Allocation.objects.get().invoice == account.invoices[1]


def test_an_event_for_a_session_we_never_made_is_acknowledged_and_ignored(client, stand_in):
    session = stand_in.session_create({"mode": "payment", "line_items": []}, "")
    assert stand_in.deliver(stand_in.event(stand_in.pay(session["id"]))) == 200
    assert not Payment.objects.exists()


# --- refusing -------------------------------------------------------------------------------


def test_a_forged_signature_is_refused(client, account, stand_in):
    checkout = _checkout(client, account)
    _, body = _paid_event(stand_in, checkout)
    assert _post(client, body, signature(body, "whsec_someone_else")).status_code == 400
    _nothing_recorded(checkout)


def test_an_unsigned_event_is_refused(client, account, stand_in):
    checkout = _checkout(client, account)
    _, body = _paid_event(stand_in, checkout)
    assert _post(client, body, None).status_code == 400
    assert _post(client, body, "t=1,v0=abc").status_code == 400
    _nothing_recorded(checkout)


def test_a_stale_timestamp_is_refused(client, account, stand_in):
    checkout = _checkout(client, account)
    _, body = _paid_event(stand_in, checkout)
    old = int(timezone.now().timestamp()) - 301
    assert _post(client, body, signature(body, WEBHOOK_SECRET, old)).status_code == 400
    _nothing_recorded(checkout)


def test_a_tampered_amount_is_refused(client, account, stand_in):
    checkout = _checkout(client, account)
    event, body = _paid_event(stand_in, checkout)
    header = signature(body, WEBHOOK_SECRET)
    event["data"]["object"]["amount_total"] = 1
    assert _post(client, json.dumps(event).encode(), header).status_code == 400
    _nothing_recorded(checkout)


def test_a_captured_delivery_replayed_later_is_refused(client, account, stand_in):
    checkout = _checkout(client, account)
    _, body = _paid_event(stand_in, checkout)
    header = signature(body, WEBHOOK_SECRET)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        replayed = _post(client, body, header)
    _t, v1 = header.split(",")
    moved = f"t={int(timezone.now().timestamp()) + 360},{v1}"  # a fresh t on the old MAC
    assert replayed.status_code == 400
    assert _post(client, body, moved).status_code == 400
    _nothing_recorded(checkout)


def test_only_post_is_answered(client):
    assert client.get(reverse("portal:stripe_webhook")).status_code == 405


def test_a_failing_database_answers_500_and_the_retry_records_once(client, account, stand_in):
    checkout = _checkout(client, account)
    event, _ = _paid_event(stand_in, checkout)
    _break_confirmations()
    try:
        assert stand_in.deliver(event) == 500
        _nothing_recorded(checkout)
    finally:
        _mend_confirmations()
    assert stand_in.deliver(event) == 200
    assert Payment.objects.count() == 1 and ProviderEvent.objects.count() == 1


# The last write of the handling fails, as a full disk or a lost connection would.
def _break_confirmations():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_confirmation() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_confirmation BEFORE INSERT ON portal_confirmation "
                "FOR EACH ROW EXECUTE FUNCTION refuse_confirmation()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_confirmation BEFORE INSERT ON portal_confirmation "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )


def _mend_confirmations():
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER refuse_confirmation"
            + (" ON portal_confirmation" if connection.vendor == "postgresql" else "")
        )
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION refuse_confirmation()")


def test_the_receipt_stops_checking_after_an_hour_and_says_email_follows(client, account, stand_in):
    checkout = _checkout(client, account)
    CheckoutSession.objects.filter(pk=checkout.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=2)
    )
    page = client.get(account.url("portal:pay_done", checkout.pk)).content.decode()
    assert "hx-trigger" not in page and "email you a confirmation" in page


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_once_records_one_payment(client, stand_in):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent deliveries need PostgreSQL's row locks")
    account = Account()
    checkout = _checkout(client, account)
    _, body = _paid_event(stand_in, checkout)
    header = signature(body, WEBHOOK_SECRET)
    start = threading.Barrier(2)
    statuses = []

    def deliver():
        request = RequestFactory().post(
            reverse("portal:stripe_webhook"),
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": header},
        )
        try:
            start.wait()
            statuses.append(stripe_webhook(request).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    assert Payment.objects.count() == 1 and ProviderEvent.objects.count() == 1
