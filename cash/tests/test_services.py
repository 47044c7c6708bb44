"""Reversing a bounced payment and applying unapplied cash: balances stay derived, each step
is audited, and a refused step changes nothing."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from invoices.exceptions import LedgerError, OverAllocation
from invoices.models import Allocation, InvoiceStatus, Payment
from invoices.payment_services import payment_apply, payment_reverse, payments_apply
from invoices.selectors import customer_totals
from invoices.services import payment_record
from invoices.tests.factories import CustomerFactory

from .factories import TODAY, invoice_due

pytestmark = pytest.mark.django_db


def _pay(customer, amount, allocations=None, **fields):
    return payment_record(
        actor=None,
        customer=customer,
        amount=Decimal(amount),
        received_on=TODAY,
        allocations=allocations,
        **fields,
    )


def _fresh(*objects):
    for obj in objects:
        obj.refresh_from_db()


# --- reversing a payment that bounced -------------------------------------------------------


def test_reversing_a_payment_reopens_the_invoices_it_paid_with_their_balances_as_before():
    customer = CustomerFactory()
    old = invoice_due(customer, days_late=40, amount="100.00")
    new = invoice_due(customer, days_late=10, amount="80.00")
    _pay(customer, "30.00", [(new, Decimal("30.00"))])  # another payment, kept
    cheque = _pay(customer, "150.00")  # pays old in full, 50.00 of new

    payment_reverse(actor=None, payment=cheque, on=TODAY, reason="Cheque returned unpaid")

    _fresh(old, new, cheque)
    assert (old.open_balance, old.status, old.closed_on) == (
        Decimal("100.00"),
        InvoiceStatus.OPEN,
        None,
    )
    assert new.open_balance == Decimal("50.00")
    assert (cheque.reversed_on, cheque.reversal_reason, cheque.unapplied) == (
        TODAY,
        "Cheque returned unpaid",
        Decimal("0.00"),
    )
    assert not Allocation.objects.filter(payment=cheque).exists()


def test_the_reversal_is_audited_with_each_invoice_before_and_after():
    customer = CustomerFactory()
    invoice = invoice_due(customer, days_late=40, amount="100.00")
    cheque = _pay(customer, "100.00", reference="CHQ 1042")

    payment_reverse(actor=None, payment=cheque, on=TODAY, reason="Returned by the bank")

    event = AuditEvent.objects.get(action="ledger.payment.reversed")
    assert event.data["allocations"] == [
        {"invoice": invoice.number, "amount": "100.00", "before": "0.00", "after": "100.00"}
    ]
    assert "Returned by the bank" in event.summary and invoice.number in event.summary


def test_a_reversed_payment_is_no_longer_the_customers_credit():
    customer = CustomerFactory()
    payment = _pay(customer, "70.00", allocations=[])

    payment_reverse(actor=None, payment=payment, on=TODAY, reason="Recalled")

    assert customer_totals(customer, as_of=TODAY).unallocated_credit == Decimal("0.00")


def test_a_payment_cannot_be_reversed_twice():
    customer = CustomerFactory()
    invoice_due(customer, days_late=40)
    cheque = _pay(customer, "100.00")
    payment_reverse(actor=None, payment=cheque, on=TODAY, reason="Returned")
    events = AuditEvent.objects.count()

    with pytest.raises(LedgerError, match="already reversed"):
        payment_reverse(actor=None, payment=cheque, on=TODAY, reason="Returned again")

    assert AuditEvent.objects.count() == events


def test_a_reversal_needs_a_reason():
    customer = CustomerFactory()
    invoice = invoice_due(customer, days_late=40)
    cheque = _pay(customer, "100.00")

    with pytest.raises(LedgerError, match="Say why"):
        payment_reverse(actor=None, payment=cheque, on=TODAY, reason="  ")

    _fresh(invoice, cheque)
    assert (invoice.status, cheque.reversed_on) == (InvoiceStatus.PAID, None)


# --- applying unapplied cash ----------------------------------------------------------------


def test_applying_unapplied_cash_pays_the_invoice_and_lowers_what_is_unapplied():
    customer = CustomerFactory()
    invoice = invoice_due(customer, days_late=40, amount="100.00")
    payment = _pay(customer, "150.00", allocations=[])

    applied = payment_apply(
        actor=None, payment=payment, allocations=[(invoice, Decimal("100.00"))], on=TODAY
    )

    _fresh(invoice, payment)
    assert (invoice.status, payment.unapplied, applied.left) == (
        InvoiceStatus.PAID,
        Decimal("50.00"),
        Decimal("50.00"),
    )
    event = AuditEvent.objects.get(action="ledger.payment.allocated")
    assert event.data["allocations"] == [{"invoice": invoice.number, "amount": "100.00"}]


def test_applying_more_than_is_unapplied_is_refused_and_changes_nothing():
    customer = CustomerFactory()
    first = invoice_due(customer, days_late=40, amount="100.00")
    second = invoice_due(customer, days_late=30, amount="100.00")
    payment = _pay(customer, "150.00", allocations=[])

    with pytest.raises(OverAllocation, match="more than the £150.00 left to apply"):
        payment_apply(
            actor=None,
            payment=payment,
            allocations=[(first, Decimal("100.00")), (second, Decimal("60.00"))],
            on=TODAY,
        )

    _fresh(first, second, payment)
    assert (first.open_balance, second.open_balance, payment.unapplied) == (
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("150.00"),
    )


def test_a_reversed_payment_cannot_be_applied():
    customer = CustomerFactory()
    invoice = invoice_due(customer, days_late=40)
    payment = _pay(customer, "100.00", allocations=[])
    payment_reverse(actor=None, payment=payment, on=TODAY, reason="Recalled")

    with pytest.raises(LedgerError, match="reversed"):
        payment_apply(
            actor=None, payment=payment, allocations=[(invoice, Decimal("100.00"))], on=TODAY
        )


def test_bulk_apply_applies_every_payment_and_audits_each():
    first, second = CustomerFactory(), CustomerFactory()
    a = invoice_due(first, days_late=40, amount="100.00")
    b = invoice_due(second, days_late=40, amount="200.00")
    pay_a = _pay(first, "100.00", allocations=[])
    pay_b = _pay(second, "250.00", allocations=[])

    done = payments_apply(
        actor=None,
        plan=[(pay_a, [(a, Decimal("100.00"))]), (pay_b, [(b, Decimal("200.00"))])],
        on=TODAY,
    )

    _fresh(a, b)
    assert (a.status, b.status) == (InvoiceStatus.PAID, InvoiceStatus.PAID)
    assert [d.left for d in done] == [Decimal("0.00"), Decimal("50.00")]
    assert AuditEvent.objects.filter(action="ledger.payment.allocated").count() == 2


def test_bulk_apply_is_all_or_nothing():
    first, second = CustomerFactory(), CustomerFactory()
    a = invoice_due(first, days_late=40, amount="100.00")
    b = invoice_due(second, days_late=40, amount="200.00")
    pay_a = _pay(first, "100.00", allocations=[])
    pay_b = _pay(second, "50.00", allocations=[])

    with pytest.raises(OverAllocation):
        payments_apply(
            actor=None,
            plan=[(pay_a, [(a, Decimal("100.00"))]), (pay_b, [(b, Decimal("200.00"))])],
            on=TODAY,
        )

    _fresh(a)
    assert a.status == InvoiceStatus.OPEN
    assert Payment.objects.get(pk=pay_a.pk).unapplied == Decimal("100.00")
    assert not AuditEvent.objects.filter(action="ledger.payment.allocated").exists()


def test_cash_cannot_pay_another_customers_invoice():
    customer = CustomerFactory()
    theirs = invoice_due(CustomerFactory(), days_late=40)
    payment = _pay(customer, "100.00", allocations=[])

    with pytest.raises(LedgerError, match="another customer"):
        payment_apply(
            actor=None, payment=payment, allocations=[(theirs, Decimal("100.00"))], on=TODAY
        )
