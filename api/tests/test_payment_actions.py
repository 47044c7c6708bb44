"""Changing a payment on file: reversing one that bounced, and applying its unapplied cash."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from api.models import Scope
from audit.models import AuditEvent
from dunning.models import QueueEntry
from invoices.models import Allocation, Invoice, Payment
from invoices.tests.factories import CustomerFactory, InvoiceFactory

PAYMENTS = "/api/v1/payments/"


def _invoice(customer, number, amount="100.00", due=dt.date(2026, 2, 1), **values):
    return InvoiceFactory(
        customer=customer, number=number, amount=Decimal(amount), due_date=due, **values
    )


def _pay(api, amount, allocations=None, customer="C1"):
    body = {"customer": customer, "amount": amount, "received_on": "2026-03-01"}
    if allocations is not None:
        body["allocations"] = allocations
    response = api.post(PAYMENTS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _balance(number):
    return Invoice.objects.get(number=number).open_balance


def _events(action):
    return AuditEvent.objects.filter(action=action)


@pytest.fixture
def acme(db):
    customer = CustomerFactory(external_id="C1", currency="GBP")
    _invoice(customer, "OLD", due=dt.date(2026, 1, 1))
    _invoice(customer, "NEW", due=dt.date(2026, 3, 1))
    return customer


# --- reverse ---------------------------------------------------------------------------------


def test_a_bounced_payment_is_reversed_and_its_invoices_are_open_again(api, acme):
    payment = _pay(api, "150.00")

    response = api.post(
        f"{PAYMENTS}{payment['id']}/reverse/", {"reason": "Cheque returned"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["reversed_on"] is not None and body["reversal_reason"] == "Cheque returned"
    assert body["unapplied"] == "0.00" and body["allocations"] == []
    assert _balance("OLD") == _balance("NEW") == Decimal("100.00")
    event = _events("ledger.payment.reversed").get()
    assert event.actor_id is None and event.actor_label == f"API token {api.token.prefix}"
    assert QueueEntry.objects.get(customer=acme).open_total == Decimal("200.00")


def test_reversing_a_reversed_payment_again_answers_it_unchanged_and_records_nothing(api, acme):
    payment = _pay(api, "50.00")
    url = f"{PAYMENTS}{payment['id']}/reverse/"
    first = api.post(url, {"reason": "Cheque returned"}, format="json")

    again = api.post(url, {"reason": "Recalled by the bank"}, format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["reversal_reason"] == "Cheque returned"
    assert _events("ledger.payment.reversed").count() == 1


def test_a_reversal_needs_a_reason(api, acme):
    payment = _pay(api, "50.00")

    response = api.post(f"{PAYMENTS}{payment['id']}/reverse/", {"reason": " "}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "reason"
    assert Payment.objects.get().reversed_on is None


def test_a_payment_received_in_the_future_cannot_be_reversed_today(api, acme):
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    body = {"customer": "C1", "amount": "50.00", "received_on": later}
    payment = api.post(PAYMENTS, body, format="json").json()

    response = api.post(f"{PAYMENTS}{payment['id']}/reverse/", {"reason": "Oops"}, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "refused"
    assert "before the day it was received" in response.json()["error"]["message"]
    assert Payment.objects.get().reversed_on is None


def test_reversing_an_unknown_payment_is_a_404(api, acme):
    response = api.post(f"{PAYMENTS}999999/reverse/", {"reason": "Bounced"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- allocate --------------------------------------------------------------------------------


def test_unapplied_cash_is_applied_to_the_invoices_named(api, acme):
    payment = _pay(api, "80.00", allocations={"OLD": "10.00"})

    response = api.post(
        f"{PAYMENTS}{payment['id']}/allocate/",
        {"allocations": [{"invoice": "NEW", "amount": "50.00"}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["unapplied"] == "20.00"
    assert sorted((a["invoice"], a["amount"]) for a in body["allocations"]) == [
        ("NEW", "50.00"),
        ("OLD", "10.00"),
    ]
    assert _balance("NEW") == Decimal("50.00")
    event = _events("ledger.payment.allocated").get()
    assert event.actor_label == f"API token {api.token.prefix}"
    assert QueueEntry.objects.get(customer=acme).open_total == Decimal("140.00")


def test_without_allocations_the_oldest_open_invoices_are_paid_first(api, acme):
    payment = _pay(api, "130.00", allocations={"NEW": "0.01"})

    response = api.post(f"{PAYMENTS}{payment['id']}/allocate/", {}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["unapplied"] == "0.00"
    assert _balance("OLD") == Decimal("0.00")
    assert _balance("NEW") == Decimal("70.00")


@pytest.mark.parametrize(
    "allocations, says",
    [
        ([{"invoice": "OLD", "amount": "60.00"}], "left to apply"),
        ([{"invoice": "OTHER", "amount": "10.00"}], "belongs to another customer"),
        ([{"invoice": "EURO", "amount": "10.00"}], "in GBP but invoice EURO is in EUR"),
        ([{"invoice": "NOPE", "amount": "10.00"}], "No invoice has the number NOPE"),
        (
            [{"invoice": "OLD", "amount": "5.00"}, {"invoice": "SMALL", "amount": "20.00"}],
            "still open on invoice SMALL",
        ),
    ],
    ids=["more-than-unapplied", "other-customer", "other-currency", "unknown", "over-invoice"],
)
def test_an_allocation_the_ledger_refuses_is_a_422_and_applies_nothing(
    api, acme, allocations, says
):
    _invoice(CustomerFactory(external_id="C2"), "OTHER")
    _invoice(acme, "EURO", currency="EUR")
    _invoice(acme, "SMALL", amount="10.00")
    payment = _pay(api, "50.00", allocations={"OLD": "0.01"})
    before = set(Allocation.objects.values_list("pk", flat=True))

    response = api.post(
        f"{PAYMENTS}{payment['id']}/allocate/", {"allocations": allocations}, format="json"
    )

    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == "refused" and says in error["message"]
    assert set(Allocation.objects.values_list("pk", flat=True)) == before
    assert Payment.objects.get().unapplied == Decimal("49.99")
    assert not _events("ledger.payment.allocated").exists()


def test_a_fully_applied_or_reversed_payment_has_nothing_to_allocate(api, acme):
    applied = _pay(api, "100.00", allocations={"OLD": "100.00"})
    reversed_ = _pay(api, "20.00", allocations={"NEW": "0.01"})
    api.post(f"{PAYMENTS}{reversed_['id']}/reverse/", {"reason": "Bounced"}, format="json")

    nothing_left = api.post(f"{PAYMENTS}{applied['id']}/allocate/", {}, format="json")
    was_reversed = api.post(f"{PAYMENTS}{reversed_['id']}/allocate/", {}, format="json")

    assert nothing_left.status_code == 422
    assert "Nothing of this payment is left" in nothing_left.json()["error"]["message"]
    assert was_reversed.status_code == 422
    assert "was reversed" in was_reversed.json()["error"]["message"]


def test_a_retried_allocation_with_its_idempotency_key_applies_once(api, acme):
    payment = _pay(api, "80.00", allocations={"OLD": "10.00"})
    url = f"{PAYMENTS}{payment['id']}/allocate/"
    body = {"allocations": [{"invoice": "NEW", "amount": "30.00"}]}

    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="alloc-1")
    retry = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="alloc-1")

    assert first.status_code == retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert _balance("NEW") == Decimal("70.00")
    assert _events("ledger.payment.allocated").count() == 1


@pytest.mark.parametrize("action", ["reverse", "allocate"])
def test_changing_a_payment_needs_the_write_ledger_scope(make_token, acme, api, action):
    payment = _pay(api, "50.00", allocations={"OLD": "0.01"})
    _, raw = make_token(scopes=(Scope.READ, Scope.WRITE_COLLECTIONS))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post(
        f"{PAYMENTS}{payment['id']}/{action}/", {"reason": "Bounced"}, format="json"
    )

    assert response.status_code == 403
    assert "write_ledger" in response.json()["error"]["message"]
    assert Payment.objects.get().reversed_on is None
    assert Payment.objects.get().unapplied == Decimal("49.99")
