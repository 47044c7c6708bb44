"""Recording a written acknowledgement of a debt: it restarts the limitation clock where
the law says so, and bad input changes nothing."""

import datetime as dt

import pytest

from audit.models import AuditEvent
from dunning.exceptions import DunningError
from dunning.limitation import limitation_state
from dunning.models import Acknowledgement
from dunning.services import acknowledgement_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 15)


def old_invoice(customer):
    return InvoiceFactory(
        customer=customer, issue_date=dt.date(2018, 12, 11), due_date=dt.date(2019, 1, 10)
    )


def record(customer, **kwargs):
    kwargs.setdefault("acknowledged_on", dt.date(2024, 11, 1))
    kwargs.setdefault("note", "Signed letter of 1 Nov 2024, scanned to the customer file")
    return acknowledgement_record(actor=None, customer=customer, today=TODAY, **kwargs)


def test_an_acknowledgement_is_recorded_with_its_invoices_and_an_audit_event():
    customer = CustomerFactory(country="GB")
    inv = old_invoice(customer)

    ack = record(customer, invoices=[inv])

    assert list(ack.invoices.all()) == [inv]
    event = AuditEvent.objects.get(action="dunning.acknowledgement.recorded")
    assert (event.customer_id, event.invoice_id) == (customer.pk, inv.pk)
    assert event.data["note"] == "Signed letter of 1 Nov 2024, scanned to the customer file"


def test_an_acknowledgement_before_the_limitation_date_unbars_the_debt():
    customer = CustomerFactory(country="GB")
    inv = old_invoice(customer)
    assert limitation_state(customer=customer, invoices=[inv], today=TODAY).barred

    record(customer)

    assert limitation_state(customer=customer, invoices=[inv], today=TODAY).barred == ()


def test_an_acknowledgement_dated_after_today_is_refused():
    customer = CustomerFactory()

    with pytest.raises(DunningError, match="after today"):
        record(customer, acknowledged_on=TODAY + dt.timedelta(days=1))

    assert not Acknowledgement.objects.exists()
    assert not AuditEvent.objects.filter(action="dunning.acknowledgement.recorded").exists()


def test_another_customers_invoice_is_refused():
    customer = CustomerFactory()
    theirs = old_invoice(CustomerFactory())

    with pytest.raises(DunningError, match="customer's own invoices"):
        record(customer, invoices=[theirs])

    assert not Acknowledgement.objects.exists()


def test_an_acknowledgement_without_a_note_is_refused():
    with pytest.raises(DunningError, match="what they wrote"):
        record(CustomerFactory(), note="  ")

    assert not Acknowledgement.objects.exists()
