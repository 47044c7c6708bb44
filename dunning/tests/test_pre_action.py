"""The UK Pre-Action Protocol for Debt Claims: an individual or sole trader in England and
Wales gets the Letter of Claim (with its Information Sheet, Reply Form and Financial
Statement) in place of the final demand, and a legal referral waits 30 days after it, and
30 more from a reply asking for documents."""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from audit.models import AuditEvent
from dunning import delivery
from dunning.engine import plan_customer, pre_action_applies, reply_deadline
from dunning.exceptions import DunningError
from dunning.models import (
    Channel,
    Chase,
    DocumentsRequest,
    Referral,
    Task,
    TaskKind,
    Touch,
    TouchStatus,
)
from dunning.planning import dunning_run
from dunning.referrals import referral_approve
from dunning.selectors import Steps, calendar_for, facts_load
from dunning.services import documents_request_record
from invoices.tests.factories import ContactFactory
from letters.models import Document, DocumentKind, TemplateVersion

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .test_delivery import plan_and_deliver
from .test_shell import _done, _standard_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]

SOLE_TRADER = {"debtor_type": "sole_trader", "country": "GB", "region": "England"}
LETTER_SENT = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)  # a Monday
# 14 business days after 2 Mar is 20 Mar: a final demand would allow a referral from 23 Mar.
MONDAY_23 = dt.datetime(2026, 3, 23, 10, tzinfo=dt.UTC)
THURSDAY_2_APRIL = dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC)  # 31 days after the letter


def at_the_letter_step(**customer_fields):
    """A customer 50 days overdue whose chase has taken steps 1-5: the letter is next."""
    customer = overdue_customer(days=50, amount=Decimal("5000.00"), **customer_fields)
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=[1, 2, 3, 4, 5], at=MONDAY_10 - dt.timedelta(days=14))
    return customer


def claimed(**customer_fields):
    """A customer (70 days overdue at MONDAY_10) sent a Letter of Claim on LETTER_SENT, as
    delivery records one: steps 1-5 before it, the letter's template version on it."""
    customer = overdue_customer(days=70, amount=Decimal("5000.00"), **customer_fields)
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=[1, 2, 3, 4, 5], at=LETTER_SENT - dt.timedelta(days=20))
    step = chase.policy_version.steps.get(channel=Channel.LETTER)
    invoice = customer.invoices.get()
    Touch.objects.create(
        key=f"{customer.pk}:1:{step.position}",
        customer=customer,
        chase=chase,
        step=step,
        channel=Channel.LETTER,
        status=TouchStatus.SENT,
        scheduled_for=LETTER_SENT,
        sent_at=LETTER_SENT,
        currency="GBP",
        invoices=[
            {
                "id": invoice.pk,
                "number": invoice.number,
                "due_date": str(invoice.due_date),
                "balance": str(invoice.open_balance),
            }
        ],
        total=invoice.open_balance,
        template_version=TemplateVersion.objects.filter(template__key="letter_of_claim")
        .order_by("-number")
        .first(),
    )
    return customer


def plan_at(customer, as_of):
    steps = Steps()
    [loaded] = facts_load([customer.pk], as_of=as_of, steps=steps)
    return plan_customer(
        loaded.facts, steps.facts_of(loaded.customer.version_id), calendar_for(as_of), as_of
    )


def referral_tasks(customer):
    return Task.objects.filter(kind=TaskKind.REFERRAL, customer=customer)


# --- who gets it ---------------------------------------------------------------------------


def test_the_shipped_ladder_gives_individuals_a_letter_of_claim_with_30_days(ladder):  # noqa: F811
    step = ladder.current_version.steps.get(channel=Channel.LETTER)

    assert (step.template, step.pre_action_template, step.pre_action_days) == (
        "final_demand",
        "letter_of_claim",
        30,
    )


