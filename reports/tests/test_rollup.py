"""Today's aging kept by PostgreSQL (reports.rollup) agrees with the ledger after every kind
of write the app makes: the kept rows plus the changes equal the live sums
(rollup.differences() is empty), and the aging a manager sees today, by currency and by
collector, equals what the outstanding invoices give when added up here. After each write
the past days kept (reports.history) agree too (test_history.assert_history_agrees)."""

import datetime as dt
import io
import threading
import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from accounts.roles import COLLECTOR
from invoices.importing import import_run
from invoices.models import Customer, DisputeReason, DisputeStatus, Invoice, InvoiceStatus
from invoices.payment_services import payment_apply, payment_reverse
from invoices.selectors import OUTSTANDING
from invoices.services import (
    credit_note_issue,
    customer_update,
    dispute_open,
    dispute_resolve,
    invoice_create,
    invoice_update,
    invoice_write_off,
    payment_allocate,
    payment_record,
)
from invoices.tests.factories import CustomerFactory
from reports import rollup
from reports.aging import aging, buckets_for
from reports.models import OpenByDue, OpenByDueChange
from reports.tests.test_history import assert_history_agrees
from tests.locks import sessions_waiting_on_locks

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the rollup is kept by PostgreSQL triggers; on SQLite aging reads the invoices",
    ),
    # The writers at the same moment ask for transaction=True themselves (the closest mark).
    pytest.mark.django_db,
]

TODAY = dt.date(2026, 3, 15)
BUCKETS = buckets_for()
D = Decimal


# --- what a manager should see, added up from the invoices here ----------------------------


def _expected(by: str, collector_id=None, unassigned=False) -> list[tuple]:
    rows: dict[tuple, list] = {}
    invoices = Invoice.objects.filter(status__in=OUTSTANDING, issue_date__lte=TODAY)
    if unassigned:
        invoices = invoices.filter(customer__collector__isnull=True)
    elif collector_id is not None:
        invoices = invoices.filter(customer__collector_id=collector_id)
    for invoice in invoices.select_related("customer"):
        key = invoice.currency if by == "currency" else invoice.customer.collector_id
        counts, amounts = rows.setdefault(
            (key, invoice.currency), [[0] * len(BUCKETS), [D("0.00")] * len(BUCKETS)]
        )
        late = (TODAY - invoice.due_date).days
        index = next(
            n
            for n, b in enumerate(BUCKETS)
            if (b.low is None or late >= b.low) and (b.high is None or late <= b.high)
        )
        counts[index] += 1
        amounts[index] += invoice.open_balance
    return sorted(
        (
            (key, cur, counts, amounts, sum(counts), sum(amounts, D("0.00")))
            for (key, cur), (counts, amounts) in rows.items()
        ),
        key=str,
    )


def _shown(by: str, collector_id=None, unassigned=False) -> list[tuple]:
    rows = aging(
        as_of=TODAY,
        today=TODAY,
        buckets=BUCKETS,
        by=by,
        collector_id=collector_id,
        unassigned=unassigned,
    )
    return sorted(
        ((r.key, r.currency, r.counts, r.amounts, r.count, r.total) for r in rows), key=str
    )


def assert_agrees() -> None:
    assert rollup.differences() == []
    assert_history_agrees(TODAY)
    assert _shown("currency") == _expected("currency")
    assert _shown("collector") == _expected("collector")
    for user_id in get_user_model().objects.values_list("pk", flat=True):
        assert _shown("currency", collector_id=user_id) == _expected("currency", user_id)
    assert _shown("currency", unassigned=True) == _expected("currency", unassigned=True)


def _figures() -> list[tuple]:
    return sorted(rollup.open_by_due(), key=str)


# --- the ledger ----------------------------------------------------------------------------


@pytest.fixture
def colin(collector):
    return collector


@pytest.fixture
def dana(django_user_model):
    user = django_user_model.objects.create_user(username="dana", password="pw-dana")
    user.groups.add(Group.objects.get(name=COLLECTOR))
    return user


