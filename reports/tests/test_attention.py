import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dunning.models import (
    Channel,
    HoldStatus,
    PromiseToPay,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
)
from invoices.models import Invoice, InvoiceStatus
from invoices.services import write_off_propose
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports import attention

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 3, 15)
NOON = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)


# --- referrals --------------------------------------------------------------------------


def referral_task(customer, *, status=TaskStatus.OPEN, kind=TaskKind.REFERRAL, total=None):
    touch = None
    if total is not None:
        touch = Touch.objects.create(
            key=f"t-{customer.pk}-{Touch.objects.count()}",
            customer=customer,
            channel=Channel.LETTER,
            scheduled_for=NOON,
            total=total,
            currency=customer.currency,
        )
    return Task.objects.create(
        kind=kind, customer=customer, touch=touch, title="Refer", due_at=NOON, status=status
    )


def test_referrals_pending_lists_open_referral_tasks_with_their_amount():
    customer = CustomerFactory(name="Acme")
    referral_task(customer, total=Decimal("5400.00"))
    referral_task(CustomerFactory(), status=TaskStatus.DONE)
    referral_task(CustomerFactory(), kind=TaskKind.CALL)

    pending = attention.referrals_pending()

    assert pending.count == 1
    (row,) = pending.rows
    assert (row.customer_name, row.amount, row.currency) == ("Acme", Decimal("5400.00"), "GBP")


def test_referrals_pending_shows_ten_and_counts_all():
    for _ in range(12):
        referral_task(CustomerFactory())

    pending = attention.referrals_pending()

    assert (pending.count, len(pending.rows), pending.more) == (12, 10, 2)


# --- write-offs -------------------------------------------------------------------------


def test_write_offs_pending_totals_the_proposed_amounts_per_currency(collector):
    for amount in ("100.00", "50.50"):
        write_off_propose(
            actor=collector, invoice=InvoiceFactory(amount=Decimal(amount)), reason="x"
        )
    usd = CustomerFactory(currency="USD")
    write_off_propose(
        actor=collector, invoice=InvoiceFactory(customer=usd, amount=Decimal("9.00")), reason="y"
    )

    pending = attention.write_offs_pending()

    assert pending.count == 3
    assert pending.totals == {"GBP": Decimal("150.50"), "USD": Decimal("9.00")}
    assert pending.rows[0].proposed_by == "colin"


def test_write_offs_pending_leaves_out_decided_requests(collector, manager):
    from invoices.services import write_off_decline

    request = write_off_propose(actor=collector, invoice=InvoiceFactory(), reason="x")
    write_off_decline(actor=manager, request=request, note="no")

    assert attention.write_offs_pending().count == 0


# --- broken promises --------------------------------------------------------------------


def promise(customer, *, status, resolved_on, promised_for=dt.date(2026, 2, 1)):
    return PromiseToPay.objects.create(
        customer=customer,
        amount=Decimal("300.00"),
        promised_for=promised_for,
        made_on=dt.date(2026, 1, 20),
        status=status,
        resolved_on=resolved_on,
    )


def test_broken_promises_lists_those_broken_in_the_last_thirty_days_newest_first():
    older = promise(CustomerFactory(), status=HoldStatus.BROKEN, resolved_on=dt.date(2026, 2, 20))
    newer = promise(CustomerFactory(), status=HoldStatus.BROKEN, resolved_on=dt.date(2026, 3, 10))
    promise(CustomerFactory(), status=HoldStatus.BROKEN, resolved_on=dt.date(2026, 2, 10))
    promise(CustomerFactory(), status=HoldStatus.KEPT, resolved_on=dt.date(2026, 3, 10))

    broken = attention.broken_promises(AS_OF)

    assert broken.count == 2
    assert [row.promise_id for row in broken.rows] == [newer.pk, older.pk]
    assert broken.rows[0].promised_for == dt.date(2026, 2, 1)


# --- limitation -------------------------------------------------------------------------


def open_invoice(customer, due: dt.date, **kwargs):
    return InvoiceFactory(
        customer=customer, issue_date=due - dt.timedelta(days=30), due_date=due, **kwargs
    )


def test_limitation_ahead_uses_each_customers_jurisdiction():
    england = CustomerFactory(country="GB", region="England")
    new_york = CustomerFactory(country="US", region="New York")
    texas = CustomerFactory(country="US", region="TX")
    # GB and New York: 6 years, Texas: 4 years. Window: 15 Mar 2026 to 11 Sep 2026.
    gb = open_invoice(england, dt.date(2020, 6, 1))
    ny = open_invoice(new_york, dt.date(2020, 4, 1))
    tx = open_invoice(texas, dt.date(2022, 5, 1))
    open_invoice(texas, dt.date(2020, 6, 1))  # Texas: barred since 2024
    open_invoice(england, dt.date(2021, 6, 1))  # not for another year

    ahead = attention.limitation_ahead(AS_OF)

    assert ahead.count == 3
    assert [row.invoice_id for row in ahead.rows] == [ny.pk, tx.pk, gb.pk]
    assert [row.jurisdiction for row in ahead.rows] == ["US-NY", "US-TX", "GB"]
    assert ahead.rows[0].limitation == dt.date(2026, 4, 1)
    assert ahead.rows[0].days_left == 17


def test_limitation_ahead_includes_the_window_edges_and_leaves_out_what_passed():
    customer = CustomerFactory(country="GB")
    first_day = open_invoice(customer, dt.date(2020, 3, 15))
    last_day = open_invoice(customer, AS_OF.replace(year=2020) + dt.timedelta(days=180))
    open_invoice(customer, dt.date(2020, 3, 14))
    open_invoice(customer, AS_OF.replace(year=2020) + dt.timedelta(days=181))

    ahead = attention.limitation_ahead(AS_OF)

    assert {row.invoice_id for row in ahead.rows} == {first_day.pk, last_day.pk}