@pytest.mark.parametrize(
    ("debtor_type", "country", "region", "applies"),
    [
        ("sole_trader", "GB", "England", True),
        ("consumer", "GB", "Wales", True),
        ("consumer", "GB", "", True),
        ("sole_trader", "GB", "ENG", True),
        ("sole_trader", "GB", "Scotland", False),
        ("consumer", "GB", "Northern Ireland", False),
        ("consumer", "GB", "NIR", False),
        ("business", "GB", "England", False),
        ("sole_trader", "DE", "", False),
        ("consumer", "IE", "", False),
    ],
)
def test_the_protocol_binds_claims_on_individuals_and_sole_traders_in_england_and_wales(
    debtor_type, country, region, applies
):
    assert pre_action_applies(debtor_type, country, region) is applies


def test_a_sole_trader_in_england_is_planned_the_letter_of_claim_not_the_final_demand():
    at_the_letter_step(**SOLE_TRADER)

    [result] = dunning_run(as_of=MONDAY_10)

    assert result.step == "Letter of claim"
    assert "Letter of claim in place of Final demand" in result.reason
    assert "30 days to reply" in result.reason


def test_a_business_in_england_still_gets_the_final_demand():
    at_the_letter_step(country="GB", region="England")

    [result] = dunning_run(as_of=MONDAY_10)

    assert result.step == "Final demand"
    assert "Letter of claim" not in result.reason


def test_a_consumer_in_scotland_gets_the_final_demand():
    at_the_letter_step(debtor_type="consumer", country="GB", region="Scotland")

    [result] = dunning_run(as_of=MONDAY_10)

    assert result.step == "Final demand"


# --- the letter ------------------------------------------------------------------------------


def letter_of_claim_message(customer, contact=None):
    """The message delivery builds for the customer's next step, as the customer gets it."""
    steps = Steps()
    calendar = calendar_for(MONDAY_10)
    [loaded] = facts_load([customer.pk], as_of=MONDAY_10, steps=steps, calendar=calendar)
    plan = plan_customer(
        loaded.facts, steps.facts_of(loaded.customer.version_id), calendar, MONDAY_10
    )
    return delivery.message_build(
        customer=customer,
        contact=contact or customer.contacts.get(name="Jo Bloggs"),
        step=steps.by_id[plan.action.step.id].for_customer(customer),
        invoices=delivery.invoice_lines(loaded.facts, plan.action.invoice_ids, as_of=MONDAY_10),
        total=plan.action.total,
        as_of=MONDAY_10,
        calendar=calendar,
    )


def letter_of_claim_pdf(
    *, invoices: int = 1, contact: str = "Jo Bloggs", **customer_fields
) -> bytes:
    """The Letter of Claim as delivery builds it for a sole trader in England (or whoever
    customer_fields make them), at the letter step with `invoices` overdue, addressed to
    the named contact."""
    fields = {"name": "Jo Bloggs Joinery", **SOLE_TRADER, **customer_fields}
    customer = at_the_letter_step(email=False, invoices=invoices, **fields)
    person = ContactFactory(customer=customer, name=contact, address="4 Dock Road\nHull\nHU1 2AB")
    [(kind, filename, pdf)] = letter_of_claim_message(customer, person).attachments
    assert kind == DocumentKind.LETTER and filename.startswith("letter-of-claim-")
    return pdf


def test_the_letter_of_claim_pdf_holds_the_letter_then_the_three_annexes_each_on_its_page():
    pdf = letter_of_claim_pdf()

    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]
    assert "Letter of Claim Sent under the Pre-Action Protocol for Debt Claims" in pages[0]
    assert "You owe My Company Ltd £5,000.00." in pages[0]
    assert "Please reply within 30 days of the date of this letter" in pages[0]
    annexes = ("Information Sheet", "Reply Form", "Financial Statement")
    starts = [i for i, text in enumerate(pages) if text.startswith(annexes)]
    # After the letter, each annex is a printable page of its own, in the Protocol's order.
    assert [pages[i].split(" ", 2)[:2] for i in starts] == [a.split() for a in annexes]
    assert starts == [len(pages) - 3, len(pages) - 2, len(pages) - 1] and starts[0] >= 1
    information, reply, statement = (pages[i] for i in starts)
    assert "nationaldebtline.org" in information
    assert "I agree that I owe the full amount of £5,000.00." in reply
    assert "Please send me a copy of the documents I have ticked below." in reply
    assert "What is left each month" in statement and "Total going out" in statement


