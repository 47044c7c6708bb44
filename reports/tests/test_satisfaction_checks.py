"""The satisfaction check's figures: checks sent, answers, and the problems it found before
the due date (count and amount), from real runs and answers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from dunning.checks import satisfaction_answer_record
from dunning.models import CheckAnswer
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from dunning.tests.factories import MONDAY_10, ladder  # noqa: F401
from dunning.tests.test_checks import checking  # noqa: F401
from invoices.models import DisputeReason
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from reports.cache import forget_all
from reports.metrics import satisfaction_checks

pytestmark = pytest.mark.django_db
TODAY = MONDAY_10.date()
LINK = {"via": "customer_page", "contact_id": None, "link_id": None}


def asked(amount: str, *, currency="GBP"):
    customer = CustomerFactory(currency=currency)
    ContactFactory(customer=customer)
    invoice = InvoiceFactory(
        customer=customer,
        issue_date=TODAY - dt.timedelta(days=5),
        due_date=TODAY + dt.timedelta(days=25),
        amount=Decimal(amount),
    )
    return customer, invoice


def answer(customer, invoice, kind, at=MONDAY_10):
    reason = DisputeReason.QUALITY if kind == CheckAnswer.PROBLEM else None
    return satisfaction_answer_record(
        customer=customer,
        invoice=invoice,
        answer=kind,
        contact=None,
        link_data=LINK,
        now=at,
        reason=reason,
    )


@pytest.fixture
def three_answered(checking):  # noqa: F811
    """Four checks sent on Monday: one answered in order, two problems before the due date
    (£300 and €50), one a problem after it; one never answered."""
    accounts = [asked("120.00"), asked("300.00"), asked("50.00", currency="EUR"), asked("80.00")]
    late = asked("70.00")
    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)
    answer(*accounts[0], CheckAnswer.ALL_IN_ORDER)
    answer(*accounts[1], CheckAnswer.PROBLEM)
    answer(*accounts[2], CheckAnswer.PROBLEM)
    answer(*late, CheckAnswer.PROBLEM, at=MONDAY_10 + dt.timedelta(days=26))
    return accounts


@pytest.mark.usefixtures("three_answered")
def test_the_figures_count_checks_sent_answers_and_problems_found_before_the_due_date():
    figures = satisfaction_checks(start=TODAY, end=TODAY + dt.timedelta(days=30))

    assert figures["sent"] == 5
    assert (figures["in_order"], figures["problems"], figures["found_early"]) == (1, 3, 2)
    assert figures["found_early_amount"] == {"EUR": Decimal("50.00"), "GBP": Decimal("300.00")}


@pytest.mark.usefixtures("three_answered")
def test_answers_outside_the_period_are_not_counted():
    figures = satisfaction_checks(start=TODAY + dt.timedelta(days=1), end=TODAY + dt.timedelta(5))

    assert figures == {
        "sent": 0,
        "in_order": 0,
        "problems": 0,
        "found_early": 0,
        "found_early_amount": {},
    }


@pytest.mark.usefixtures("three_answered")
def test_the_dashboard_shows_the_problems_found_before_the_due_date(manager_client, time_machine):
    time_machine.move_to(MONDAY_10 + dt.timedelta(days=1), tick=False)
    forget_all()

    page = manager_client.get(reverse("reports:dashboard")).text

    assert "Problems found before the due date by the satisfaction check" in page
    assert "£300.00" in page and "€50.00" in page
