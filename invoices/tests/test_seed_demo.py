import datetime as dt
import io
from collections import Counter

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max, Sum

from accounts.roles import ADMIN, COLLECTOR, MANAGER, role_of
from audit.models import AuditEvent
from invoices.demo import DEMO_USERS
from invoices.models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceStatus,
    Organisation,
    Payment,
)
from invoices.money import ZERO
from invoices.services import invoice_refresh

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One demo ledger for the whole module, rolled back at its end; each test still runs
    in its own savepoint. A fixed "today" keeps the ledger the same from run to run."""
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(dt.datetime(2026, 3, 15, 9, 0, tzinfo=dt.UTC), tick=False):
            call_command("seed_demo", customers=20, seed=7, stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def _bucket(invoice) -> str:
    days = (TODAY - invoice.due_date).days
    if days <= 0:
        return "current"
    return "1-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "90+"


def test_it_creates_a_demo_login_for_every_role(seeded, client):
    users = get_user_model().objects.filter(username__in=[u.username for u in DEMO_USERS])
    assert {role_of(user) for user in users} == {COLLECTOR, MANAGER, ADMIN}
    for user in DEMO_USERS:
        assert client.login(username=user.username, password=user.password), user.username


def test_it_keeps_every_balance_equal_to_amount_less_allocations(seeded):
    applied = dict(
        Allocation.objects.values("invoice").annotate(s=Sum("amount")).values_list("invoice", "s")
    )
    invoices = list(Invoice.objects.all())
    assert len(invoices) > 100
    for invoice in invoices:
        assert invoice.open_balance == invoice.amount - applied.get(invoice.pk, ZERO), invoice


def test_it_closes_settled_invoices_on_the_day_of_their_last_allocation(seeded):
    last = dict(
        Allocation.objects.values("invoice")
        .annotate(day=Max("applied_on"))
        .values_list("invoice", "day")
    )
    settled = Invoice.objects.filter(open_balance=0)
    assert settled.exists()
    for invoice in settled:
        assert invoice.status in (InvoiceStatus.PAID, InvoiceStatus.WRITTEN_OFF)
        assert invoice.closed_on == last[invoice.pk] <= TODAY


def test_it_leaves_an_audit_trail_that_verifies(seeded):
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    events = AuditEvent.objects.count()
    assert events > Invoice.objects.count()
    assert f"Audit trail intact: {events} events verified." in out.getvalue()


def test_it_stores_the_balances_statuses_and_closing_days_the_ledger_derives(seeded):
    def states():
        return list(
            Invoice.objects.order_by("pk").values_list("pk", "open_balance", "status", "closed_on")
        )

    loaded = states()
    invoice_refresh(invoice_ids=[pk for pk, *_ in loaded])
    assert states() == loaded


def test_it_records_each_change_in_the_audit_trail_as_the_services_do(seeded):
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    settled = Dispute.objects.exclude(status=DisputeStatus.OPEN)
    credits = actions["ledger.invoice.written_off"] + actions["ledger.credit_note.issued"]
    assert actions["ledger.customer.created"] == Customer.objects.count()
    assert actions["ledger.contact.created"] == Contact.objects.count()
    assert actions["ledger.invoice.created"] == Invoice.objects.count()
    assert actions["ledger.payment.recorded"] == Payment.objects.count()
    assert actions["ledger.dispute.opened"] == Dispute.objects.count()
    assert actions["ledger.dispute.resolved"] == settled.count()
    assert credits == CreditNote.objects.count()
    assert actions["seed.demo.loaded"] == 1


def test_its_audit_events_name_the_rows_they_describe(seeded):
    def data(key, *actions):
        return {e.data[key] for e in AuditEvent.objects.filter(action__in=actions)}

    created = AuditEvent.objects.filter(action="ledger.invoice.created")
    assert set(created.values_list("invoice_id", "customer_id")) == set(
        Invoice.objects.values_list("pk", "customer_id")
    )
    assert data("payment_id", "ledger.payment.recorded") == set(
        Payment.objects.values_list("pk", flat=True)
    )
    assert data("dispute_id", "ledger.dispute.opened") == set(
        Dispute.objects.values_list("pk", flat=True)
    )
    numbers = data("credit_note", "ledger.invoice.written_off", "ledger.credit_note.issued")
    assert numbers == set(CreditNote.objects.values_list("number", flat=True))
    assert {number[:3] for number in numbers} == {"WO-", "CN-"}


def test_it_does_nothing_when_run_a_second_time(seeded):
    counts = [m.objects.count() for m in (Customer, Invoice, Payment, AuditEvent)]
    out = io.StringIO()
    call_command("seed_demo", customers=20, seed=7, stdout=out)
    assert [m.objects.count() for m in (Customer, Invoice, Payment, AuditEvent)] == counts
    assert "already loaded" in out.getvalue()


def test_it_has_open_invoices_in_every_aging_bucket(seeded):
    buckets = {_bucket(i) for i in Invoice.objects.filter(open_balance__gt=0)}
    assert buckets == {"current", "1-30", "31-60", "61-90", "90+"}


def test_it_includes_part_paid_invoices(seeded):
    part_paid = [i for i in Invoice.objects.filter(open_balance__gt=0) if i.open_balance < i.amount]
    assert part_paid


def test_it_includes_open_and_resolved_disputes(seeded):
    statuses = set(Dispute.objects.values_list("status", flat=True))
    assert DisputeStatus.OPEN in statuses
    assert statuses & {DisputeStatus.RESOLVED_FOR_US, DisputeStatus.RESOLVED_FOR_CUSTOMER}
    assert Invoice.objects.filter(status=InvoiceStatus.IN_DISPUTE).count() == (
        Dispute.objects.filter(status=DisputeStatus.OPEN).count()
    )


def test_it_keeps_an_over_payment_as_unallocated_credit(seeded):
    unallocated = [
        p for p in Payment.objects.annotate(used=Sum("allocations__amount")) if not p.used
    ]
    assert unallocated
    assert all(p.amount > 0 for p in unallocated)


def test_it_never_records_money_after_today(seeded):
    assert not Payment.objects.filter(received_on__gt=TODAY).exists()
    assert not Allocation.objects.filter(applied_on__gt=TODAY).exists()


def test_it_mixes_currencies_debtor_types_and_flags(seeded):
    customers = Customer.objects.all()
    assert {c.currency for c in customers} == {"GBP", "EUR", "USD"}
    assert {c.debtor_type for c in customers} == {"business", "consumer"}
    assert {flag for c in customers for flag in c.flags} == {
        "on hold",
        "do not contact",
        "insolvent",
        "credit hold",
    }


def test_it_shares_the_customers_between_the_two_collectors(seeded):
    owners = Customer.objects.values("collector__username").annotate(n=Sum(1))
    assert {row["collector__username"]: row["n"] for row in owners} == {"colin": 10, "cara": 10}


def test_it_names_the_organisation(seeded):
    assert Organisation.current().name == "Dunmore Demo Trading Ltd"
