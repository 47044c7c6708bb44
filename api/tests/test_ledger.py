import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.models import Scope
from audit.models import AuditEvent
from dunning.models import QueueEntry
from invoice_copies.services import copy_attach
from invoice_copies.tests.pdfs import pdf_bytes
from invoices.models import Allocation, Contact, CreditNote, Invoice, Payment
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

CONTACTS = "/api/v1/contacts/"
PAYMENTS = "/api/v1/payments/"
CREDIT_NOTES = "/api/v1/credit-notes/"
INVOICES = "/api/v1/invoices/"


def _events(action):
    return AuditEvent.objects.filter(action=action)


def _by_token(api, action):
    event = _events(action).get()
    assert event.actor_id is None and event.actor_label == f"API token {api.token.prefix}"
    return event


def _invoice(customer, number, amount="100.00", due=dt.date(2026, 2, 1)):
    return InvoiceFactory(customer=customer, number=number, amount=Decimal(amount), due_date=due)


def _queries(api, url, rows):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, {"limit": 1000})
    assert len(response.json()["results"]) == rows
    return len(queries)


# --- contacts --------------------------------------------------------------------------------


def test_a_contact_is_created_then_changed_by_its_email(api):
    CustomerFactory(external_id="C1")
    body = {"customer": "C1", "email": "ap@acme.test", "name": "Ann", "role": "accounts_payable"}

    created = api.post(CONTACTS, body, format="json")
    again = api.post(CONTACTS, body, format="json")
    changed = api.post(CONTACTS, {**body, "email": "AP@acme.test", "phone": "+441"}, format="json")

    assert created.status_code == 201 and created.json()["customer"] == "C1"
    assert again.status_code == 200
    assert changed.status_code == 200 and changed.json()["phone"] == "+441"
    assert Contact.objects.get().name == "Ann"
    _by_token(api, "ledger.contact.created")
    assert _by_token(api, "ledger.contact.updated").data["changes"]["phone"] == ["", "+441"]