@pytest.fixture
def acme(colin):
    return CustomerFactory(external_id="ACME", currency="GBP", collector=colin)


@pytest.fixture
def bolt(dana):
    return CustomerFactory(external_id="BOLT", currency="EUR", collector=dana)


@pytest.fixture
def crux():
    return CustomerFactory(external_id="CRUX", currency="GBP", collector=None)


def _invoice(customer, number, due, amount="100.00", issued=None):
    return invoice_create(
        actor=None,
        customer=customer,
        number=number,
        issue_date=issued or min(due, TODAY) - dt.timedelta(days=30),
        due_date=due,
        amount=D(amount),
    )


@pytest.fixture
def ledger(acme, bolt, crux):
    """Invoices in every bucket, for two collectors and a customer without one."""
    made = {}
    for customer, prefix in ((acme, "A"), (bolt, "B"), (crux, "C")):
        for n, days_late in enumerate((-10, 0, 5, 45, 75, 120)):
            number = f"{prefix}-{n}"
            made[number] = _invoice(
                customer, number, TODAY - dt.timedelta(days=days_late), f"{100 + n * 10}.25"
            )
    assert_agrees()
    return made


def _file(text: str):
    return io.BytesIO(text.encode())


# --- one kind of write at a time -----------------------------------------------------------


def test_created_invoices_are_in_the_rollup_in_their_bucket(ledger):
    assert OpenByDueChange.objects.exists()
    by_currency = {row.currency: row for row in aging(as_of=TODAY, today=TODAY, buckets=BUCKETS)}
    assert by_currency["EUR"].count == 6
    assert by_currency["GBP"].count == 12


def test_the_check_notices_changes_the_rollup_lost(ledger):
    """The guard of every test here can fail: dropping the pending changes is noticed."""
    OpenByDueChange.objects.all().delete()

    assert rollup.differences() != []
    assert _shown("currency") != _expected("currency")


def test_an_invoice_s_new_amount_and_due_date_move_its_balance(ledger):
    invoice_update(actor=None, invoice=ledger["A-1"], amount=D("333.33"))
    invoice_update(actor=None, invoice=ledger["B-2"], due_date=TODAY + dt.timedelta(days=20))
    invoice_update(
        actor=None, invoice=ledger["C-0"], amount=D("50.00"), due_date=TODAY - dt.timedelta(25)
    )
    invoice_update(
        actor=None,
        invoice=ledger["B-3"],
        issue_date=TODAY - dt.timedelta(days=200),
        due_date=TODAY - dt.timedelta(days=170),
    )

    assert_agrees()


def test_a_deleted_invoice_leaves_the_figures(ledger):
    Invoice.objects.get(number="A-3").delete()
    Invoice.objects.filter(number__in=["B-1", "C-5"]).delete()

    assert_agrees()


def test_a_partial_payment_lowers_the_balance_and_a_full_one_takes_the_invoice_off(acme, ledger):
    payment_record(
        actor=None,
        customer=acme,
        amount=D("40.00"),
        received_on=TODAY,
        allocations=[(ledger["A-3"], D("40.00"))],
    )
    assert_agrees()

    payment_record(
        actor=None,
        customer=acme,
        amount=D("500.00"),
        received_on=TODAY,
        allocations=[(ledger["A-3"], D("90.25")), (ledger["A-4"], D("140.25"))],
    )

    assert set(
        Invoice.objects.filter(number__in=["A-3", "A-4"]).values_list("status", flat=True)
    ) == {InvoiceStatus.PAID}
    assert_agrees()


def test_unallocated_cash_applied_later_moves_the_figures(acme, ledger):
    payment = payment_record(
        actor=None, customer=acme, amount=D("300.00"), received_on=TODAY, allocations=[]
    )
    assert_agrees()

    payment_allocate(
        actor=None, payment=payment, invoice=ledger["A-5"], amount=D("150.25"), on=TODAY
    )
    payment_apply(actor=None, payment=payment, allocations=[(ledger["A-0"], D("20"))], on=TODAY)

    assert Invoice.objects.get(number="A-5").status == InvoiceStatus.PAID
    assert_agrees()


