"""A manager approves or declines a proposed legal referral."""

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
from dunning.models import Chase, Referral, Task, TaskKind, TaskStatus, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.selectors import Steps, calendar_for, facts_load
from letters.models import DocumentKind
from letters.pdf import render_pdf
from letters.services import document_store
from letters.tests.test_pdf import pdf_text

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .test_shell import _done, _standard_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]
AFTER_DEADLINE = MONDAY_10 + dt.timedelta(days=7)


def _proposed(**customer_fields):
    """A customer whose final demand's deadline has passed: the engine proposes referral."""
    customer = overdue_customer(days=70, amount=Decimal("5000.00"), **customer_fields)
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version_id=_standard_version(), started_at=MONDAY_10
    )
    _done(chase, positions=[1, 2, 3, 4, 5, 6], at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    document_store(
        kind=DocumentKind.LETTER,
        customer_id=customer.pk,
        filename="final-demand.pdf",
        content=render_pdf("<h1>Final demand</h1>"),
    )
    dunning_run(as_of=AFTER_DEADLINE)
    return customer, Task.objects.get(kind=TaskKind.REFERRAL, customer=customer)


def test_approving_builds_the_pack_and_stops_automated_contact(manager_client, manager):
    customer, task = _proposed()
    Touch.objects.create(
        key="x",
        customer=customer,
        channel="email",
        status=TouchStatus.PENDING,
        scheduled_for=AFTER_DEADLINE,
        currency="GBP",
    )

    response = manager_client.post(
        reverse("dunning:referral_decide", args=[task.pk]),
        {"decision": "approve", "reason": "Ignored every letter"},
    )

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert referral.total == Decimal("5000.00") and referral.decided_by == manager
    archive = zipfile.ZipFile(io.BytesIO(bytes(referral.pack.content)))
    names = archive.namelist()
    assert {
        "case-summary.pdf",
        "statement.pdf",
        "timeline.pdf",
        "disputes-and-promises.pdf",
    } <= set(names)
    assert any(name.startswith("letters/") and name.endswith("final-demand.pdf") for name in names)
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


def test_declining_needs_a_reason_and_keeps_the_customer_as_they_were(manager_client):
    customer, task = _proposed()
    url = reverse("dunning:referral_decide", args=[task.pk])

    manager_client.post(url, {"decision": "decline", "reason": "  "})
    assert not Referral.objects.exists()

    manager_client.post(url, {"decision": "decline", "reason": "Small balance; use an agency"})
    referral = Referral.objects.get()
    assert referral.status == "declined" and referral.pack is None
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE


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
    task = _task_for(customer)

    page = manager_client.get(reverse("dunning:referral_detail", args=[task.pk]))
    manager_client.post(reverse("dunning:referral_decide", args=[task.pk]), {"decision": "approve"})

    assert "passed its limitation date" in page.content.decode()
    assert not Referral.objects.exists()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_limitation_date_coming_soon_is_warned_of(manager_client):
    today = timezone.localdate()
    due = today.replace(year=today.year - 6) + dt.timedelta(days=30)
    customer = overdue_customer(days=(today - due).days, as_of=timezone.now(), country="GB")
    task = _task_for(customer)

    page = manager_client.get(reverse("dunning:referral_detail", args=[task.pk]))

    assert "reaches its limitation date" in page.content.decode()
    assert "(in 30 days)" in page.content.decode()


@pytest.mark.parametrize(
    "country, region, years",
    [
        ("US", "New York", 6),
        ("US", "NY", 6),
        ("US", "illinois", 10),
        ("US", "Ohio", 4),
        ("GB", "", 6),
        ("FR", "", None),
    ],
)
def test_the_limitation_period_follows_the_customers_region_by_name_or_code(country, region, years):
    assert period_years(country, region) == years
