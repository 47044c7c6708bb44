"""The credit-holds CSV for the sales side: exactly the accounts on credit hold, with why."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dunning.credit_hold import credit_holds_apply
from dunning.models import DunningSettings
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 16)
CSV_URL = reverse("reports:credit_holds")


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC), tick=False)


def owes(customer, *, days: int, amount: str, number: str | None = None):
    due = TODAY - dt.timedelta(days=days)
    extra = {"number": number} if number else {}
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
        **extra,
    )


def exported(client) -> list[list[str]]:
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="credit-holds-2026-03-16.csv"'
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_lists_exactly_the_accounts_on_credit_hold_with_their_reasons(manager_client, collector):
    settings = DunningSettings.current()
    settings.credit_hold_overdue_days = 60
    settings.save()
    by_rule = CustomerFactory(
        external_id="C-RULE", name="Late Ltd", collector=collector, credit_limit=Decimal("500")
    )
    owes(by_rule, days=64, amount="300.00", number="INV-7")
    owes(by_rule, days=-5, amount="50.00")
    by_hand = CustomerFactory(
        external_id="C-HAND",
        name="Hand Ltd",
        currency="EUR",
        credit_hold=True,
        credit_hold_since=dt.date(2026, 1, 5),
        credit_hold_reason="Sales asked",
    )
    owes(by_hand, days=3, amount="20.00")
    in_terms = CustomerFactory(name="Fine Ltd")
    owes(in_terms, days=10, amount="999.00")
    credit_holds_apply(as_of_date=TODAY)

    rows = exported(manager_client)

    assert rows[0] == [
        "external_id",
        "name",
        "collector",
        "on_hold_since",
        "reason",
        "set_by",
        "open_balance",
        "overdue_balance",
        "credit_limit",
        "currency",
    ]
    assert rows[1:] == [
        [
            "C-HAND",
            "Hand Ltd",
            "",
            "2026-01-05",
            "Sales asked",
            "hand",
            "20.00",
            "20.00",
            "",
            "EUR",
        ],
        [
            "C-RULE",
            "Late Ltd",
            collector.get_username(),
            "2026-03-16",
            "INV-7 is 64 days overdue (rule: 60 days)",
            "rule",
            "350.00",
            "300.00",
            "500.00",
            "GBP",
        ],
    ]


def test_a_name_that_would_run_as_a_formula_is_exported_as_text(manager_client):
    CustomerFactory(name='=HYPERLINK("http://evil","x")', credit_hold=True)

    assert exported(manager_client)[1][1] == '\'=HYPERLINK("http://evil","x")'


def test_collectors_may_not_download_it(collector_client):
    assert collector_client.get(CSV_URL).status_code == 403


def test_it_costs_the_same_queries_for_5_or_50_accounts(manager_client, collector):
    def queries_for(count: int) -> int:
        for _ in range(count):
            customer = CustomerFactory(credit_hold=True, collector=collector)
            owes(customer, days=3, amount="10.00")
        with CaptureQueriesContext(connection) as captured:
            rows = exported(manager_client)
        return len(captured), len(rows)

    few, rows_few = queries_for(5)
    many, rows_many = queries_for(50)
    assert (few, rows_few, rows_many) == (many, 6, 56)


def test_the_dashboard_links_to_it(manager_client):
    page = manager_client.get(reverse("reports:dashboard")).content.decode()

    assert f'href="{CSV_URL}">Credit holds (CSV)</a>' in page
