import datetime as dt
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from invoices import services
from invoices.exceptions import CurrencyMismatch, DisputeError, LedgerError, OverAllocation
from invoices.models import DisputeReason, DisputeStatus, InvoiceStatus, Payment
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

D = Decimal
PAID_ON = dt.date(2026, 2, 10)


def pay(customer, amount, allocations=None, **kwargs):
    return services.payment_record(
        actor=None,
        customer=customer,
        amount=D(amount),
        received_on=kwargs.pop("received_on", PAID_ON),
        allocations=allocations,
        **kwargs,
    )


def refreshed(*objs):
    for obj in objs:
        obj.refresh_from_db()
    return objs


def test_a_partial_payment_leaves_the_rest_open():
    invoice = InvoiceFactory(amount=D("250.00"))
    pay(invoice.customer, "100.00", [(invoice, D("100.00"))])
    (invoice,) = refreshed(invoice)
    assert invoice.open_balance == D("150.00")
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.closed_on is None


def test_two_partial_payments_settle_an_invoice_on_the_date_of_the_last():
    invoice = InvoiceFactory(amount=D("250.00"))
    pay(invoice.customer, "100.00", [(invoice, D("100.00"))], received_on=dt.date(2026, 2, 1))
    pay(invoice.customer, "150.00", [(invoice, D("150.00"))], received_on=dt.date(2026, 2, 20))
    (invoice,) = refreshed(invoice)
    assert invoice.open_balance == 0
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.closed_on == dt.date(2026, 2, 20)


def test_one_payment_can_be_split_across_several_invoices():
    customer = CustomerFactory()
    first = InvoiceFactory(customer=customer, amount=D("100.00"))
    second = InvoiceFactory(customer=customer, amount=D("300.00"))
    pay(customer, "250.00", [(first, D("100.00")), (second, D("150.00"))])
    first, second = refreshed(first, second)
    assert first.status == InvoiceStatus.PAID
    assert second.open_balance == D("150.00")


def test_without_allocations_a_payment_settles_the_oldest_invoices_first():
    customer = CustomerFactory()
    newer = InvoiceFactory(customer=customer, due_date=dt.date(2026, 3, 1), amount=D("100.00"))
    older = InvoiceFactory(customer=customer, due_date=dt.date(2026, 2, 1), amount=D("100.00"))
    pay(customer, "130.00")
    newer, older = refreshed(newer, older)
    assert older.open_balance == 0
    assert newer.open_balance == D("70.00")


