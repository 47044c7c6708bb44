"""The referral pages show a manager what the decision needs, in a fixed number of queries,
with money and dates from the shared formatters and long text kept in its column."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dunning.models import (
    Channel,
    HoldStatus,
    PromiseToPay,
    Referral,
    ReferralStatus,
    Task,
    TaskKind,
    Touch,
    TouchStatus,
)
from invoices.models import Dispute, DisputeReason, DisputeStatus
from invoices.services import payment_record
from invoices.templatetags.dates import day_filter
from invoices.templatetags.money import money_filter
from invoices.tests.factories import CustomerFactory

from .factories import ladder  # noqa: F401
from .test_referrals import AFTER_DEADLINE, LETTER_SENT, approve, proposed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def page(client, task):
    response = client.get(reverse("dunning:referral_detail", args=[task.pk]))
    assert response.status_code == 200
    return response.text


def history(customer, count: int) -> None:
    """count payments, promises, disputes and sent messages for the customer."""
    invoice = customer.invoices.order_by("due_date").first()
    for n in range(count):
        day = LETTER_SENT.date() - dt.timedelta(days=n + 1)
        payment_record(
            actor=None,
            customer=customer,
            amount=Decimal("10.00"),
            received_on=day,
            reference=f"BACS {n}",
            allocations=[(invoice, Decimal("10.00"))],
        )
        promise = PromiseToPay.objects.create(
            customer=customer,
            amount=Decimal("50.00"),
            promised_for=day,
            made_on=day,
            status=HoldStatus.BROKEN,
        )
        promise.invoices.add(invoice)
        Dispute.objects.create(
            invoice=invoice,
            reason=DisputeReason.PRICING,
            amount=Decimal("5.00"),
            opened_on=day,
            status=DisputeStatus.RESOLVED_FOR_US,
        )
        Touch.objects.create(
            key=f"h-{customer.pk}-{n}",
            customer=customer,
            channel=Channel.EMAIL,
            status=TouchStatus.SENT,
            scheduled_for=LETTER_SENT - dt.timedelta(days=n + 1),
            sent_at=LETTER_SENT - dt.timedelta(days=n + 1),
            to_email="ap@example.com",
            currency=customer.currency,
        )


# --- the decision page ---------------------------------------------------------------------


def test_the_decision_page_links_each_invoice_in_the_referral_to_its_page(manager_client):
    customer, task = proposed()
    invoice = customer.invoices.get()

    text = page(manager_client, task)

    url = reverse("invoice_detail", args=[invoice.pk])
    assert f'<a href="{url}">{invoice.number}</a>' in text


def test_the_decision_page_shows_the_final_demand_with_its_date_and_letter(manager_client):
    customer, task = proposed()
    letter = customer.documents.get()

    text = page(manager_client, task)

    assert reverse("letters:document", args=[letter.pk]) in text
    assert day_filter(LETTER_SENT) in text
    assert day_filter(dt.date(2026, 3, 20)) in text  # 14 business days after sending


def test_the_decision_page_warns_when_the_final_demands_letter_is_not_on_record(manager_client):
    _customer, task = proposed(letter=None)

    text = page(manager_client, task)

    assert "is not on record: the pack cannot include it" in text


def test_the_decision_page_lists_the_invoices_left_out_and_why(manager_client):
    _customer, task = proposed(newer_invoices_due=(1, 21))

    text = page(manager_client, task)

    left_out = text[text.index("Not in the referral") :]
    assert "NEW-1" in left_out and "NEW-21" in left_out
    assert "Not in the final demand" in left_out
    assert "NEW-1" not in text[: text.index("Not in the referral")]


def test_the_decision_page_shows_payments_promises_disputes_and_recent_contact(manager_client):
    customer, task = proposed()
    history(customer, 2)

    text = page(manager_client, task)

    assert "BACS 1" in text and money_filter(Decimal("10.00"), "GBP") in text
    assert "Broken" in text  # the promises
    assert "Pricing or rate" in text and "Resolved for us" in text  # the disputes
    assert "ap@example.com" in text  # the messages sent
    assert day_filter(LETTER_SENT.date() - dt.timedelta(days=2)) in text


def test_the_decision_page_costs_the_same_queries_however_long_the_history(manager_client):
    def queries_for(count):
        customer, task = proposed(newer_invoices_due=range(1, count + 1))
        history(customer, count)
        with CaptureQueriesContext(connection) as captured:
            page(manager_client, task)
        return len(captured)

    assert queries_for(2) == queries_for(12)


def test_the_decision_page_shows_money_and_dates_from_the_shared_formatters(manager_client):
    customer, task = proposed()
    invoice = customer.invoices.get()

    text = page(manager_client, task)

    assert money_filter(Decimal("5000.00"), "GBP") in text
    assert day_filter(invoice.due_date) in text
    assert "5000.00 GBP" not in text and str(invoice.due_date) not in text


def test_a_decided_referral_shows_what_was_referred_and_the_pack(manager_client):
    customer, task = proposed(newer_invoices_due=(1,))
    approve(manager_client, task, reason="Ignored every letter")
    referral = Referral.objects.get()

    text = page(manager_client, task)

    assert "Download the referral pack" in text
    assert reverse("letters:document", args=[referral.pack.pk]) in text
    invoice = customer.invoices.exclude(number="NEW-1").get()
    assert f'<a href="{reverse("invoice_detail", args=[invoice.pk])}">{invoice.number}</a>' in text
    assert "NEW-1" not in text.split("Invoices referred")[1].split("</table>")[0]
    assert 'name="confirm"' not in text  # nothing left to decide


# --- deciding --------------------------------------------------------------------------------


def test_approve_asks_for_the_confirmation_and_shows_it_is_working(manager_client):
    _customer, task = proposed()

    text = page(manager_client, task)

    form = text[text.index('value="approve"') :]
    assert re.search(r'<input type="checkbox" id="confirm" name="confirm"[^>]* required', form)
    assert "I understand this stops all chasing" in form
    assert 'data-busy="Building the pack' in text and 'role="status"' in form


def test_the_approve_button_is_disabled_when_nothing_can_be_referred(manager_client):
    customer = CustomerFactory()
    task = Task.objects.create(
        kind=TaskKind.REFERRAL, customer=customer, title="Approve", due_at=timezone.now()
    )

    text = page(manager_client, task)

    assert re.search(r"disabled>Approve and build the pack</button>", text)


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_what_each_proposal_would_refer_now(manager_client):
    proposed(newer_invoices_due=(1, 21))

    response = manager_client.get(reverse("dunning:referral_list"))

    assert money_filter(Decimal("5000.00"), "GBP") in response.text
    assert money_filter(Decimal("5500.00"), "GBP") not in response.text
    assert "2 open invoices not referred" in response.text


def test_the_list_costs_the_same_queries_for_one_or_many_referrals(manager_client, manager):
    def queries_for(count):
        for _ in range(count):
            _customer, task = proposed(newer_invoices_due=(1,))
        decided = Referral.objects.count()
        for task in Task.objects.filter(kind=TaskKind.REFERRAL)[:count]:
            if not Referral.objects.filter(task=task).exists() and decided < count:
                Referral.objects.create(
                    customer=task.customer,
                    task=task,
                    status=ReferralStatus.DECLINED,
                    reason="Too small",
                    total=Decimal("1.00"),
                    currency="GBP",
                    decided_by=manager,
                    decided_at=AFTER_DEADLINE,
                )
                decided += 1
        with CaptureQueriesContext(connection) as captured:
            response = manager_client.get(reverse("dunning:referral_list"))
        assert response.status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(6)


def test_a_long_reason_is_cut_short_in_the_list_with_the_rest_behind_more(manager_client, manager):
    _customer, task = proposed()
    reason = "They will not pay. " * 260  # about 5,000 characters, from before the limit
    Referral.objects.create(
        customer=task.customer,
        task=task,
        status=ReferralStatus.DECLINED,
        reason=reason,
        total=Decimal("1.00"),
        currency="GBP",
        decided_by=manager,
        decided_at=AFTER_DEADLINE,
    )

    text = manager_client.get(reverse("dunning:referral_list")).text

    row = text[text.index("Decided") :]
    assert "<details" in row and "more</span></summary>" in row
    summary = row[row.index("<summary>") : row.index("</summary>")]
    assert len(summary) < 300
    assert "overflow-wrap:anywhere" in row


# --- is it worth going to court? ------------------------------------------------------------


def test_the_court_question_is_answered_just_above_the_decision(manager_client):
    _customer, task = proposed()

    text = page(manager_client, task)

    question = text.index("Is it worth going to court?</h2>")
    assert text.index("Recent contact</h2>") < question < text.index('value="approve"')
    assert "Expected net recovery" in text[question:]


def test_a_decided_referral_does_not_ask_whether_to_go_to_court(manager_client):
    _customer, task = proposed()
    approve(manager_client, task)

    text = page(manager_client, task)

    assert "Is it worth going to court?" not in text