def test_the_covering_email_names_the_letter_and_the_30_days():
    customer = at_the_letter_step(email=False, **SOLE_TRADER)
    ContactFactory(customer=customer, name="Jo Bloggs")

    message = letter_of_claim_message(customer)

    assert message.subject.startswith("Letter of Claim: £5,000.00 owed on account")
    assert "You have 30 days from the date of the letter, 16 Mar 2026, to reply" in message.text
    assert "we may start court proceedings against you" in message.text


def test_delivery_posts_the_letter_of_claim_to_a_sole_trader_in_england():
    customer = at_the_letter_step(**SOLE_TRADER)

    plan_and_deliver()

    document = Document.objects.get(customer=customer, kind=DocumentKind.LETTER)
    assert document.filename.startswith("letter-of-claim-")


# --- the wait before a referral ----------------------------------------------------------------


def test_reply_deadline_is_30_days_from_the_letter_or_from_a_later_request_for_documents():
    sent = dt.date(2026, 3, 2)

    assert reply_deadline(sent, 30) == dt.date(2026, 4, 1)
    assert reply_deadline(sent, 30, [dt.date(2026, 3, 20)]) == dt.date(2026, 4, 19)
    assert reply_deadline(sent, 30, [dt.date(2026, 2, 20)]) == dt.date(2026, 4, 1)


def test_the_referral_waits_30_days_after_the_letter_of_claim_not_14_business_days():
    customer = claimed(**SOLE_TRADER)

    plan = plan_at(customer, MONDAY_23)
    dunning_run(as_of=MONDAY_23)

    assert plan.action.step.channel == Channel.LEGAL and not plan.due(MONDAY_23)
    assert "the letter of claim gives them until 1 Apr 2026 to reply" in plan.explanation
    assert plan.action.due_at.astimezone(ZoneInfo(customer.timezone)).date() == dt.date(2026, 4, 2)
    assert not referral_tasks(customer).exists()


def test_the_referral_is_proposed_once_the_30_days_are_over():
    customer = claimed(**SOLE_TRADER)

    dunning_run(as_of=THURSDAY_2_APRIL)

    assert referral_tasks(customer).count() == 1


def test_a_business_final_demand_still_allows_the_referral_after_14_business_days():
    customer = claimed(country="GB", region="England")
    Touch.objects.filter(customer=customer, channel=Channel.LETTER).update(
        template_version=TemplateVersion.objects.filter(template__key="final_demand")
        .order_by("-number")
        .first()
    )

    dunning_run(as_of=MONDAY_23)

    assert referral_tasks(customer).count() == 1


def test_a_reply_asking_for_documents_gives_them_30_more_days_from_it(collector):
    customer = claimed(**SOLE_TRADER)
    documents_request_record(
        actor=collector,
        customer=customer,
        requested_on=dt.date(2026, 3, 20),
        note="A copy of the agreement",
        today=dt.date(2026, 3, 20),
    )

    plan = plan_at(customer, THURSDAY_2_APRIL)
    dunning_run(as_of=THURSDAY_2_APRIL)

    assert not plan.due(THURSDAY_2_APRIL)
    assert (
        "they replied asking for documents on 20 Mar 2026, so the Pre-Action Protocol gives "
        "them until 19 Apr 2026" in plan.explanation
    )
    assert not referral_tasks(customer).exists()
    dunning_run(as_of=dt.datetime(2026, 4, 20, 10, tzinfo=dt.UTC))
    assert referral_tasks(customer).count() == 1


