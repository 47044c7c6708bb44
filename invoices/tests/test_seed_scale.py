import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Q, Sum

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from invoices.models import Allocation, Customer, Dispute, DisputeStatus, Invoice, InvoiceStatus
from invoices.money import ZERO
from invoices.services import invoice_refresh

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="seed_scale loads with PostgreSQL's COPY"
)


def load(**options):
    options = {"customers": 200, "invoices": 2000, "seed": 3, **options}
    call_command("seed_scale", stdout=io.StringIO(), **options)


def ledger_state():
    return {
        row[0]: row[1:]
        for row in Invoice.objects.values_list("pk", "open_balance", "status", "closed_on")
    }


@on_postgres
def test_it_loads_the_requested_numbers_of_customers_and_invoices():
    load()
    assert Customer.objects.count() == 200
    assert Invoice.objects.count() == 2000


@on_postgres
def test_it_keeps_every_balance_equal_to_amount_less_allocations():
    load()
    applied = dict(
        Allocation.objects.values("invoice").annotate(s=Sum("amount")).values_list("invoice", "s")
    )
    for pk, amount, balance in Invoice.objects.values_list("pk", "amount", "open_balance"):
        assert balance == amount - applied.get(pk, ZERO), pk


@on_postgres
def test_it_stores_the_status_and_closing_date_the_ledger_would_derive():
    load()
    loaded = ledger_state()
    invoice_refresh(invoice_ids=list(loaded))
    assert ledger_state() == loaded


@on_postgres
def test_it_pays_most_invoices_in_full_and_some_in_part():
    load()
    counts = Invoice.objects.aggregate(
        paid=Count("pk", filter=Q(status=InvoiceStatus.PAID)),
        part=Count("pk", filter=Q(open_balance__gt=0, allocations__isnull=False)),
    )
    assert 1000 < counts["paid"] < 1400
    assert 100 < counts["part"] < 300


@on_postgres
def test_it_never_allocates_more_than_a_payment_is_for():
    load()
    over = Allocation.objects.values("payment").annotate(s=Sum("amount"), p=Max("payment__amount"))
    assert all(row["s"] <= row["p"] for row in over)


@on_postgres
def test_it_marks_invoices_with_an_open_dispute_as_in_dispute():
    load(invoices=20_000)
    disputed = set(
        Dispute.objects.filter(status=DisputeStatus.OPEN).values_list("invoice", flat=True)
    )
    assert disputed
    in_dispute = Invoice.objects.filter(status=InvoiceStatus.IN_DISPUTE).values_list(
        "pk", flat=True
    )
    assert set(in_dispute) == disputed


@on_postgres
def test_it_assigns_every_customer_a_collector():
    load()
    assert not Customer.objects.filter(collector__isnull=True).exists()


@on_postgres
def test_it_writes_one_audit_event_for_the_load():
    before = AuditEvent.objects.filter(action="seed.scale.loaded").count()
    load()
    assert AuditEvent.objects.filter(action="seed.scale.loaded").count() == before + 1
    assert audit_chain_verify()[1] is None


@on_postgres
def test_it_refuses_to_load_twice_without_replace():
    load()
    with pytest.raises(CommandError, match="--replace"):
        load()
    assert Invoice.objects.count() == 2000


@on_postgres
def test_it_replaces_the_previous_scale_data_when_asked():
    load()
    load(replace=True, seed=4)
    assert Customer.objects.count() == 200
    assert Invoice.objects.count() == 2000


@on_postgres
def test_it_keeps_ids_handed_out_afterwards_clear_of_the_loaded_rows():
    load()
    customer = Customer.objects.create(
        external_id="AFTER", name="After", timezone="UTC", currency="GBP"
    )
    assert customer.pk > Customer.objects.exclude(pk=customer.pk).aggregate(m=Max("pk"))["m"]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the SQLite refusal")
def test_it_refuses_sqlite_with_a_clear_message():
    with pytest.raises(CommandError, match="PostgreSQL"):
        load()
    assert not Invoice.objects.exists()
