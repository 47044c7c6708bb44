"""Payments taken on the customer page and cash matched on the matching screen, as a
collector sees them: what they post, the message they read, what changed, and nothing
changed when the form refused it or the payment was not theirs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from dunning.models import QueueEntry
from dunning.queue import queue_refresh
from dunning.tests.factories import MONDAY_10
from invoices.models import Allocation, CreditNote, Invoice, InvoiceStatus, Payment
from invoices.services import payment_record
from invoices.tests.factories import ContactFactory, CustomerFactory

from .factories import TODAY, invoice_due

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


@pytest.fixture
def customer(collector):
    customer = CustomerFactory(collector=collector)
    ContactFactory(customer=customer)
    return customer


def _messages(response):
    return [str(m) for m in response.wsgi_request._messages]


def _post_payment(client, customer, **fields):
    data = {"received_on": TODAY.isoformat(), "method": "card", "reference": "", **fields}
    return client.post(reverse("customer_payment", args=[customer.pk]), data, follow=True)


def _unchanged(customer):
    return (
        list(Payment.objects.order_by("pk").values()),
        list(Invoice.objects.filter(customer=customer).order_by("pk").values()),
        AuditEvent.objects.count(),
    )


# --- recording a payment --------------------------------------------------------------------


def test_the_form_prefills_the_oldest_invoices_from_the_amount(collector_client, customer):
    old = invoice_due(customer, days_late=40, amount="100.00")
    new = invoice_due(customer, days_late=10, amount="100.00")

    form = collector_client.get(
        reverse("customer_payment", args=[customer.pk]), {"amount": "150.00"}
    ).context["form"]

    assert form.initial[f"apply_{old.pk}"] == Decimal("100.00")
    assert form.initial[f"apply_{new.pk}"] == Decimal("50.00")
    assert form.initial["received_on"] == TODAY


def test_left_blank_the_payment_pays_the_oldest_first_and_the_queue_follows(
    collector_client, customer
):
    old = invoice_due(customer, days_late=40, amount="100.00")
    new = invoice_due(customer, days_late=10, amount="100.00")
    queue_refresh(customer_ids=[customer.pk])

    response = _post_payment(collector_client, customer, amount="100.00", reference="Call")

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (InvoiceStatus.PAID, InvoiceStatus.OPEN)
    assert _messages(response) == [f"Payment of £100.00 recorded: £100.00 to {old.number}."]
    assert QueueEntry.objects.get(customer=customer).open_total == Decimal("100.00")
    payment = Payment.objects.get()
    assert (payment.method, payment.reference) == ("card", "Call")


def test_an_edited_allocation_is_applied_and_the_rest_stays_unapplied(collector_client, customer):
    old = invoice_due(customer, days_late=40, amount="100.00")
    new = invoice_due(customer, days_late=10, amount="100.00")

    response = _post_payment(
        collector_client,
        customer,
        amount="150.00",
        **{f"apply_{old.pk}": "", f"apply_{new.pk}": "60.00"},
    )

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.open_balance, new.open_balance) == (Decimal("100.00"), Decimal("40.00"))
    assert Payment.objects.get().unapplied == Decimal("90.00")
    assert _messages(response) == [
        f"Payment of £150.00 recorded: £60.00 to {new.number}. "
        "£90.00 is unapplied cash: apply it from Unapplied cash."
    ]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"amount": "50.00", "apply_OLD": "60.00"}, "Only £40.00 is open on"),
        ({"amount": "30.00", "apply_OLD": "20.00", "apply_NEW": "20.00"}, "add up to £40.00"),
        ({"amount": "0"}, "greater than or equal to 0.01"),
        ({"amount": "1e3"}, "is not an amount"),
        ({"amount": "10.00", "received_on": "2026-03-17"}, "cannot be received in the future"),
        ({"amount": "10.00", "apply_OLD": "-5"}, "greater than or equal to 0"),
    ],
)
def test_a_refused_payment_says_why_and_changes_nothing(collector_client, customer, fields, error):
    old = invoice_due(customer, days_late=40, amount="100.00")
    payment_record(
        actor=None,
        customer=customer,
        amount=Decimal("60.00"),
        received_on=TODAY,
        allocations=[(old, Decimal("60.00"))],
    )
    new = invoice_due(customer, days_late=10, amount="100.00")
    before = _unchanged(customer)
    fields = {
        k.replace("OLD", str(old.pk)).replace("NEW", str(new.pk)): v for k, v in fields.items()
    }

    response = _post_payment(collector_client, customer, **fields)

    assert response.status_code == 200
    assert error in response.text
    assert _unchanged(customer) == before


def test_a_colleagues_customer_is_refused(client, collector, manager, django_user_model):
    from django.contrib.auth.models import Group

    other = django_user_model.objects.create_user(username="cara")
    other.groups.add(Group.objects.get(name="Collector"))
    theirs = CustomerFactory(collector=other)
    invoice_due(theirs, days_late=40)
    client.force_login(collector)

    response = client.post(
        reverse("customer_payment", args=[theirs.pk]),
        {"received_on": TODAY.isoformat(), "amount": "10.00"},
    )

    assert response.status_code == 403
    assert not Payment.objects.exists()


# --- credit notes and reversals --------------------------------------------------------------


def test_a_credit_note_lowers_the_balance(collector_client, customer):
    invoice = invoice_due(customer, days_late=40, amount="100.00")

    response = collector_client.post(
        reverse("customer_credit_note", args=[customer.pk]),
        {"invoice": invoice.pk, "amount": "25.00", "reason": "Damaged box"},
        follow=True,
    )

    invoice.refresh_from_db()
    assert invoice.open_balance == Decimal("75.00")
    credit = CreditNote.objects.get()
    assert _messages(response) == [
        f"Credit note {credit.number} for £25.00 issued on {invoice.number}."
    ]


def test_a_credit_note_above_the_open_balance_is_refused(collector_client, customer):
    invoice = invoice_due(customer, days_late=40, amount="100.00")

    response = collector_client.post(
        reverse("customer_credit_note", args=[customer.pk]),
        {"invoice": invoice.pk, "amount": "100.01", "reason": "Too much"},
    )

    assert "Only £100.00 is open on" in response.text
    assert not CreditNote.objects.exists()


def test_reversing_a_bounced_payment_reopens_the_invoice_and_the_queue(collector_client, customer):
    invoice = invoice_due(customer, days_late=40, amount="100.00")
    payment = payment_record(
        actor=None, customer=customer, amount=Decimal("100.00"), received_on=TODAY
    )
    queue_refresh(customer_ids=[customer.pk])
    url = reverse("customer_payment_reverse", args=[customer.pk])

    form = collector_client.get(url, {"payment": payment.pk}).context["form"]
    response = collector_client.post(
        url, {"payment": payment.pk, "reason": "Cheque returned unpaid"}, follow=True
    )

    invoice.refresh_from_db()
    assert form.initial["payment"] == str(payment.pk)
    assert invoice.status == InvoiceStatus.OPEN
    assert _messages(response) == [
        f"Payment of £100.00 received 16 Mar 2026 reversed: {invoice.number} open again."
    ]
    assert QueueEntry.objects.get(customer=customer).open_total == Decimal("100.00")
    assert "Reversed 16 Mar 2026" in response.text


def test_a_reversal_without_a_reason_is_refused(collector_client, customer):
    invoice_due(customer, days_late=40, amount="100.00")
    payment = payment_record(
        actor=None, customer=customer, amount=Decimal("100.00"), received_on=TODAY
    )

    response = collector_client.post(
        reverse("customer_payment_reverse", args=[customer.pk]), {"payment": payment.pk}
    )

    assert "This field is required" in response.text
    assert Payment.objects.get().reversed_on is None


def test_another_customers_payment_cannot_be_reversed_from_this_page(collector_client, customer):
    other = CustomerFactory(collector=customer.collector)
    payment = payment_record(
        actor=None, customer=other, amount=Decimal("10.00"), received_on=TODAY, allocations=[]
    )

    response = collector_client.post(
        reverse("customer_payment_reverse", args=[customer.pk]),
        {"payment": payment.pk, "reason": "Bounced"},
    )

    assert "Select a valid choice" in response.text
    assert Payment.objects.get().reversed_on is None


# --- the payments card ----------------------------------------------------------------------


def test_the_card_lists_payments_with_what_is_applied(collector_client, customer):
    invoice_due(customer, days_late=40, amount="100.00")
    payment_record(
        actor=None,
        customer=customer,
        amount=Decimal("130.00"),
        received_on=TODAY,
        reference="BACS 77",
        method="bank_transfer",
    )

    text = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    assert "Bank transfer, BACS 77" in text
    assert "£30.00" in text
    assert f"{reverse('customer_payment_reverse', args=[customer.pk])}?payment=" in text


def test_the_customer_page_costs_the_same_queries_for_5_or_50_payments(collector_client, collector):
    def queries_for(count):
        customer = CustomerFactory(collector=collector)
        invoices = [invoice_due(customer, days_late=40 + i, amount="10.00") for i in range(count)]
        for invoice in invoices:
            payment_record(
                actor=None,
                customer=customer,
                amount=Decimal("15.00"),
                received_on=TODAY - dt.timedelta(days=1),
                allocations=[(invoice, Decimal("10.00"))],
            )
        queue_refresh(customer_ids=[customer.pk])
        with CaptureQueriesContext(connection) as captured:
            response = collector_client.get(reverse("customer_detail", args=[customer.pk]))
        assert response.text.count("£5.00</span>") == min(count, 10)
        return len(captured)

    assert queries_for(5) == queries_for(50)


# --- the matching screen --------------------------------------------------------------------


def _unapplied(customer, amount, reference=""):
    return payment_record(
        actor=None,
        customer=customer,
        amount=Decimal(amount),
        received_on=TODAY,
        reference=reference,
        allocations=[],
    )


def test_the_screen_shows_each_payment_with_its_proposal(collector_client, customer):
    invoice = invoice_due(customer, days_late=40, amount="100.00", number="INV-77")
    _unapplied(customer, "100.00", reference="INV-77")

    text = collector_client.get(reverse("cash_unapplied")).text

    assert "£100.00 to" in text and "INV-77" in text
    assert "(reference names INV-77)" in text
    assert f'plan-{Payment.objects.get().pk}" value="{invoice.pk}:100.00"' in text


def test_apply_pays_the_proposed_invoice_and_says_what_stays_unapplied(collector_client, customer):
    invoice = invoice_due(customer, days_late=40, amount="100.00")
    payment = _unapplied(customer, "120.00")
    queue_refresh(customer_ids=[customer.pk])
    assert QueueEntry.objects.filter(customer=customer).exists()

    response = collector_client.post(
        reverse("cash_apply"),
        {"apply": payment.pk, f"plan-{payment.pk}": f"{invoice.pk}:100.00"},
        follow=True,
    )

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert _messages(response) == [
        f"Applied £100.00 of the payment of £120.00 received 16 Mar 2026 to {invoice.number}; "
        "£20.00 stays unapplied."
    ]
    # Nothing left open: the customer leaves the queue.
    assert not QueueEntry.objects.filter(customer=customer).exists()


def test_apply_selected_applies_the_ticked_payments_only(collector_client, collector):
    customers = [CustomerFactory(collector=collector) for _ in range(3)]
    invoices = [invoice_due(c, days_late=40, amount="100.00") for c in customers]
    payments = [_unapplied(c, "100.00") for c in customers]
    plans = {f"plan-{p.pk}": f"{i.pk}:100.00" for p, i in zip(payments, invoices, strict=True)}

    response = collector_client.post(
        reverse("cash_apply"),
        {"apply": "selected", "payment": [payments[0].pk, payments[2].pk], **plans},
        follow=True,
    )

    statuses = [Invoice.objects.get(pk=i.pk).status for i in invoices]
    assert statuses == [InvoiceStatus.PAID, InvoiceStatus.OPEN, InvoiceStatus.PAID]
    assert _messages(response) == ["Applied 2 payments to 2 invoices."]


def test_a_stale_proposal_is_refused_and_nothing_is_applied(collector_client, customer):
    first = invoice_due(customer, days_late=40, amount="100.00")
    second = invoice_due(customer, days_late=30, amount="100.00")
    a, b = _unapplied(customer, "100.00"), _unapplied(customer, "100.00")
    # Both were shown the same invoice (a colleague's tab was open before the other applied).
    response = collector_client.post(
        reverse("cash_apply"),
        {
            "apply": "selected",
            "payment": [a.pk, b.pk],
            f"plan-{a.pk}": f"{second.pk}:100.00",
            f"plan-{b.pk}": f"{second.pk}:100.00",
        },
        follow=True,
    )

    assert _messages(response)[0].startswith("Nothing was applied: £100.00 is more than the £0.00")
    assert not Allocation.objects.exists()
    first.refresh_from_db()
    assert first.status == InvoiceStatus.OPEN


def test_a_colleagues_payment_cannot_be_applied(client, collector, django_user_model):
    from django.contrib.auth.models import Group

    other = django_user_model.objects.create_user(username="cara")
    other.groups.add(Group.objects.get(name="Collector"))
    theirs = CustomerFactory(collector=other)
    invoice = invoice_due(theirs, days_late=40)
    payment = _unapplied(theirs, "100.00")
    client.force_login(collector)

    response = client.post(
        reverse("cash_apply"),
        {"apply": payment.pk, f"plan-{payment.pk}": f"{invoice.pk}:100.00"},
    )

    assert response.status_code == 404
    assert not Allocation.objects.exists()
    assert "No unapplied cash" in client.get(reverse("cash_unapplied")).text


def test_a_forged_plan_is_refused(collector_client, customer):
    payment = _unapplied(customer, "100.00")
    theirs = invoice_due(CustomerFactory(), days_late=40)

    response = collector_client.post(
        reverse("cash_apply"),
        {"apply": payment.pk, f"plan-{payment.pk}": f"{theirs.pk}:100.00"},
        follow=True,
    )

    assert _messages(response)[0].startswith("Nothing was applied")
    assert not Allocation.objects.exists()


def test_the_screen_costs_the_same_queries_for_5_or_50_payments(collector_client, collector):
    def queries_for(count):
        for _ in range(count):
            customer = CustomerFactory(collector=collector)
            invoice_due(customer, days_late=40, amount="100.00")
            _unapplied(customer, "100.00")
        with CaptureQueriesContext(connection) as captured:
            response = collector_client.get(reverse("cash_unapplied"))
        assert response.status_code == 200
        return len(captured)

    assert queries_for(5) == queries_for(45)
