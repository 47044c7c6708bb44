import json
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from api import bulk
from api.models import IdempotentRequest, Scope
from audit.models import AuditEvent
from dunning.models import QueueEntry
from invoices.models import Contact, Customer, ImportBatch, Invoice, Payment
from invoices.tests.factories import CustomerFactory

CUSTOMERS = "/api/v1/customers/bulk/"
INVOICES = "/api/v1/invoices/bulk/"
PAYMENTS = "/api/v1/payments/bulk/"


def _invoice(n, customer="C1", amount="120.50"):
    return {
        "number": f"INV-{n}",
        "customer_external_id": customer,
        "issue_date": "2026-01-01",
        "due_date": "2026-01-31",
        "amount": amount,
    }


def test_bulk_invoices_are_created_audited_as_one_batch_naming_the_token(api):
    customer = CustomerFactory(external_id="C1", currency="GBP")

    response = api.post(INVOICES, [_invoice(n) for n in range(1, 4)], format="json")

    assert response.status_code == 200, response.json()
    assert response.json() | {"batch_id": 0} == {
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "batch_id": 0,
    }
    assert Invoice.objects.filter(customer=customer).count() == 3
    assert Invoice.objects.get(number="INV-2").open_balance == Decimal("120.50")
    batch_event = AuditEvent.objects.get(action="import.invoices.applied")
    assert batch_event.actor_id is None
    assert batch_event.actor_label == f"API token {api.token.prefix}"
    assert QueueEntry.objects.filter(customer=customer).exists()


def test_a_big_call_refreshes_the_queue_in_the_worker_once_committed(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "REFRESH_NOW_MAX", 0)
    # The worker, run in this process: the task's dotted path and arguments as queued.
    monkeypatch.setattr(bulk, "async_task", lambda func, ids, **_: import_string(func)(ids))
    customer = CustomerFactory(external_id="C1")

    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(INVOICES, [_invoice(1)], format="json")

    assert response.status_code == 200
    assert not QueueEntry.objects.filter(customer=customer).exists()
    (refresh,) = [c for c in callbacks if getattr(c, "args", None) == (bulk.REFRESH_FUNC, ["C1"])]
    refresh()
    assert QueueEntry.objects.filter(customer=customer).exists()


