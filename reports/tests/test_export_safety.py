"""Exports are opened in spreadsheets: a name that a spreadsheet would run as a formula is
written as text, and amounts stay numbers."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import COLLECTOR
from invoices.tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "@SUM(A1)", "-2+3", "\tcmd", "\rcmd"]


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    time_machine.move_to(dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC), tick=False)


def owed_by(name: str, amount="100.00", **customer):
    due = dt.date(2026, 2, 1)
    return InvoiceFactory(
        customer=CustomerFactory(name=name, currency="GBP", **customer),
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
    )


def exported(client, report: str, **query) -> list[list[str]]:
    response = client.get(reverse("reports:export", args=[report, "csv"]), query)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode(), newline="")))


def test_customer_names_that_would_run_as_formulas_are_exported_as_text(manager_client):
    for name in HOSTILE:
        owed_by(name)

    rows = exported(manager_client, "aging", by="customer")

    assert sorted(row[1] for row in rows[1:]) == sorted("'" + name for name in HOSTILE)


def test_a_collectors_name_that_would_run_as_a_formula_is_exported_as_text(
    manager_client, django_user_model
):
    mallory = django_user_model.objects.create_user(username="mallory", first_name="=cmd|'/c'")
    mallory.groups.add(Group.objects.get(name=COLLECTOR))
    owed_by("Plain Ltd", collector=mallory)

    rows = exported(manager_client, "aging", by="collector")

    assert rows[1][1] == "'=cmd|'/c'"


def test_a_name_that_is_only_a_number_stays_as_it_is(manager_client):
    owed_by("-12.50")

    rows = exported(manager_client, "aging", by="customer")

    assert rows[1][1] == "-12.50"


def test_exported_amounts_stay_plain_numbers(manager_client):
    owed_by("=Evil", amount="1200.50")

    rows = exported(manager_client, "aging", by="customer")

    total = rows[0].index("total")
    assert rows[1][total] == "1200.50"
    assert all(not cell.startswith("'") for cell in rows[1][2:])


def test_the_metrics_export_writes_no_cell_a_spreadsheet_would_run(manager_client):
    owed_by("=Evil")

    rows = exported(manager_client, "metrics")

    cells = [cell for row in rows[1:] for cell in row]
    assert cells and not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