def test_a_payment_settling_the_oldest_invoices_first(acme, ledger):
    payment_record(actor=None, customer=acme, amount=D("400.00"), received_on=TODAY)

    assert Invoice.objects.filter(customer=acme, status=InvoiceStatus.PAID).count() == 2
    assert_agrees()


def test_a_credit_note_and_a_write_off(bolt, ledger):
    credit_note_issue(
        actor=None, invoice=ledger["B-4"], amount=D("30.00"), reason="late", issued_on=TODAY
    )
    invoice_write_off(actor=None, invoice=ledger["B-5"], reason="gone", on=TODAY)

    assert Invoice.objects.get(number="B-5").status == InvoiceStatus.WRITTEN_OFF
    assert_agrees()


def test_a_reversed_payment_puts_the_invoices_back(acme, ledger):
    payment = payment_record(
        actor=None,
        customer=acme,
        amount=D("270.50"),
        received_on=TODAY,
        allocations=[(ledger["A-4"], D("140.25")), (ledger["A-5"], D("130.25"))],
    )
    assert_agrees()

    payment_reverse(actor=None, payment=payment, on=TODAY, reason="cheque returned unpaid")

    assert Invoice.objects.get(number="A-4").status == InvoiceStatus.OPEN
    assert_agrees()


def test_an_invoice_in_dispute_is_still_outstanding_until_resolved(ledger):
    kept = _figures()
    for_us = dispute_open(
        actor=None, invoice=ledger["C-3"], reason=DisputeReason.PRICING, opened_on=TODAY
    )
    for_them = dispute_open(
        actor=None,
        invoice=ledger["C-4"],
        reason=DisputeReason.QUALITY,
        opened_on=TODAY,
        amount=D("40.00"),
    )

    assert Invoice.objects.get(number="C-3").status == InvoiceStatus.IN_DISPUTE
    assert _figures() == kept
    assert_agrees()

    dispute_resolve(
        actor=None, dispute=for_us, outcome=DisputeStatus.RESOLVED_FOR_US, resolved_on=TODAY
    )
    dispute_resolve(
        actor=None,
        dispute=for_them,
        outcome=DisputeStatus.RESOLVED_FOR_CUSTOMER,
        resolved_on=TODAY,
    )

    assert_agrees()


def test_a_customer_s_new_collector_takes_its_balance_along(acme, crux, colin, dana, ledger):
    customer_update(actor=None, customer=acme, collector=dana)
    assert_agrees()
    customer_update(actor=None, customer=crux, collector=colin)
    customer_update(actor=None, customer=acme, collector=None)

    assert_agrees()
    assert _expected("currency", unassigned=True)[0][4] == 6  # acme's six, unassigned now


def test_a_bulk_collector_change(colin, dana, ledger):
    Customer.objects.filter(collector=colin).update(collector=dana)
    assert_agrees()

    Customer.objects.update(collector=colin)

    assert_agrees()
    assert {
        row.key for row in aging(as_of=TODAY, today=TODAY, buckets=BUCKETS, by="collector")
    } == {colin.pk}


def test_a_deleted_collector_leaves_their_customers_unassigned(dana, ledger):
    dana.delete()

    assert Customer.objects.get(external_id="BOLT").collector_id is None
    assert_agrees()


def test_an_import_of_invoices_payments_and_customers(dana, ledger):
    invoices = (
        "number,customer_external_id,issue_date,due_date,amount,settled_date\n"
        "I-1,ACME,2026-01-01,2026-01-31,120.00,\n"
        "I-2,BOLT,2026-02-01,2026-03-03,80.50,\n"
        "I-3,CRUX,2026-03-01,2026-03-31,64.00,2026-03-10\n"
        "A-2,ACME,2026-02-08,2026-03-10,99.99,\n"  # an amount changed on the way in
        "C-2,CRUX,2026-02-08,2026-03-10,120.25,2026-03-12\n"  # settled in full
    )
    import_run(kind="invoices", file=_file(invoices), filename="invoices.csv")
    assert_agrees()

    payments = (
        "invoice_number,date,amount,reference\n"
        "I-1,2026-03-14,120.00,P-1\n"
        "I-2,2026-03-14,30.00,P-2\n"
        "B-3,2026-03-14,10.00,P-3\n"
    )
    import_run(kind="payments", file=_file(payments), filename="payments.csv")
    assert_agrees()

    customers = "external_id,name,collector\nACME,Acme,dana\nCRUX,Crux,dana\n"
    import_run(kind="customers", file=_file(customers), filename="customers.csv")

    assert set(Customer.objects.values_list("collector__username", flat=True)) == {"dana"}
    assert Invoice.objects.get(number="I-1").status == InvoiceStatus.PAID
    assert_agrees()


