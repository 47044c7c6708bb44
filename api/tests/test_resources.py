import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import IdempotentRequest
from audit.models import AuditEvent
from dunning.models import QueueEntry
from invoices.models import Customer, Invoice
from invoices.tests.factories import CustomerFactory, InvoiceFactory

CUSTOMERS = "/api/v1/customers/"
INVOICES = "/api/v1/invoices/"
INVOICE = {
    "customer": "C1",
    "issue_date": "2026-01-01",
    "due_date": "2026-01-31",
    "amount": "120.50",
}


def _events(action):
    return AuditEvent.objects.filter(action=action)


# --- customers -------------------------------------------------------------------------------


def test_put_creates_a_customer_audited_as_the_token(api):
    response = api.put(f"{CUSTOMERS}C1/", {"name": "Acme Ltd", "currency": "EUR"}, format="json")

    assert response.status_code == 201
    assert response.json()["external_id"] == "C1" and response.json()["currency"] == "EUR"
    customer = Customer.objects.get(external_id="C1")
    assert customer.name == "Acme Ltd"
    event = _events("ledger.customer.created").get()
    assert event.actor_id is None
    assert event.actor_label == f"API token {api.token.prefix}"


def test_the_same_put_twice_changes_nothing(api):
    body = {"name": "Acme Ltd", "payment_terms_days": 30}
    api.put(f"{CUSTOMERS}C1/", body, format="json")

    response = api.put(f"{CUSTOMERS}C1/", body, format="json")

    assert response.status_code == 200
    assert _events("ledger.customer.created").count() == 1
    assert not _events("ledger.customer.updated").exists()