def test_an_over_payment_is_kept_as_unallocated_credit():
    invoice = InvoiceFactory(amount=D("100.00"))
    payment = pay(invoice.customer, "160.00")
    (invoice,) = refreshed(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert services.payment_unallocated(payment) == D("60.00")


def test_unallocated_credit_can_later_settle_a_new_invoice():
    customer = CustomerFactory()
    payment = pay(customer, "80.00")
    invoice = InvoiceFactory(customer=customer, amount=D("50.00"))
    services.payment_allocate(
        actor=None, payment=payment, invoice=invoice, amount=D("50.00"), on=PAID_ON
    )
    (invoice,) = refreshed(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert services.payment_unallocated(payment) == D("30.00")


def test_more_credit_than_is_unallocated_cannot_be_applied():
    customer = CustomerFactory()
    payment = pay(customer, "20.00")
    invoice = InvoiceFactory(customer=customer, amount=D("50.00"))
    with pytest.raises(OverAllocation):
        services.payment_allocate(
            actor=None, payment=payment, invoice=invoice, amount=D("25.00"), on=PAID_ON
        )


def test_a_payment_in_another_currency_is_refused_and_changes_nothing():
    invoice = InvoiceFactory(amount=D("100.00"))
    with pytest.raises(CurrencyMismatch):
        pay(invoice.customer, "100.00", [(invoice, D("100.00"))], currency="EUR")
    (invoice,) = refreshed(invoice)
    assert invoice.open_balance == D("100.00")
    assert not Payment.objects.exists()


def test_allocating_more_than_an_invoice_still_owes_is_refused():
    invoice = InvoiceFactory(amount=D("100.00"))
    with pytest.raises(OverAllocation):
        pay(invoice.customer, "150.00", [(invoice, D("150.00"))])
    assert not Payment.objects.exists()


def test_allocations_cannot_add_up_to_more_than_the_payment():
    customer = CustomerFactory()
    first = InvoiceFactory(customer=customer, amount=D("100.00"))
    second = InvoiceFactory(customer=customer, amount=D("100.00"))
    with pytest.raises(OverAllocation):
        pay(customer, "120.00", [(first, D("100.00")), (second, D("50.00"))])
    first, second = refreshed(first, second)
    assert first.open_balance == D("100.00")


def test_money_from_one_customer_cannot_settle_another_customers_invoice():
    invoice = InvoiceFactory()
    stranger = CustomerFactory()
    with pytest.raises(LedgerError):
        pay(stranger, "100.00", [(invoice, D("100.00"))])


def test_an_invoice_in_a_currency_other_than_the_customers_is_refused():
    customer = CustomerFactory(currency="GBP")
    with pytest.raises(CurrencyMismatch):
        services.invoice_create(
            actor=None,
            customer=customer,
            number="X-1",
            issue_date=dt.date(2026, 1, 1),
            due_date=dt.date(2026, 1, 31),
            amount=D("10.00"),
            currency="USD",
        )


def test_an_invoice_due_before_it_was_issued_is_refused():
    customer = CustomerFactory()
    with pytest.raises(Exception, match="due date"):
        services.invoice_create(
            actor=None,
            customer=customer,
            number="X-2",
            issue_date=dt.date(2026, 2, 1),
            due_date=dt.date(2026, 1, 31),
            amount=D("10.00"),
        )


def test_lowering_an_amount_below_what_was_paid_is_refused():
    invoice = InvoiceFactory(amount=D("100.00"))
    pay(invoice.customer, "80.00", [(invoice, D("80.00"))])
    with pytest.raises(OverAllocation):
        services.invoice_update(actor=None, invoice=invoice, amount=D("70.00"))


def test_changing_an_amount_moves_the_balance_and_is_audited():
    invoice = InvoiceFactory(amount=D("100.00"))
    pay(invoice.customer, "40.00", [(invoice, D("40.00"))])
    services.invoice_update(actor=None, invoice=invoice, amount=D("120.00"))
    (invoice,) = refreshed(invoice)
    assert invoice.open_balance == D("80.00")
    event = AuditEvent.objects.filter(action="ledger.invoice.updated").get()
    assert event.data["changes"]["amount"] == ["100.00", "120.00"]


def test_an_open_dispute_marks_only_its_own_invoice_in_dispute():
    customer = CustomerFactory()
    disputed = InvoiceFactory(customer=customer)
    other = InvoiceFactory(customer=customer)
    services.dispute_open(
        actor=None, invoice=disputed, reason=DisputeReason.PRICING, opened_on=PAID_ON
    )
    disputed, other = refreshed(disputed, other)
    assert disputed.status == InvoiceStatus.IN_DISPUTE
    assert other.status == InvoiceStatus.OPEN


def test_a_second_open_dispute_on_the_same_invoice_is_refused():
    invoice = InvoiceFactory()
    services.dispute_open(
        actor=None, invoice=invoice, reason=DisputeReason.QUALITY, opened_on=PAID_ON
    )
    with pytest.raises(DisputeError):
        services.dispute_open(
            actor=None, invoice=invoice, reason=DisputeReason.OTHER, opened_on=PAID_ON
        )


def test_a_dispute_resolved_for_us_puts_the_invoice_back_in_collection():
    invoice = InvoiceFactory(amount=D("100.00"))
    dispute = services.dispute_open(
        actor=None, invoice=invoice, reason=DisputeReason.NOT_RECEIVED, opened_on=PAID_ON
    )
    services.dispute_resolve(
        actor=None,
        dispute=dispute,
        outcome=DisputeStatus.RESOLVED_FOR_US,
        resolved_on=dt.date(2026, 2, 20),
    )
    (invoice,) = refreshed(invoice)
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.open_balance == D("100.00")


def test_a_dispute_resolved_for_the_customer_credits_the_disputed_amount():
    invoice = InvoiceFactory(amount=D("100.00"))
    dispute = services.dispute_open(
        actor=None,
        invoice=invoice,
        reason=DisputeReason.PRICING,
        opened_on=PAID_ON,
        amount=D("30.00"),
    )
    services.dispute_resolve(
        actor=None,
        dispute=dispute,
        outcome=DisputeStatus.RESOLVED_FOR_CUSTOMER,
        resolved_on=dt.date(2026, 2, 20),
    )
    (invoice, dispute) = refreshed(invoice, dispute)
    assert invoice.open_balance == D("70.00")
    assert invoice.status == InvoiceStatus.OPEN
    assert dispute.credit_note.amount == D("30.00")


def test_a_written_off_invoice_has_its_own_status():
    invoice = InvoiceFactory(amount=D("100.00"))
    pay(invoice.customer, "10.00", [(invoice, D("10.00"))])
    credit = services.invoice_write_off(actor=None, invoice=invoice, reason="Insolvent", on=PAID_ON)
    (invoice,) = refreshed(invoice)
    assert invoice.status == InvoiceStatus.WRITTEN_OFF
    assert credit.amount == D("90.00")
    assert credit.number.startswith("WO-")


def test_every_change_of_money_writes_an_audit_event_for_the_customer():
    invoice = InvoiceFactory(amount=D("100.00"))
    pay(invoice.customer, "60.00", [(invoice, D("60.00"))], reference="BACS 991")
    event = AuditEvent.objects.get(action="ledger.payment.recorded")
    assert event.customer_id == invoice.customer_id
    assert event.invoice_id == invoice.pk
    assert event.data["allocations"] == [{"invoice": invoice.number, "amount": "60.00"}]
    assert "BACS 991" in event.summary


def test_a_refused_payment_leaves_no_audit_event():
    invoice = InvoiceFactory(amount=D("100.00"))
    with pytest.raises(OverAllocation):
        pay(invoice.customer, "500.00", [(invoice, D("500.00"))])
    assert not AuditEvent.objects.filter(action="ledger.payment.recorded").exists()


def test_a_customer_update_records_before_and_after():
    customer = CustomerFactory(name="Old Name Ltd")
    services.customer_update(actor=None, customer=customer, name="New Name Ltd")
    event = AuditEvent.objects.get(action="ledger.customer.updated")
    assert event.data["changes"] == {"name": ["Old Name Ltd", "New Name Ltd"]}


def test_an_unchanged_customer_update_writes_nothing():
    customer = CustomerFactory(name="Same Ltd")
    assert services.customer_update(actor=None, customer=customer, name="Same Ltd") == {}
    assert not AuditEvent.objects.exists()


def test_a_customer_with_an_unknown_time_zone_is_refused():
    with pytest.raises(Exception, match="IANA"):
        services.customer_create(actor=None, external_id="Z1", name="Zed", timezone="Mars/Base")


def test_new_customers_take_the_organisations_defaults():
    customer = services.customer_create(actor=None, external_id="Z2", name="Zed")
    assert (customer.currency, customer.timezone, customer.country) == (
        "GBP",
        "Europe/London",
        "GB",
    )


def test_making_a_contact_primary_demotes_the_previous_primary():
    customer = CustomerFactory()
    first = services.contact_save(actor=None, customer=customer, email="a@x.com", is_primary=True)
    second = services.contact_save(actor=None, customer=customer, email="b@x.com", is_primary=True)
    first.refresh_from_db()
    assert not first.is_primary
    assert services.primary_contact(customer) == second


def test_lowering_an_amount_lowers_the_balance_by_as_much():
    invoice = InvoiceFactory(amount=D("100.00"))
    pay(invoice.customer, "40.00", [(invoice, D("40.00"))])
    services.invoice_update(actor=None, invoice=invoice, amount=D("90.00"))
    (invoice,) = refreshed(invoice)
    assert invoice.open_balance == D("50.00")
