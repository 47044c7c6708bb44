"""A manager approves or declines a proposed legal referral; the referral and its pack hold
only the invoices the final demand covered, and the final demand letter itself."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dunning.engine import plan_customer
from dunning.limitation import period_years
from dunning.models import (
    Channel,
    Chase,
    Policy,
    QueueEntry,
    Referral,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
    TouchStatus,
)
from dunning.planning import dunning_run
from dunning.referrals import REASON_MAX, referral_approve, referral_case
from dunning.selectors import Steps, calendar_for, facts_load
from invoices.models import Invoice
from invoices.services import payment_record
from invoices.tests.factories import InvoiceFactory
from letters.models import DocumentKind
from letters.pdf import render_pdf
from letters.services import document_store
from letters.tests.test_pdf import pdf_text

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .test_shell import _done, _standard_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]
LETTER_SENT = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)  # a Monday; 14 business days to pay
AFTER_DEADLINE = MONDAY_10 + dt.timedelta(days=7)
APPROVE = {"decision": "approve", "confirm": "on"}


def final_demand(customer, invoices, *, chase=None, at=LETTER_SENT, letter=b"") -> Touch:
    """A final demand letter sent to the customer as delivery records one: the invoices it
    listed, and its PDF stored (letter=None: a letter whose PDF is not on record)."""
    step = Policy.objects.get(name="Standard").current_version.steps.get(channel=Channel.LETTER)
    document = None
    if letter is not None:
        document = document_store(
            kind=DocumentKind.LETTER,
            customer_id=customer.pk,
            filename=f"final-demand-{customer.external_id}.pdf",
            content=letter or b"%PDF-1.7 the final demand as sent",
        )
    return Touch.objects.create(
        key=f"{customer.pk}:{chase.cycle if chase else 0}:{step.position}",
        customer=customer,
        chase=chase,
        step=step,
        channel=Channel.LETTER,
        status=TouchStatus.SENT,
        scheduled_for=at,
        sent_at=at,
        to_email="ap@example.com",
        currency=customer.currency,
        invoices=[
            {
                "id": str(inv.pk),
                "number": inv.number,
                "due_date": str(inv.due_date),
                "balance": str(inv.open_balance),
            }
            for inv in invoices
        ],
        total=sum((inv.open_balance for inv in invoices), Decimal("0.00")),
        document=document,
    )


def proposed(*, invoices=1, newer_invoices_due=(), letter=b"", **customer_fields):
    """A customer whose final demand (for their invoices, 70 days overdue) is past its
    deadline, with invoices that fell due after it (days overdue at the run); the engine
    has proposed the referral. Returns the customer and the referral task."""
    customer = overdue_customer(
        days=70, invoices=invoices, amount=Decimal("5000.00"), **customer_fields
    )
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=[1, 2, 3, 4, 5], at=LETTER_SENT - dt.timedelta(days=20))
    final_demand(customer, list(customer.invoices.all()), chase=chase, letter=letter)
    for days in newer_invoices_due:
        due = AFTER_DEADLINE.date() - dt.timedelta(days=days)
        number = f"NEW-{days}"
        if Invoice.objects.filter(number=number).exists():  # another customer's
            number += f"/{customer.pk}"
        InvoiceFactory(
            customer=customer,
            number=number,
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            amount=Decimal("250.00"),
        )
    dunning_run(as_of=AFTER_DEADLINE)
    return customer, Task.objects.get(kind=TaskKind.REFERRAL, customer=customer)


def approve(client, task, **data):
    return client.post(reverse("dunning:referral_decide", args=[task.pk]), {**APPROVE, **data})


def test_approving_builds_the_pack_and_stops_automated_contact(manager_client, manager):
    customer, task = proposed()
    Touch.objects.create(
        key="x",
        customer=customer,
        channel="email",
        status=TouchStatus.PENDING,
        scheduled_for=AFTER_DEADLINE,
        currency="GBP",
    )

    response = approve(manager_client, task, reason="Ignored every letter")

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert referral.total == Decimal("5000.00") and referral.decided_by == manager
    archive = zipfile.ZipFile(io.BytesIO(bytes(referral.pack.content)))
    assert {
        "case-summary.pdf",
        "statement.pdf",
        "timeline.pdf",
        "disputes-and-promises.pdf",
    } <= set(archive.namelist())
    summary = pdf_text(archive.read("case-summary.pdf"))
    assert customer.invoices.get().number in summary and "£5,000.00" in summary
    assert "Ignored every letter" in summary
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    assert Touch.objects.get(key="x").status == TouchStatus.CANCELLED
    assert AuditEvent.objects.filter(action="dunning.referral.approved").count() == 1

    [loaded] = facts_load([customer.pk], as_of=AFTER_DEADLINE, steps=Steps())
    plan = plan_customer(
        loaded.facts,
        Steps().facts_of(loaded.customer.version_id),
        calendar_for(AFTER_DEADLINE),
        AFTER_DEADLINE,
    )
    assert plan.paused_by and plan.paused_by[0].startswith("referred to legal")


def test_the_queue_reads_the_decision_at_once(manager_client):
    approved, approved_task = proposed()
    declined, declined_task = proposed()
    entry = QueueEntry.objects.get(customer=approved)
    planned_before = QueueEntry.objects.get(customer=declined).planned_at
    assert not entry.in_legal

    approve(manager_client, approved_task)
    manager_client.post(
        reverse("dunning:referral_decide", args=[declined_task.pk]),
        {"decision": "decline", "reason": "Paying on the phone"},
    )

    entry.refresh_from_db()
    assert entry.in_legal and entry.paused_by.startswith("referred to legal")
    assert QueueEntry.objects.get(customer=declined).planned_at > planned_before


def test_the_pack_holds_the_final_demand_letter_exactly_as_it_was_sent(manager_client):
    letter = render_pdf("<h1>Final demand</h1><p>Pay within 14 days.</p>")
    customer, task = proposed(letter=letter)

    approve(manager_client, task)

    archive = zipfile.ZipFile(io.BytesIO(bytes(Referral.objects.get().pack.content)))
    [name] = [n for n in archive.namelist() if n.startswith("final-demand/")]
    assert archive.read(name) == letter
    assert not any(n.startswith("letters/") for n in archive.namelist())  # not twice
    assert name in pdf_text(archive.read("case-summary.pdf")).replace("\n", "")


def test_the_proposal_leaves_out_invoices_the_final_demand_did_not_cover():
    customer, task = proposed(newer_invoices_due=(1, 21))

    case = referral_case(task, today=AFTER_DEADLINE.date())

    demanded = customer.invoices.exclude(number__startswith="NEW-").get().number
    assert [line["number"] for line in case.invoices] == [demanded]
    assert case.total == Decimal("5000.00")
    assert {line["number"]: line["why"] for line in case.left_out} == {
        "NEW-21": "not in the final demand",
        "NEW-1": "not in the final demand",
    }


def test_approving_refers_only_the_invoices_the_final_demand_covered(manager_client):
    customer, task = proposed(newer_invoices_due=(1, 21))

    approve(manager_client, task)

    referral = Referral.objects.get()
    demanded = customer.invoices.exclude(number__startswith="NEW-").get().number
    assert [line["number"] for line in referral.invoices] == [demanded]
    assert referral.total == Decimal("5000.00")
    event = AuditEvent.objects.get(action="dunning.referral.approved")
    assert event.data["invoices"] == [demanded]
    assert sorted(event.data["left_out"]) == ["NEW-1", "NEW-21"]


def test_an_invoice_added_to_the_ledger_after_the_proposal_is_not_referred_either(manager):
    customer, task = proposed()
    InvoiceFactory(customer=customer, number="LATE-1", due_date=AFTER_DEADLINE.date())

    referral = referral_approve(actor=manager, task_id=task.pk)

    assert "LATE-1" not in [line["number"] for line in referral.invoices]


def test_an_invoice_paid_since_the_proposal_drops_out_of_the_referral(manager):
    customer, task = proposed(invoices=2)
    paid, unpaid = customer.invoices.order_by("number")
    payment_record(
        actor=None,
        customer=customer,
        amount=paid.open_balance,
        received_on=AFTER_DEADLINE.date(),
        allocations=[(paid, paid.open_balance)],
    )

    referral = referral_approve(actor=manager, task_id=task.pk)

    assert [line["number"] for line in referral.invoices] == [unpaid.number]
    assert referral.total == Decimal("5000.00")


def test_an_invoice_on_hold_when_the_referral_was_proposed_is_not_referred(manager):
    customer, task = proposed(invoices=2)
    held, chased = customer.invoices.order_by("number")
    # As the engine leaves out an invoice under a promise or a dispute at the time.
    task.touch.invoices = [line for line in task.touch.invoices if line["number"] != held.number]
    task.touch.save()

    referral = referral_approve(actor=manager, task_id=task.pk)

    assert [line["number"] for line in referral.invoices] == [chased.number]


def test_approval_needs_the_confirmation_box_ticked(manager_client):
    _customer, task = proposed()

    response = manager_client.post(
        reverse("dunning:referral_decide", args=[task.pk]), {"decision": "approve"}
    )

    assert response.status_code == 200
    assert "Tick the box to confirm" in response.text
    assert not Referral.objects.exists()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_decision_that_is_neither_approve_nor_decline_changes_nothing(manager_client):
    _customer, task = proposed()

    response = manager_client.post(
        reverse("dunning:referral_decide", args=[task.pk]), {"decision": "maybe", "reason": "?"}
    )

    assert "Choose to approve or to decline the referral." in response.text
    assert not Referral.objects.exists()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_case_without_a_final_demand_cannot_be_referred(manager_client):
    customer = overdue_customer(days=90, as_of=timezone.now(), amount=Decimal("5000.00"))
    task = Task.objects.create(
        kind=TaskKind.REFERRAL, customer=customer, title="Approve", due_at=timezone.now()
    )

    page = manager_client.get(reverse("dunning:referral_detail", args=[task.pk]))
    approve(manager_client, task)

    assert "No final demand is on record" in page.text
    assert not Referral.objects.exists()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_declining_needs_a_reason_and_keeps_the_customer_as_they_were(manager_client):
    _customer, task = proposed()
    url = reverse("dunning:referral_decide", args=[task.pk])

    refused = manager_client.post(url, {"decision": "decline", "reason": "  "})
    assert "Say why the referral is declined." in refused.text
    assert not Referral.objects.exists()

    manager_client.post(url, {"decision": "decline", "reason": "Small balance; use an agency"})
    referral = Referral.objects.get()
    assert referral.status == "declined" and referral.pack is None
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_a_reason_longer_than_the_limit_is_refused_saying_how_long_it_is(manager_client, decision):
    _customer, task = proposed()

    response = manager_client.post(
        reverse("dunning:referral_decide", args=[task.pk]),
        {**APPROVE, "decision": decision, "reason": "x" * 5000},
    )

    assert f"Keep the reason to {REASON_MAX:,} characters; this one has 5,000" in response.text
    assert "x" * 5000 in response.text  # kept in the form to shorten, not lost
    assert not Referral.objects.exists()


def test_the_service_refuses_an_overlong_reason_too(manager):
    _customer, task = proposed()

    with pytest.raises(Exception, match="Keep the reason"):
        referral_approve(actor=manager, task_id=task.pk, reason="x" * (REASON_MAX + 1))

    assert not Referral.objects.exists()


def _task_for(customer):
    return Task.objects.create(
        kind=TaskKind.REFERRAL, customer=customer, title="Approve", due_at=timezone.now()
    )


def test_a_case_past_its_limitation_date_cannot_be_referred(manager_client):
    today = timezone.localdate()
    customer = overdue_customer(
        days=(today - today.replace(year=today.year - 5)).days,
        as_of=timezone.now(),
        country="US",
        region="CA",  # four years
    )
    final_demand(customer, customer.invoices.all(), at=timezone.now() - dt.timedelta(days=60))
    task = _task_for(customer)

    page = manager_client.get(reverse("dunning:referral_detail", args=[task.pk]))
    approve(manager_client, task)

    assert "passed its limitation date" in page.content.decode()
    assert not Referral.objects.exists()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_limitation_date_coming_soon_is_warned_of(manager_client):
    today = timezone.localdate()
    due = today.replace(year=today.year - 6) + dt.timedelta(days=30)
    customer = overdue_customer(days=(today - due).days, as_of=timezone.now(), country="GB")
    final_demand(customer, customer.invoices.all(), at=timezone.now() - dt.timedelta(days=60))
    task = _task_for(customer)

    page = manager_client.get(reverse("dunning:referral_detail", args=[task.pk]))

    assert "reaches its limitation date" in page.content.decode()
    assert "(in 30 days)" in page.content.decode()


@pytest.mark.parametrize(
    "country, region, years",
    [
        ("US", "New York", 6),
        ("US", "NY", 6),
        ("US", "illinois", 5),  # an open account; 10 is for a written contract
        ("US", "Ohio", 3),  # none on file: the shortest known in the US (Delaware)
        ("GB", "", 6),
        ("FR", "", None),
    ],
)
def test_the_limitation_period_follows_the_customers_region_by_name_or_code(country, region, years):
    assert period_years(country, region) == years