def test_a_contact_of_an_unknown_customer_is_refused_in_the_error_shape(api):
    response = api.post(CONTACTS, {"customer": "nope", "email": "a@b.test"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "nope" in error["details"][0]["message"]
    assert not Contact.objects.exists()


def test_contacts_are_listed_by_customer_and_read_by_id(api):
    mine = ContactFactory(customer=CustomerFactory(external_id="C1"), email="a@c1.test")
    ContactFactory(customer=CustomerFactory(external_id="C2"))

    listed = api.get(CONTACTS, {"customer": "C1"}).json()["results"]

    assert [row["email"] for row in listed] == ["a@c1.test"]
    assert api.get(f"{CONTACTS}{mine.pk}/").json()["email"] == "a@c1.test"


def test_a_contact_page_costs_the_same_queries_for_10_or_1000_rows(api):
    api.get(CONTACTS)  # marks the token used
    customer = CustomerFactory()
    Contact.objects.bulk_create(
        ContactFactory.build(customer=customer, is_primary=False) for _ in range(10)
    )
    few = _queries(api, CONTACTS, 10)
    Contact.objects.bulk_create(
        ContactFactory.build(customer=CustomerFactory(), is_primary=False) for _ in range(990)
    )

    assert _queries(api, CONTACTS, 1000) == few


# --- payments --------------------------------------------------------------------------------


def test_a_payment_with_allocations_lowers_those_invoices_balances(api):
    customer = CustomerFactory(external_id="C1")
    _invoice(customer, "INV-1", due=dt.date(2026, 1, 1))
    _invoice(customer, "INV-2")
    body = {
        "customer": "C1",
        "amount": "80.00",
        "received_on": "2026-03-01",
        "reference": "BACS 991",
        "allocations": {"INV-2": "60.00"},
    }

    response = api.post(PAYMENTS, body, format="json")

    assert response.status_code == 201
    payment = response.json()
    assert payment["amount"] == "80.00" and payment["currency"] == "GBP"
    assert payment["unapplied"] == "20.00"
    assert payment["allocations"] == [
        {"invoice": "INV-2", "amount": "60.00", "applied_on": "2026-03-01"}
    ]
    assert api.get(f"{INVOICES}INV-2/").json()["open_balance"] == "40.00"
    assert api.get(f"{INVOICES}INV-1/").json()["open_balance"] == "100.00"
    assert _by_token(api, "ledger.payment.recorded").data["reference"] == "BACS 991"
    assert QueueEntry.objects.filter(customer=customer).exists()


def test_a_payment_without_allocations_pays_the_oldest_invoices_first(api):
    customer = CustomerFactory(external_id="C1")
    _invoice(customer, "NEW", due=dt.date(2026, 3, 1))
    _invoice(customer, "OLD", due=dt.date(2026, 1, 1))

    body = {"customer": "C1", "amount": "130.00", "received_on": "2026-03-02"}
    response = api.post(PAYMENTS, body, format="json")

    assert [(a["invoice"], a["amount"]) for a in response.json()["allocations"]] == [
        ("OLD", "100.00"),
        ("NEW", "30.00"),
    ]
    assert Invoice.objects.get(number="OLD").open_balance == Decimal("0.00")
    assert Invoice.objects.get(number="NEW").open_balance == Decimal("70.00")


def test_the_same_external_key_twice_records_one_payment(api):
    customer = CustomerFactory(external_id="C1")
    _invoice(customer, "INV-1")
    body = {"customer": "C1", "amount": "50.00", "received_on": "2026-03-01", "external_key": "P9"}

    first = api.post(PAYMENTS, body, format="json")
    again = api.post(PAYMENTS, body, format="json")

    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert Payment.objects.count() == 1 and _events("ledger.payment.recorded").count() == 1
    assert Invoice.objects.get(number="INV-1").open_balance == Decimal("50.00")


def test_a_retried_payment_with_its_idempotency_key_records_once(api):
    CustomerFactory(external_id="C1")
    body = {"customer": "C1", "amount": "50.00", "received_on": "2026-03-01"}

    first = api.post(PAYMENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    retry = api.post(PAYMENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")

    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert Payment.objects.count() == 1


def test_more_than_an_invoice_owes_is_refused_and_nothing_is_recorded(api):
    customer = CustomerFactory(external_id="C1")
    _invoice(customer, "INV-1")
    body = {
        "customer": "C1",
        "amount": "150.00",
        "received_on": "2026-03-01",
        "allocations": {"INV-1": "150.00"},
    }

    response = api.post(PAYMENTS, body, format="json")

    assert response.status_code == 400
    assert "still open on invoice INV-1" in response.json()["error"]["details"][0]["message"]
    assert not Payment.objects.exists() and not Allocation.objects.exists()
    assert not _events("ledger.payment.recorded").exists()


def test_an_unknown_invoice_or_a_bad_amount_is_a_field_error(api):
    CustomerFactory(external_id="C1")
    base = {"customer": "C1", "received_on": "2026-03-01"}

    unknown = api.post(
        PAYMENTS, {**base, "amount": "10.00", "allocations": {"NOPE": "10.00"}}, format="json"
    )
    negative = api.post(PAYMENTS, {**base, "amount": "-5"}, format="json")

    assert unknown.status_code == 400 and "NOPE" in unknown.json()["error"]["details"][0]["message"]
    assert [d["field"] for d in negative.json()["error"]["details"]] == ["amount"]
    assert not Payment.objects.exists()


def test_a_read_only_token_cannot_record_a_payment(make_token):
    CustomerFactory(external_id="C1")
    _token, raw = make_token(scopes=[Scope.READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    body = {"customer": "C1", "amount": "10.00", "received_on": "2026-03-01"}
    response = client.post(PAYMENTS, body, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert client.get(PAYMENTS).status_code == 200
    assert not Payment.objects.exists()


def test_payments_are_listed_from_a_day_and_read_by_id(api):
    CustomerFactory(external_id="C1")
    for day in ("2026-01-05", "2026-02-05", "2026-03-05"):
        body = {"customer": "C1", "amount": "10.00", "received_on": day}
        api.post(PAYMENTS, body, format="json")

    listed = api.get(PAYMENTS, {"received_since": "2026-02-01", "limit": 1}).json()
    following = api.get(listed["next"]).json()
    bad = api.get(PAYMENTS, {"received_since": "last week"})

    assert [row["received_on"] for row in listed["results"] + following["results"]] == [
        "2026-02-05",
        "2026-03-05",
    ]
    payment_id = listed["results"][0]["id"]
    assert api.get(f"{PAYMENTS}{payment_id}/").json()["received_on"] == "2026-02-05"
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "received_since"
    missing = api.get(f"{PAYMENTS}999999/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def _payments_with_allocations(count):
    # Rows for counting queries only: the money here is not kept consistent by a service.
    customer = CustomerFactory()
    invoice = _invoice(customer, f"Q-{Payment.objects.count()}")
    payments = Payment.objects.bulk_create(
        Payment(
            customer=customer,
            received_on=dt.date(2026, 3, 1),
            amount=Decimal("1.00"),
            currency="GBP",
        )
        for _ in range(count)
    )
    Allocation.objects.bulk_create(
        Allocation(invoice=invoice, payment=p, amount=Decimal("1.00"), applied_on=p.received_on)
        for p in payments
    )


def test_a_payment_page_costs_the_same_queries_for_10_or_1000_rows(api):
    api.get(PAYMENTS)
    _payments_with_allocations(10)
    few = _queries(api, PAYMENTS, 10)
    _payments_with_allocations(990)

    assert _queries(api, PAYMENTS, 1000) == few


# --- credit notes ----------------------------------------------------------------------------


def test_a_credit_note_lowers_the_balance_once_per_number(api):
    customer = CustomerFactory(external_id="C1")
    _invoice(customer, "INV-1")
    body = {
        "invoice": "INV-1",
        "amount": "25.00",
        "reason": "Damaged goods",
        "issued_on": "2026-03-01",
        "number": "CN-77",
    }

    first = api.post(CREDIT_NOTES, body, format="json")
    again = api.post(CREDIT_NOTES, body, format="json")

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["allocations"] == [
        {"invoice": "INV-1", "amount": "25.00", "applied_on": "2026-03-01"}
    ]
    assert api.get(f"{INVOICES}INV-1/").json()["open_balance"] == "75.00"
    assert CreditNote.objects.count() == 1
    assert _by_token(api, "ledger.credit_note.issued").data["credit_note"] == "CN-77"
    assert api.get(f"{CREDIT_NOTES}CN-77/").json()["reason"] == "Damaged goods"
    assert [
        row["number"] for row in api.get(CREDIT_NOTES, {"customer": "C1"}).json()["results"]
    ] == ["CN-77"]


def test_a_credit_note_number_of_another_invoice_is_refused(api):
    customer = CustomerFactory(external_id="C1")
    _invoice(customer, "INV-1")
    _invoice(customer, "INV-2")
    body = {"amount": "5.00", "reason": "Goodwill", "issued_on": "2026-03-01", "number": "CN-1"}
    api.post(CREDIT_NOTES, {**body, "invoice": "INV-1"}, format="json")

    response = api.post(CREDIT_NOTES, {**body, "invoice": "INV-2"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["message"] == (
        "Credit note CN-1 credits another invoice."
    )
    assert Invoice.objects.get(number="INV-2").open_balance == Decimal("100.00")


def test_a_credit_note_without_a_number_gets_one(api):
    _invoice(CustomerFactory(external_id="C1"), "INV-1")
    body = {"invoice": "INV-1", "amount": "10.00", "reason": "Goodwill", "issued_on": "2026-03-01"}

    response = api.post(CREDIT_NOTES, body, format="json")

    assert response.status_code == 201 and response.json()["number"].startswith("CN-")


def test_a_credit_larger_than_the_balance_is_refused(api):
    _invoice(CustomerFactory(external_id="C1"), "INV-1")
    body = {"invoice": "INV-1", "amount": "101.00", "reason": "Too much", "issued_on": "2026-03-01"}

    response = api.post(CREDIT_NOTES, body, format="json")

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert not CreditNote.objects.exists()
    assert Invoice.objects.get(number="INV-1").open_balance == Decimal("100.00")


def test_a_credit_note_page_costs_the_same_queries_for_10_or_1000_rows(api):
    api.get(CREDIT_NOTES)

    def issue(count, prefix):
        customer = CustomerFactory()
        invoice = _invoice(customer, f"{prefix}-INV")
        notes = CreditNote.objects.bulk_create(
            CreditNote(
                customer=customer,
                number=f"{prefix}-{n}",
                issued_on=dt.date(2026, 3, 1),
                amount=Decimal("1.00"),
                currency="GBP",
            )
            for n in range(count)
        )
        Allocation.objects.bulk_create(
            Allocation(invoice=invoice, credit_note=c, amount=c.amount, applied_on=c.issued_on)
            for c in notes
        )

    issue(10, "A")
    few = _queries(api, CREDIT_NOTES, 10)
    issue(990, "B")

    assert _queries(api, CREDIT_NOTES, 1000) == few


# --- invoice copies --------------------------------------------------------------------------


def test_the_newest_copy_of_an_invoice_is_downloaded(api):
    invoice = _invoice(CustomerFactory(), "INV.1")
    copy_attach(actor=None, invoice=invoice, filename="old.pdf", content=pdf_bytes("old"))
    copy_attach(actor=None, invoice=invoice, filename="new.pdf", content=pdf_bytes("new"))

    response = api.get(f"{INVOICES}INV.1/copy/")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == pdf_bytes("new")
    assert 'filename="new.pdf"' in response["Content-Disposition"]


def test_an_invoice_without_a_copy_is_a_404_in_the_error_shape(api):
    _invoice(CustomerFactory(), "INV-1")

    for number in ("INV-1", "NOPE"):
        response = api.get(f"{INVOICES}{number}/copy/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