def test_one_bad_row_writes_nothing_and_names_its_line(api):
    CustomerFactory(external_id="C1")
    rows = [_invoice(1), _invoice(2, amount="lots"), _invoice(3, customer="NOBODY")]

    response = api.post(INVOICES, rows, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [detail["line"] for detail in error["details"]] == [2, 3]
    assert "amount" in error["details"][0]["message"]
    assert "NOBODY" in error["details"][1]["message"]
    assert not Invoice.objects.exists()
    assert not ImportBatch.objects.exists()


def test_unknown_fields_and_floats_are_refused_by_line(api):
    CustomerFactory(external_id="C1")
    rows = [_invoice(1), {**_invoice(2), "colour": "red"}, {**_invoice(3), "amount": 12.5}]

    response = api.post(INVOICES, rows, format="json")

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert [(d["line"], d["field"]) for d in details] == [(2, "colour"), (3, "amount")]
    assert not Invoice.objects.exists()


def test_the_same_request_twice_changes_nothing(api):
    CustomerFactory(external_id="C1")
    rows = [_invoice(n) for n in range(1, 4)]
    api.post(INVOICES, rows, format="json")
    events = AuditEvent.objects.exclude(action="import.invoices.applied").count()

    response = api.post(INVOICES, rows, format="json")

    assert response.status_code == 200
    assert response.json()["unchanged"] == 3 and response.json()["created"] == 0
    assert Invoice.objects.count() == 3
    assert AuditEvent.objects.exclude(action="import.invoices.applied").count() == events


def test_a_changed_row_updates_that_invoice_only(api):
    CustomerFactory(external_id="C1")
    api.post(INVOICES, [_invoice(1), _invoice(2)], format="json")

    response = api.post(INVOICES, [_invoice(1), _invoice(2, amount="99.00")], format="json")

    assert response.json()["updated"] == 1 and response.json()["unchanged"] == 1
    assert Invoice.objects.get(number="INV-2").amount == Decimal("99.00")
    assert AuditEvent.objects.filter(action="ledger.invoice.updated").count() == 1


def test_bulk_customers_upsert_by_external_id(api):
    rows = [
        {"external_id": "C1", "name": "Acme Ltd", "currency": "EUR"},
        {"external_id": "C2", "name": "Bolt & Co", "address": "1 High St\nLeeds"},
        {"external_id": "C3", "name": ""},
    ]

    response = api.post(CUSTOMERS, rows, format="json")

    # A quoted newline spans two CSV lines; the error still names the third row.
    assert response.status_code == 400
    assert [d["line"] for d in response.json()["error"]["details"]] == [3]
    assert not Customer.objects.exists()

    response = api.post(CUSTOMERS, rows[:2], format="json")
    again = api.post(CUSTOMERS, rows[:2], format="json")

    assert response.json()["created"] == 2 and again.json()["unchanged"] == 2
    assert Customer.objects.get(external_id="C1").currency == "EUR"
    assert Contact.objects.get(customer__external_id="C2").address == "1 High St\nLeeds"


def test_bulk_payments_are_applied(api):
    CustomerFactory(external_id="C1")
    api.post(INVOICES, [_invoice(1)], format="json")
    row = {"invoice_number": "INV-1", "date": "2026-02-02", "amount": "20.50", "reference": "R1"}

    response = api.post(PAYMENTS, [row], format="json")
    again = api.post(PAYMENTS, [row], format="json")

    assert response.status_code == 200, response.json()
    assert again.status_code == 200
    assert Payment.objects.count() == 1
    assert Invoice.objects.get(number="INV-1").open_balance == Decimal("100.00")
    # The payment names only its invoice; the customer's queue row still shows the payment.
    assert QueueEntry.objects.get(customer__external_id="C1").open_total == Decimal("100.00")


def test_too_many_rows_are_refused_with_a_clear_error(api, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_ROWS", 2)
    CustomerFactory(external_id="C1")

    response = api.post(INVOICES, [_invoice(n) for n in range(3)], format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["message"] == (
        "Send at most 2 rows per call, not 3."
    )
    assert not Invoice.objects.exists()


def test_not_a_list_is_refused(api):
    response = api.post(INVOICES, {"number": "INV-1"}, format="json")

    assert response.status_code == 400
    assert "list" in response.json()["error"]["details"][0]["message"]


def test_a_read_only_token_cannot_write(make_token):
    CustomerFactory(external_id="C1")
    _, raw = make_token(scopes=[Scope.READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post(INVOICES, [_invoice(1)], format="json")

    assert response.status_code == 403
    assert "write_ledger" in response.json()["error"]["message"]
    assert not Invoice.objects.exists()


def test_no_token_no_entry(client):
    response = client.post(INVOICES, [_invoice(1)], content_type="application/json")

    assert response.status_code == 401


def test_bench_api_runs_and_leaves_nothing(db):
    CustomerFactory(external_id="C1")
    out = StringIO()

    call_command("bench", "api", rows=40, stdout=out)

    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["bulk_rows_per_s"] > 0 and figures["read_1000_p95_ms"] > 0
    assert Invoice.objects.count() == 0
    assert Customer.objects.count() == 1


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_a_retried_bulk_call_with_its_key_replays_the_answer_and_imports_nothing(api):
    CustomerFactory(external_id="C1")
    rows = [_invoice(n) for n in range(1, 4)]
    first = api.post(INVOICES, rows, format="json", HTTP_IDEMPOTENCY_KEY="nightly-1")
    events = AuditEvent.objects.count()

    retry = api.post(INVOICES, rows, format="json", HTTP_IDEMPOTENCY_KEY="nightly-1")

    assert first.status_code == retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json() and retry.json()["created"] == 3
    assert ImportBatch.objects.count() == 1
    assert AuditEvent.objects.count() == events
    assert IdempotentRequest.objects.get().body == first.json()  # the summary, not the rows


def test_the_same_bulk_key_with_other_rows_is_refused(api):
    CustomerFactory(external_id="C1")
    api.post(INVOICES, [_invoice(1)], format="json", HTTP_IDEMPOTENCY_KEY="nightly-1")

    other = api.post(INVOICES, [_invoice(2)], format="json", HTTP_IDEMPOTENCY_KEY="nightly-1")

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert not Invoice.objects.filter(number="INV-2").exists()


def test_a_big_refusal_is_stored_and_replayed_whole(api):
    # The answer kept for a key is the summary, or the refusal listing every bad row: the
    # biggest there is, a row of details for each of many rows.
    CustomerFactory(external_id="C1")
    rows = [_invoice(n, amount="lots") for n in range(1, 2001)]

    first = api.post(INVOICES, rows, format="json", HTTP_IDEMPOTENCY_KEY="big")
    retry = api.post(INVOICES, rows, format="json", HTTP_IDEMPOTENCY_KEY="big")

    assert first.status_code == retry.status_code == 400
    assert len(first.json()["error"]["details"]) == 2000
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert not Invoice.objects.exists() and not ImportBatch.objects.exists()


def test_an_answer_quoting_a_nul_or_a_lone_surrogate_is_kept_and_replayed(api):
    # PostgreSQL's jsonb holds neither; the refusal names the unknown field as it was sent.
    # Sent escaped, as JSON allows: "\u0000", and "\ud800" with no low surrogate after it.
    body = json.dumps([{"external_id": "C1", "name": "Acme", "bad\u0000\ud800": "x"}])

    sent = {"content_type": "application/json", "HTTP_IDEMPOTENCY_KEY": "odd"}

    first = api.post(CUSTOMERS, body, **sent)
    retry = api.post(CUSTOMERS, body, **sent)

    assert first.status_code == retry.status_code == 400
    assert first.json()["error"]["details"][0]["field"] == "bad\ufffd\ufffd"
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()


def test_an_unknown_field_with_a_lone_surrogate_is_refused_not_a_500(api):
    body = json.dumps([{"external_id": "C1", "name": "Acme", "bad\ud800": "x"}])

    response = api.post(CUSTOMERS, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "bad\ufffd"
    assert not Customer.objects.exists()
