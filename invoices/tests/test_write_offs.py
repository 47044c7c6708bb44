import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from invoices.exceptions import LedgerError
from invoices.models import CreditNote, Customer, InvoiceStatus, WriteOffRequest, WriteOffStatus
from invoices.services import (
    dispute_open,
    invoice_update,
    payment_record,
    write_off_approve,
    write_off_decline,
    write_off_propose,
    write_off_withdraw,
)
from invoices.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 15)


@pytest.fixture
def invoice(collector):
    return InvoiceFactory(
        amount=Decimal("250.00"), due_date=dt.date(2026, 1, 31), customer__collector=collector
    )


@pytest.fixture
def proposal(invoice, collector):
    return write_off_propose(actor=collector, invoice=invoice, reason="Customer insolvent")


def actions(invoice):
    return list(
        AuditEvent.objects.filter(invoice_id=invoice.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- services ---------------------------------------------------------------------------


def test_a_proposal_records_the_open_balance_and_waits(invoice, collector):
    proposal = write_off_propose(actor=collector, invoice=invoice, reason="Customer insolvent")

    assert proposal.status == WriteOffStatus.PENDING
    assert proposal.amount == Decimal("250.00")
    assert proposal.proposed_by == collector
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert "ledger.write_off.proposed" in actions(invoice)


def test_a_proposal_needs_a_reason(invoice, collector):
    with pytest.raises(LedgerError, match="reason"):
        write_off_propose(actor=collector, invoice=invoice, reason="   ")


def test_an_invoice_has_at_most_one_pending_proposal(invoice, collector, proposal):
    with pytest.raises(LedgerError, match="already awaiting approval"):
        write_off_propose(actor=collector, invoice=invoice, reason="Again")


def test_the_database_refuses_a_second_pending_request(invoice, proposal):
    with pytest.raises(IntegrityError), transaction.atomic():
        WriteOffRequest.objects.create(
            invoice=invoice,
            amount=Decimal("1.00"),
            currency="GBP",
            reason="x",
            proposed_at=timezone.now(),
        )


def test_a_paid_invoice_cannot_be_proposed(invoice, collector):
    payment_record(actor=None, customer=invoice.customer, amount=invoice.amount, received_on=DAY)

    with pytest.raises(LedgerError, match="nothing left to write off"):
        write_off_propose(actor=collector, invoice=invoice, reason="Too late")


def test_a_disputed_invoice_cannot_be_proposed(invoice, collector):
    dispute_open(actor=None, invoice=invoice, reason="pricing", opened_on=DAY)

    with pytest.raises(LedgerError, match="open dispute"):
        write_off_propose(actor=collector, invoice=invoice, reason="Give up")


def test_approval_writes_off_the_balance_with_the_manager_as_actor(invoice, proposal, manager):
    decided = write_off_approve(actor=manager, request=proposal, note="Agreed")

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.WRITTEN_OFF
    assert invoice.open_balance == 0
    assert decided.status == WriteOffStatus.APPROVED
    assert decided.decided_by == manager
    assert decided.credit_note.is_write_off
    assert decided.credit_note.amount == Decimal("250.00")
    written = AuditEvent.objects.get(invoice_id=invoice.pk, action="ledger.invoice.written_off")
    approved = AuditEvent.objects.get(invoice_id=invoice.pk, action="ledger.write_off.approved")
    assert written.actor_id == approved.actor_id == manager.pk


def test_approval_after_a_part_payment_writes_off_only_what_is_left(invoice, proposal, manager):
    payment_record(actor=None, customer=invoice.customer, amount=Decimal("100.00"), received_on=DAY)

    decided = write_off_approve(actor=manager, request=proposal)

    assert decided.written_off == Decimal("150.00")
    assert decided.credit_note.amount == Decimal("150.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.WRITTEN_OFF


def test_approval_is_refused_once_the_invoice_was_paid_in_full(invoice, proposal, manager):
    payment_record(actor=None, customer=invoice.customer, amount=invoice.amount, received_on=DAY)

    with pytest.raises(LedgerError, match="nothing left to write off"):
        write_off_approve(actor=manager, request=proposal)

    proposal.refresh_from_db()
    assert proposal.status == WriteOffStatus.PENDING
    assert not CreditNote.objects.filter(is_write_off=True).exists()


def test_approval_is_refused_when_the_balance_rose_since_the_proposal(invoice, proposal, manager):
    invoice_update(actor=None, invoice=invoice, amount=Decimal("400.00"))

    with pytest.raises(LedgerError, match="rose from £250.00 to £400.00"):
        write_off_approve(actor=manager, request=proposal)


def test_the_proposer_cannot_approve_their_own_write_off(invoice, manager):
    proposal = write_off_propose(actor=manager, invoice=invoice, reason="Small balance")

    with pytest.raises(LedgerError, match="second person"):
        write_off_approve(actor=manager, request=proposal)


def test_decline_keeps_the_invoice_in_collection_and_says_why(invoice, proposal, manager):
    decided = write_off_decline(actor=manager, request=proposal, note="Still trading")

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert decided.status == WriteOffStatus.DECLINED
    assert decided.decision_note == "Still trading"
    assert "ledger.write_off.declined" in actions(invoice)


def test_decline_needs_a_note(proposal, manager):
    with pytest.raises(LedgerError, match="reason for declining"):
        write_off_decline(actor=manager, request=proposal, note="")


def test_a_decided_request_cannot_be_decided_again(proposal, manager):
    write_off_decline(actor=manager, request=proposal, note="No")

    with pytest.raises(LedgerError, match="already declined"):
        write_off_approve(actor=manager, request=proposal)


def test_after_a_decline_a_new_proposal_can_be_made(invoice, proposal, manager, collector):
    write_off_decline(actor=manager, request=proposal, note="Not yet")

    again = write_off_propose(actor=collector, invoice=invoice, reason="Now insolvent")

    assert again.is_pending


def test_the_proposer_can_withdraw_a_pending_request(invoice, proposal, collector):
    write_off_withdraw(actor=collector, request=proposal)

    proposal.refresh_from_db()
    assert proposal.status == WriteOffStatus.WITHDRAWN
    assert "ledger.write_off.withdrawn" in actions(invoice)


# --- screens ----------------------------------------------------------------------------


def test_a_collector_sees_the_proposal_form_on_an_open_invoice(collector_client, invoice):
    page = collector_client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()

    assert "Propose a write-off" in page
    assert reverse("invoice_write_off_propose", args=[invoice.pk]) in page


def test_a_colleagues_invoice_offers_no_proposal_form(collector_client, manager):
    theirs = InvoiceFactory(customer__collector=manager)

    page = collector_client.get(reverse("invoice_detail", args=[theirs.pk])).content.decode()

    assert "maria&#x27;s customer: read only" in page
    assert reverse("invoice_write_off_propose", args=[theirs.pk]) not in page


def test_a_proposal_cannot_be_withdrawn_once_the_customer_went_to_a_colleague(
    collector_client, invoice, proposal, manager
):
    Customer.objects.filter(pk=invoice.customer_id).update(collector=manager)

    page = collector_client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    refused = collector_client.post(reverse("write_off_withdraw", args=[proposal.pk]))

    assert reverse("write_off_withdraw", args=[proposal.pk]) not in page
    assert refused.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == WriteOffStatus.PENDING


def test_a_collector_proposes_from_the_invoice_page(collector_client, invoice):
    url = reverse("invoice_write_off_propose", args=[invoice.pk])

    response = collector_client.post(url, {"reason": "Gone away"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("invoice_detail", args=[invoice.pk])
    page = response.content.decode()
    assert "Awaiting a manager's approval" in page
    assert "Propose a write-off</summary>" not in page
    assert WriteOffRequest.objects.get(invoice=invoice).reason == "Gone away"


def test_a_proposal_without_a_reason_is_refused_with_a_message(collector_client, invoice):
    url = reverse("invoice_write_off_propose", args=[invoice.pk])

    response = collector_client.post(url, {"reason": ""}, follow=True)

    assert "Give a reason for the write-off" in response.content.decode()
    assert not WriteOffRequest.objects.exists()


def test_the_managers_page_lists_pending_requests(manager_client, proposal, invoice):
    page = manager_client.get(reverse("write_off_list")).content.decode()

    assert invoice.number in page
    assert invoice.customer.name in page
    assert "Customer insolvent" in page
    assert "colin" in page
    assert reverse("write_off_decide", args=[proposal.pk]) in page


def test_the_manager_approves_from_the_page(manager_client, proposal, invoice):
    url = reverse("write_off_decide", args=[proposal.pk])

    response = manager_client.post(url, {"decision": "approve"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("write_off_list")
    assert "written off" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.WRITTEN_OFF


def test_declining_from_the_page_without_a_note_is_refused(manager_client, proposal):
    url = reverse("write_off_decide", args=[proposal.pk])

    response = manager_client.post(url, {"decision": "decline", "note": ""}, follow=True)

    assert "Give a reason for declining" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.is_pending


def test_a_declined_request_moves_to_the_history(manager_client, proposal):
    url = reverse("write_off_decide", args=[proposal.pk])

    page = manager_client.post(
        url, {"decision": "decline", "note": "Keep chasing"}, follow=True
    ).content.decode()

    assert "No write-off is waiting." in page
    assert "Keep chasing" in page


def test_a_collector_cannot_approve(collector_client, proposal):
    url = reverse("write_off_decide", args=[proposal.pk])

    response = collector_client.post(url, {"decision": "approve"})

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.is_pending


def test_a_collector_cannot_open_the_managers_page(collector_client):
    assert collector_client.get(reverse("write_off_list")).status_code == 403


def test_managers_see_the_write_offs_link(manager_client):
    page = manager_client.get(reverse("write_off_list")).content.decode()

    assert f'href="{reverse("write_off_list")}" aria-current="page"' in page