def test_documents_asked_for_before_the_letter_do_not_put_the_referral_off(collector):
    customer = claimed(**SOLE_TRADER)
    documents_request_record(
        actor=collector,
        customer=customer,
        requested_on=dt.date(2026, 2, 20),
        note="Copies of the invoices",
        today=dt.date(2026, 2, 20),
    )

    dunning_run(as_of=THURSDAY_2_APRIL)

    assert referral_tasks(customer).count() == 1


# --- approving it --------------------------------------------------------------------------


def hand_made_referral(customer) -> Task:
    return Task.objects.create(
        kind=TaskKind.REFERRAL, customer=customer, title="Legal referral", due_at=MONDAY_23
    )


def test_approval_is_refused_until_the_30_days_are_over_with_the_date(manager, time_machine):
    customer = claimed(**SOLE_TRADER)
    task = hand_made_referral(customer)
    time_machine.move_to(dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC), tick=False)

    with pytest.raises(DunningError) as refused:
        referral_approve(actor=manager, task_id=task.pk)

    assert str(refused.value) == (
        "The letter of claim of 2 Mar 2026 gives them 30 days to reply, until 1 Apr 2026 "
        "(Pre-Action Protocol for Debt Claims): the referral can be approved from 2 Apr 2026."
    )
    assert not Referral.objects.exists()


def test_approval_goes_ahead_once_the_30_days_are_over(manager, time_machine):
    customer = claimed(**SOLE_TRADER)
    task = hand_made_referral(customer)
    time_machine.move_to(THURSDAY_2_APRIL, tick=False)

    referral = referral_approve(actor=manager, task_id=task.pk)

    assert referral.customer == customer


def test_approval_after_a_request_for_documents_waits_30_days_from_it(manager, time_machine):
    customer = claimed(**SOLE_TRADER)
    time_machine.move_to(THURSDAY_2_APRIL, tick=False)
    dunning_run(as_of=THURSDAY_2_APRIL)
    documents_request_record(
        actor=manager, customer=customer, requested_on=dt.date(2026, 4, 1), note="The agreement"
    )
    task = referral_tasks(customer).get()

    with pytest.raises(DunningError) as refused:
        referral_approve(actor=manager, task_id=task.pk)
    time_machine.move_to(dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC), tick=False)
    with pytest.raises(DunningError):
        referral_approve(actor=manager, task_id=task.pk)
    time_machine.move_to(dt.datetime(2026, 5, 2, 12, tzinfo=dt.UTC), tick=False)
    referral_approve(actor=manager, task_id=task.pk)

    assert str(refused.value) == (
        "They replied on 1 Apr 2026 asking for documents, and the Pre-Action Protocol for "
        "Debt Claims gives them 30 days from that reply, until 1 May 2026: the referral can "
        "be approved from 2 May 2026."
    )
    assert Referral.objects.filter(customer=customer).count() == 1


# --- recording the request ---------------------------------------------------------------------


def test_recording_a_request_for_documents_writes_an_audit_event(collector):
    customer = claimed(**SOLE_TRADER)

    request = documents_request_record(
        actor=collector,
        customer=customer,
        requested_on=dt.date(2026, 3, 20),
        note="  A copy of the agreement ",
        today=dt.date(2026, 3, 20),
    )

    event = AuditEvent.objects.get(action="dunning.documents.requested")
    assert (request.note, request.recorded_by) == ("A copy of the agreement", collector)
    assert event.customer_id == customer.pk and event.data["requested_on"] == "2026-03-20"


@pytest.mark.parametrize(
    ("requested_on", "note", "says"),
    [
        (dt.date(2026, 3, 21), "The agreement", "Their reply cannot be dated after today."),
        (dt.date(2026, 3, 20), "   ", "Say which documents they asked for."),
    ],
)
def test_a_bad_request_is_refused_and_changes_nothing(collector, requested_on, note, says):
    customer = claimed(**SOLE_TRADER)

    with pytest.raises(DunningError, match=says):
        documents_request_record(
            actor=collector,
            customer=customer,
            requested_on=requested_on,
            note=note,
            today=dt.date(2026, 3, 20),
        )

    assert not DocumentsRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="dunning.documents.requested").exists()