def test_an_invoice_dated_ahead_is_kept_but_not_in_today_s_aging(acme, ledger):
    before = _shown("currency")
    ahead = _invoice(
        acme, "A-NEXT", TODAY + dt.timedelta(days=40), "777.00", issued=TODAY + dt.timedelta(1)
    )

    assert rollup.differences() == []
    assert any(row[3] == 1 and row[4] == D("777.00") for row in rollup.open_by_due())
    assert _shown("currency") == before
    assert_agrees()

    payment_record(
        actor=None,
        customer=acme,
        amount=D("77.00"),
        received_on=TODAY,
        allocations=[(ahead, D("77.00"))],
    )
    assert _shown("currency") == before
    assert_agrees()


# --- folding and rebuilding ----------------------------------------------------------------


def test_a_fold_empties_the_changes_and_keeps_the_figures(ledger):
    kept = _figures()

    assert rollup.fold() is True

    assert not OpenByDueChange.objects.exists()
    assert OpenByDue.objects.exists()
    assert _figures() == kept
    assert_agrees()


def test_writes_after_a_fold_still_agree(acme, bolt, dana, ledger):
    rollup.fold()
    payment_record(actor=None, customer=acme, amount=D("250.00"), received_on=TODAY)
    invoice_write_off(actor=None, invoice=ledger["B-5"], reason="gone", on=TODAY)
    customer_update(actor=None, customer=acme, collector=dana)
    Invoice.objects.get(number="C-1").delete()
    assert_agrees()

    rollup.fold()

    assert not OpenByDueChange.objects.exists()
    assert_agrees()


def test_a_fully_paid_key_disappears_from_the_kept_rows_after_a_fold(bolt, ledger):
    rollup.fold()
    payment_record(
        actor=None,
        customer=bolt,
        amount=D("150.25"),
        received_on=TODAY,
        allocations=[(ledger["B-5"], D("150.25"))],
    )

    rollup.fold()

    assert not OpenByDue.objects.filter(due_date=ledger["B-5"].due_date, currency="EUR").exists()
    assert_agrees()


def test_a_rebuild_gives_the_same_figures(acme, dana, ledger):
    payment_record(actor=None, customer=acme, amount=D("250.00"), received_on=TODAY)
    customer_update(actor=None, customer=acme, collector=dana)
    rollup.fold()
    invoice_update(actor=None, invoice=ledger["C-2"], amount=D("10.00"))
    kept = _figures()

    rollup.rebuild()

    assert not OpenByDueChange.objects.exists()
    assert _figures() == kept
    assert_agrees()


# --- writers at the same moment ------------------------------------------------------------