def test_limitation_ahead_skips_settled_invoices_and_unknown_jurisdictions():
    paid = open_invoice(CustomerFactory(country="GB"), dt.date(2020, 6, 1))
    Invoice.objects.filter(pk=paid.pk).update(status=InvoiceStatus.PAID, open_balance=0)
    open_invoice(CustomerFactory(country="FR"), dt.date(2020, 6, 1))

    assert attention.limitation_ahead(AS_OF).count == 0


# --- systemic errors --------------------------------------------------------------------


def cohort(customer, issued: dt.date, *, count: int, unpaid: int, terms: int = 30):
    """count invoices issued on one day; all but `unpaid` settled 10 days after falling due."""
    due = issued + dt.timedelta(days=terms)
    rows = []
    for i in range(count):
        paid = i >= unpaid
        rows.append(
            Invoice(
                customer=customer,
                number=f"S-{issued:%Y%m%d}-{customer.currency}-{i}",
                issue_date=issued,
                due_date=due,
                currency=customer.currency,
                amount=Decimal("100.00"),
                open_balance=Decimal("0.00") if paid else Decimal("100.00"),
                status=InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
                closed_on=due + dt.timedelta(days=10) if paid else None,
            )
        )
    Invoice.objects.bulk_create(rows)


@pytest.fixture
def usual_history():
    """Six months of issue dates where about 1 in 10 invoices is still unpaid at 45 days."""
    customer = CustomerFactory()
    for week in range(20):
        issued = AS_OF - dt.timedelta(days=70 + 7 * week)
        cohort(customer, issued, count=10, unpaid=1)
    return customer


def test_a_spike_of_unpaid_invoices_from_one_issue_date_is_flagged(usual_history):
    issued = AS_OF - dt.timedelta(days=45)
    cohort(usual_history, issued, count=25, unpaid=20)

    (alert,) = attention.systemic_alerts(AS_OF)

    assert (alert.issue_date, alert.currency, alert.age_days) == (issued, "GBP", 45)
    assert (alert.invoices, alert.overdue) == (25, 20)
    assert alert.share == Decimal("0.8")
    assert alert.usual_share == Decimal("0.1")
    assert "check" in alert.message.lower()


def test_a_normal_issue_date_is_not_flagged(usual_history):
    cohort(usual_history, AS_OF - dt.timedelta(days=45), count=25, unpaid=3)

    assert attention.systemic_alerts(AS_OF) == []


def test_a_small_issue_date_is_not_flagged_however_late(usual_history):
    cohort(usual_history, AS_OF - dt.timedelta(days=45), count=10, unpaid=10)

    assert attention.systemic_alerts(AS_OF) == []


def test_invoices_not_yet_due_are_not_overdue(usual_history):
    # Issued 20 days ago on 30-day terms: unpaid, but not late.
    cohort(usual_history, AS_OF - dt.timedelta(days=20), count=25, unpaid=25)

    assert attention.systemic_alerts(AS_OF) == []


def test_the_usual_share_is_taken_at_the_same_age():
    customer = CustomerFactory()
    # The baseline pays 10 days after due: at 35 days from issue most are still unpaid.
    for week in range(20):
        cohort(customer, AS_OF - dt.timedelta(days=70 + 7 * week), count=10, unpaid=0)
    cohort(customer, AS_OF - dt.timedelta(days=35), count=25, unpaid=25)

    assert attention.systemic_alerts(AS_OF) == []


# --- cost -------------------------------------------------------------------------------


def test_all_selectors_together_cost_a_fixed_number_of_queries(usual_history, collector):
    cohort(usual_history, AS_OF - dt.timedelta(days=45), count=25, unpaid=20)
    for _ in range(3):
        referral_task(CustomerFactory(), total=Decimal("10.00"))
        write_off_propose(actor=collector, invoice=InvoiceFactory(), reason="x")
        promise(CustomerFactory(), status=HoldStatus.BROKEN, resolved_on=AS_OF)
        open_invoice(CustomerFactory(country="US", region="NY"), dt.date(2020, 6, 1))

    with CaptureQueriesContext(connection) as queries:
        attention.referrals_pending()
        attention.write_offs_pending()
        attention.broken_promises(AS_OF)
        attention.limitation_ahead(AS_OF)
        attention.systemic_alerts(AS_OF)

    # Shortlists not full are counted by their length: referrals and broken promises 1 each.
    assert len(queries) == 1 + 2 + 1 + 3 + 2


def test_a_full_shortlist_still_counts_everything_waiting():
    for _ in range(attention.SHORTLIST + 2):
        referral_task(CustomerFactory(), total=Decimal("10.00"))
        promise(CustomerFactory(), status=HoldStatus.BROKEN, resolved_on=AS_OF)

    referrals, broken = attention.referrals_pending(), attention.broken_promises(AS_OF)

    assert (referrals.count, len(referrals.rows)) == (attention.SHORTLIST + 2, attention.SHORTLIST)
    assert (broken.count, len(broken.rows)) == (attention.SHORTLIST + 2, attention.SHORTLIST)


def test_the_write_off_rows_say_when_they_were_proposed(collector):
    write_off_propose(actor=collector, invoice=InvoiceFactory(), reason="x", at=NOON)

    (row,) = attention.write_offs_pending().rows

    assert row.proposed_at == NOON
    assert timezone.is_aware(row.proposed_at)
