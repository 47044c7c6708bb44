"""A credit hold as the collector sees it: a badge and a filter on the queue, and on the
customer page since when, why, and whether the rule or a person set it."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from dunning.credit_hold import credit_holds_apply
from dunning.models import DunningSettings
from dunning.queue import queue_rebuild
from dunning.tests.factories import MONDAY_10
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

TODAY = MONDAY_10.date()


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


def owes(customer, *, days: int, number: str | None = None):
    due = TODAY - dt.timedelta(days=days)
    extra = {"number": number} if number else {}
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal("100.00"),
        **extra,
    )


def held_by_rule(collector):
    settings = DunningSettings.current()
    settings.credit_hold_overdue_days = 60
    settings.save()
    customer = CustomerFactory(name="Late Ltd", collector=collector)
    owes(customer, days=64, number="INV-7")
    queue_rebuild(as_of=MONDAY_10)
    credit_holds_apply(as_of_date=TODAY)
    return customer


def test_the_queue_shows_a_credit_hold_badge_and_filters_on_it(collector_client, collector):
    held = held_by_rule(collector)
    owes(CustomerFactory(name="Fine Ltd", collector=collector), days=10)
    queue_rebuild(as_of=MONDAY_10)

    everyone = collector_client.get(reverse("queue"))
    filtered = collector_client.get(reverse("queue"), {"flag": "credit_hold"})

    url = reverse("customer_detail", args=[held.pk])
    [row] = re.findall(rf'<tr data-href="{url}".*?</tr>', everyone.text, re.S)
    assert "Credit hold since 16 Mar 2026</span>" in row
    assert [entry.customer.name for entry in filtered.context["page"].object_list] == ["Late Ltd"]


def test_the_customer_page_says_since_when_why_and_that_the_rule_set_it(
    collector_client, collector
):
    customer = held_by_rule(collector)

    page = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    assert '<span class="badge badge-warn">Credit hold since 16 Mar 2026</span>' in page
    assert "INV-7 is 64 days overdue (rule: 60 days); set by the rule" in page


def test_the_customer_page_says_a_hold_was_set_by_hand(collector_client, collector):
    customer = CustomerFactory(
        collector=collector,
        credit_hold=True,
        credit_hold_since=dt.date(2026, 3, 2),
        credit_hold_reason="Sales asked",
    )
    owes(customer, days=3)

    page = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    assert '<span class="badge badge-warn">Credit hold since 2 Mar 2026</span>' in page
    assert "set by hand: Sales asked" in page


def test_the_rules_hold_reads_as_a_sentence_on_the_timeline(collector_client, collector):
    customer = held_by_rule(collector)

    page = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    assert "Put on credit hold by the rule" in page
