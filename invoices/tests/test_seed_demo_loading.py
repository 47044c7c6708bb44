"""How seed_demo loads: in bulk, the same rows and audit events as the services would write
one at a time, telling its progress, and the logins at the end. Apart from
test_seed_demo.py, whose one ledger for the whole module would be in the way here."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from invoices.demo import demo_build, demo_load, demo_users_ensure
from invoices.models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    Dispute,
    Invoice,
    Payment,
)
from invoices.services import (
    CUSTOMER_FIELDS,
    contact_save,
    credit_note_issue,
    customer_create,
    dispute_open,
    dispute_resolve,
    invoice_create,
    payment_record,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)


class ServiceLedger:
    """BulkLedger's methods, each through the ledger's services, a row and an event at a
    time, as the demo was once loaded."""

    def customer_add(self, customer):
        fields = {name: getattr(customer, name) for name in CUSTOMER_FIELDS}
        return customer_create(actor=None, external_id=customer.external_id, **fields)

    def contact_add(self, customer, **values):
        contact_save(actor=None, customer=customer, **values)

    def invoice_add(self, customer, **values):
        return invoice_create(actor=None, customer=customer, **values)

    def payment_add(self, customer, *, amount, received_on, reference, allocations):
        payment_record(
            actor=None,
            customer=customer,
            amount=amount,
            received_on=received_on,
            currency=customer.currency,
            reference=reference,
            allocations=allocations,
        )
        for invoice, _ in allocations:
            invoice.refresh_from_db()

    def credit_add(self, invoice, *, amount, reason, on, write_off):
        credit = credit_note_issue(
            actor=None,
            invoice=invoice,
            amount=amount,
            reason=reason,
            issued_on=on,
            is_write_off=write_off,
        )
        invoice.refresh_from_db()
        return credit

    def dispute_add(self, invoice, **values):
        dispute = dispute_open(actor=None, invoice=invoice, **values)
        dispute.invoice = invoice  # the builder's own, refreshed when the dispute closes
        invoice.refresh_from_db()
        return dispute

    def dispute_close(self, dispute, *, outcome, on, note):
        dispute_resolve(actor=None, dispute=dispute, outcome=outcome, resolved_on=on, note=note)
        dispute.invoice.refresh_from_db()


def _written(after_event: int) -> dict:
    """Every ledger row and the ledger's audit events after `after_event`, with primary keys
    replaced by what names the row (external id, invoice number) or its place in its table."""
    customers = dict(Customer.objects.values_list("pk", "external_id"))
    invoices = dict(Invoice.objects.values_list("pk", "number"))
    place = {
        model: {
            pk: i for i, pk in enumerate(model.objects.order_by("pk").values_list("pk", flat=True))
        }
        for model in (Contact, Payment, Dispute, CreditNote)
    }
    credit_place = {
        number: i
        for i, number in enumerate(
            CreditNote.objects.order_by("pk").values_list("number", flat=True)
        )
    }
    keys = {
        "customer_id": customers,
        "invoice_id": invoices,
        "payment_id": place[Payment],
        "credit_note_id": place[CreditNote],
    }

    def row(obj):
        values = {}
        for field in obj._meta.concrete_fields:
            if field.name not in ("id", "created_at", "updated_at"):
                value = getattr(obj, field.attname)
                values[field.attname] = (
                    keys[field.attname].get(value) if field.attname in keys else value
                )
        if isinstance(obj, CreditNote):
            values["number"] = values["number"][:3]  # numbered from its primary key
        return values

    written = {
        model.__name__: [row(obj) for obj in model.objects.order_by("pk")]
        for model in (Customer, Contact, Invoice, Payment, CreditNote, Allocation, Dispute)
    }
    written["events"] = []
    for event in AuditEvent.objects.filter(pk__gt=after_event, action__startswith="ledger."):
        data = dict(event.data)
        for key, model in (
            ("contact_id", Contact),
            ("payment_id", Payment),
            ("dispute_id", Dispute),
        ):
            if key in data:
                data[key] = place[model][data[key]]
        if "credit_note" in data:
            data["credit_note"] = credit_place[data["credit_note"]]
        written["events"].append(
            (
                event.action,
                event.actor_label,
                customers.get(event.customer_id),
                invoices.get(event.invoice_id),
                event.summary,
                data,
            )
        )
    return written


def _last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_it_writes_the_rows_and_audit_events_the_services_would_write_one_at_a_time():
    users = demo_users_ensure()
    with transaction.atomic():
        before = _last_event()
        demo_build(customers=20, seed=7, today=TODAY, users=users, ledger=ServiceLedger())
        through_services = _written(before)
        transaction.set_rollback(True)

    before = _last_event()
    demo_load(customers=20, seed=7, today=TODAY)

    assert len(through_services["events"]) > 400
    assert _written(before) == through_services


def _queries_to_load(customers: int) -> int:
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        demo_load(customers=customers, seed=7, today=TODAY)
        transaction.set_rollback(True)
    return len(queries)


def test_it_writes_in_bulk_rather_than_a_row_at_a_time():
    demo_users_ensure()
    # Sixty more customers bring some 700 invoices, 600 payments and 1,500 audit events;
    # only the batches of the bulk inserts grow (on SQLite; on PostgreSQL not even those).
    assert _queries_to_load(80) - _queries_to_load(20) < 60


def test_it_shows_its_progress_and_then_the_logins():
    out = io.StringIO()
    call_command("seed_demo", customers=20, seed=7, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Creating the demo logins…"
    assert lines[1] == "Loading the demo ledger: 20 customers…"
    assert any(line.endswith("invoices written") for line in lines)
    assert any(line.startswith("Loaded 20 customers") for line in lines)
    assert lines[-5] == "  Demo logins (username / password):"
    assert lines[-1].split() == ["Admin", "ada", "/", "dunmore-ada"]


def test_it_leaves_the_logins_out_when_asked_to():
    out = io.StringIO()
    call_command("seed_demo", customers=20, seed=7, no_logins=True, stdout=out)
    assert "Loaded 20 customers" in out.getvalue()
    assert "dunmore-ada" not in out.getvalue()