def _together(*jobs) -> None:
    """Run the jobs in threads started at one moment, each on its own connection."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert errors == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_payments_beside_an_import_collector_changes_and_folds(
    acme, bolt, crux, colin, dana, ledger
):
    def pay():
        for number in ("A-5", "A-4", "A-3", "A-2", "A-1"):
            invoice = Invoice.objects.get(number=number)
            payment_record(
                actor=None,
                customer=acme,
                amount=invoice.open_balance,
                received_on=TODAY,
                allocations=[(invoice, invoice.open_balance)],
            )

    def load():
        rows = "".join(
            f"N-{n},{'BOLT' if n % 2 else 'CRUX'},2026-02-01,2026-03-{n + 1:02d},{n}.50\n"
            for n in range(1, 21)
        )
        import_run(
            kind="invoices",
            file=_file("number,customer_external_id,issue_date,due_date,amount\n" + rows),
            filename="invoices.csv",
        )
        for n in range(5):
            customer_update(actor=None, customer=bolt, collector=colin if n % 2 == 0 else dana)
            invoice_create(
                actor=None,
                customer=crux,
                number=f"M-{n}",
                issue_date=TODAY - dt.timedelta(days=10),
                due_date=TODAY + dt.timedelta(days=n),
                amount=D("12.34"),
            )
            Customer.objects.filter(pk=crux.pk).update(collector=dana if n % 2 == 0 else None)

    writing = {pay, load}
    folded = []

    def writer(job):
        def run():
            try:
                job()
            finally:
                writing.discard(job)

        return run

    def fold():
        while writing:
            folded.append(rollup.fold())

    _together(writer(pay), writer(load), fold)

    assert Invoice.objects.filter(customer=acme, status=InvoiceStatus.PAID).count() == 5
    assert Invoice.objects.filter(number__startswith="N-").count() == 20
    assert True in folded
    assert_agrees()
    rollup.fold()
    assert not OpenByDueChange.objects.exists()
    assert_agrees()


def _creating(customer, prefix: str, count: int = 30):
    def job():
        for n in range(count):
            _invoice(customer, f"{prefix}-{n}", TODAY - dt.timedelta(days=n * 4), "10.00")

    return job


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_bulk_collector_changes_racing_new_invoices_for_the_same_customer(acme, dana):
    """The race the rollup's locks close: without them, an invoice made while its customer
    moves to another collector is counted under the old one."""

    def reassign():
        for n in range(30):
            Customer.objects.filter(pk=acme.pk).update(collector=None if n % 2 else dana)

    _together(reassign, _creating(acme, "R"), _creating(acme, "S"))

    assert Invoice.objects.filter(customer=acme).count() == 60
    assert_agrees()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_customer_updates_moving_collectors_racing_new_invoices_for_the_same_customer(
    acme, colin, dana
):
    def reassign():
        for n in range(30):
            customer_update(actor=None, customer=acme, collector=dana if n % 2 == 0 else colin)

    _together(reassign, _creating(acme, "R"), _creating(acme, "S"))

    assert Invoice.objects.filter(customer=acme).count() == 60
    assert_agrees()


def _until(condition) -> None:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition(), "the writers did not meet"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_invoice_import_beside_a_customer_import_moving_collectors(acme, bolt, crux, ledger):
    """The customer import moves ACME, then BOLT; the invoice import meanwhile writes a new
    invoice of BOLT's, then settles one of ACME's. Locks on customers taken statement by
    statement would deadlock here (each import holding what the other waits for). CRUX,
    held here, only sets the order: the customer import moves ACME and waits for it."""
    errors = []

    def run(job):
        try:
            job()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    def customers():
        rows = "ACME,Acme,dana\nCRUX,Crux,dana\nBOLT,Bolt,colin\n"
        import_run(
            kind="customers", file=_file("external_id,name,collector\n" + rows), filename="c.csv"
        )

    def invoices():
        a2 = ledger["A-2"]
        rows = (
            "NEW-1,BOLT,2026-02-01,2026-03-01,10.00,\n"  # BOLT's, written first
            f"A-2,ACME,{a2.issue_date},{a2.due_date},{a2.amount},2026-03-14\n"  # settled
        )
        import_run(
            kind="invoices",
            file=_file(
                "number,customer_external_id,issue_date,due_date,amount,settled_date\n" + rows
            ),
            filename="i.csv",
        )

    one = threading.Thread(target=run, args=(customers,))
    two = threading.Thread(target=run, args=(invoices,))
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=crux.pk)
        one.start()
        _until(lambda: sessions_waiting_on_locks() == 1)
        two.start()
        # The invoice import finishes, or waits for the customer import.
        _until(lambda: not two.is_alive() or sessions_waiting_on_locks() == 2)
    one.join(30)
    two.join(30)

    assert errors == []
    assert_agrees()