def test_a_changed_put_changes_only_what_differs(api):
    CustomerFactory(external_id="C1", name="Old name")

    response = api.put(f"{CUSTOMERS}C1/", {"name": "New name"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "New name"
    event = _events("ledger.customer.updated").get()
    assert event.data == {"changes": {"name": ["Old name", "New name"]}}
    assert event.actor_label == f"API token {api.token.prefix}"


def test_an_invalid_customer_names_its_fields(api):
    response = api.put(f"{CUSTOMERS}C1/", {"name": "", "payment_terms_days": -1}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert {d["field"] for d in error["details"]} == {"name", "payment_terms_days"}
    assert not Customer.objects.exists()


def test_the_models_own_checks_come_back_as_field_errors(api):
    response = api.put(f"{CUSTOMERS}C1/", {"name": "Acme", "timezone": "Mars/Base"}, format="json")

    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == ["timezone"]
    assert not Customer.objects.exists()


def test_a_customer_is_read_by_its_external_id(api):
    CustomerFactory(external_id="AC.1", name="Acme")

    assert api.get(f"{CUSTOMERS}AC.1/").json()["name"] == "Acme"
    missing = api.get(f"{CUSTOMERS}nope/")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


# --- invoices --------------------------------------------------------------------------------


def test_put_creates_an_invoice_and_refreshes_the_queue(api):
    customer = CustomerFactory(external_id="C1")

    response = api.put(f"{INVOICES}INV-1/", INVOICE, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["customer"] == "C1" and body["amount"] == "120.50" and body["status"] == "open"
    assert Invoice.objects.get(number="INV-1").open_balance == Decimal("120.50")
    assert _events("ledger.invoice.created").get().actor_label == f"API token {api.token.prefix}"
    assert QueueEntry.objects.filter(customer=customer).exists()


def test_the_same_invoice_twice_is_one_event(api):
    CustomerFactory(external_id="C1")
    api.put(f"{INVOICES}INV-1/", INVOICE, format="json")

    again = api.put(f"{INVOICES}INV-1/", INVOICE, format="json")
    changed = api.put(f"{INVOICES}INV-1/", {**INVOICE, "amount": "150.00"}, format="json")

    assert again.status_code == 200
    assert changed.status_code == 200 and changed.json()["open_balance"] == "150.00"
    assert _events("ledger.invoice.created").count() == 1
    assert _events("ledger.invoice.updated").count() == 1


def test_an_unpaid_invoices_amount_can_be_lowered(api):
    CustomerFactory(external_id="C1")
    api.put(f"{INVOICES}INV-1/", INVOICE, format="json")

    response = api.put(f"{INVOICES}INV-1/", {**INVOICE, "amount": "99.00"}, format="json")

    assert response.json()["open_balance"] == "99.00"


def test_an_invoice_for_an_unknown_customer_is_refused(api):
    response = api.put(f"{INVOICES}INV-1/", INVOICE, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "non_field_errors", "message": "No customer has the external id “C1”."}
    ]


def test_an_invoice_does_not_move_to_another_customer(api):
    InvoiceFactory(number="INV-1", customer__external_id="C9")
    CustomerFactory(external_id="C1")

    response = api.put(f"{INVOICES}INV-1/", INVOICE, format="json")

    assert response.status_code == 400
    assert "belongs to another customer" in response.json()["error"]["details"][0]["message"]


def test_an_invoice_due_before_it_was_issued_is_refused(api):
    CustomerFactory(external_id="C1")

    response = api.put(f"{INVOICES}INV-1/", {**INVOICE, "due_date": "2025-12-01"}, format="json")

    assert response.status_code == 400
    assert not Invoice.objects.exists()


# --- Idempotency-Key -------------------------------------------------------------------------


def test_a_retried_post_with_its_key_gets_the_first_answer(api):
    body = {"external_id": "C1", "name": "Acme"}

    first = api.post(CUSTOMERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    api.put(f"{CUSTOMERS}C1/", {"name": "Renamed"}, format="json")
    retry = api.post(CUSTOMERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert _events("ledger.customer.created").count() == 1
    assert Customer.objects.get().name == "Renamed"  # the retry did not run again


def test_the_same_key_with_another_body_is_refused(api):
    api.post(
        CUSTOMERS, {"external_id": "C1", "name": "Acme"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    response = api.post(
        CUSTOMERS, {"external_id": "C2", "name": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert not Customer.objects.filter(external_id="C2").exists()


def test_a_key_is_kept_for_a_day(api):
    body = {"external_id": "C1", "name": "Acme"}
    api.post(CUSTOMERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    IdempotentRequest.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))

    api.post(CUSTOMERS, {"external_id": "C2", "name": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert Customer.objects.filter(external_id="C2").exists()
    assert IdempotentRequest.objects.count() == 1


def test_keys_belong_to_their_token(api, make_token):
    from rest_framework.test import APIClient

    _other, raw = make_token()
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    api.post(CUSTOMERS, {"external_id": "C1", "name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = other.post(
        CUSTOMERS, {"external_id": "C2", "name": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 201


def test_an_invoice_post_with_a_key(api):
    CustomerFactory(external_id="C1")
    body = {**INVOICE, "number": "INV-7"}

    first = api.post(INVOICES, body, format="json", HTTP_IDEMPOTENCY_KEY="i-1")
    retry = api.post(INVOICES, body, format="json", HTTP_IDEMPOTENCY_KEY="i-1")

    assert first.status_code == retry.status_code == 201
    assert Invoice.objects.filter(number="INV-7").count() == 1


# --- incremental reads -----------------------------------------------------------------------


def test_updated_since_and_cursor_pages_walk_every_change_once(api):
    base = timezone.now() - dt.timedelta(days=1)
    customers = CustomerFactory.create_batch(5)
    for index, customer in enumerate(customers):
        Customer.objects.filter(pk=customer.pk).update(updated_at=base + dt.timedelta(hours=index))
    since = (base + dt.timedelta(hours=1)).isoformat()

    seen, url = [], CUSTOMERS
    params = {"updated_since": since, "limit": 2}
    while url:
        page = api.get(url, params).json()
        seen += [row["external_id"] for row in page["results"]]
        url, params = page["next"], None

    assert seen == [c.external_id for c in customers[1:]]


def test_list_rows_read_exactly_as_the_single_reads(api):
    # Lists are written from database rows, single reads by the serializer: they must agree.
    limited = CustomerFactory(external_id="C1", credit_limit=Decimal("2500.00"))
    CustomerFactory(external_id="C2", credit_limit=None, payment_terms_days=None)
    InvoiceFactory(customer=limited, number="A-1", amount=Decimal("100.00"))
    InvoiceFactory(customer=limited, number="A-2", amount=Decimal("0.10"))

    for url, key in ((CUSTOMERS, "external_id"), (INVOICES, "number")):
        rows = api.get(url).json()["results"]
        assert len(rows) == 2
        for row in rows:
            assert row == api.get(f"{url}{row[key]}/").json()


def test_a_bad_updated_since_is_a_field_error(api):
    response = api.get(CUSTOMERS, {"updated_since": "yesterday"})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "updated_since"


def _queries(api, url, rows):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, {"limit": 1000})
    assert len(response.json()["results"]) == rows
    return len(queries)


def test_a_page_costs_the_same_queries_for_10_or_1000_rows(api):
    customer = CustomerFactory(external_id="C1")
    api.get(INVOICES)  # marks the token used, so neither count below includes that write

    Invoice.objects.bulk_create(
        InvoiceFactory.build(customer=customer, number=f"A-{n}") for n in range(10)
    )
    few = _queries(api, INVOICES, 10)
    Invoice.objects.bulk_create(
        InvoiceFactory.build(customer=CustomerFactory(), number=f"B-{n}") for n in range(990)
    )
    many = _queries(api, INVOICES, 1000)

    assert few == many


def test_a_customer_page_costs_the_same_queries_for_10_or_1000_rows(api):
    api.get(CUSTOMERS)
    Customer.objects.bulk_create(CustomerFactory.build_batch(10))
    few = _queries(api, CUSTOMERS, 10)
    Customer.objects.bulk_create(CustomerFactory.build_batch(990))

    assert _queries(api, CUSTOMERS, 1000) == few


def test_unknown_api_addresses_answer_in_the_error_shape(api):
    response = api.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_token_acts_for_the_firm_on_any_collectors_customer(api, collector):
    # No collector owns a token: like an admin's import, it may change any customer.
    CustomerFactory(external_id="C1", name="Old", collector=collector)

    response = api.put(f"{CUSTOMERS}C1/", {"name": "New"}, format="json")

    assert response.status_code == 200
    assert Customer.objects.get(external_id="C1").collector == collector
