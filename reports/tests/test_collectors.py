"""Collectors on the dashboard: who the collector filter offers, and their results one
currency a line."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import ADMIN, COLLECTOR, MANAGER
from invoices.forms import staff_choices
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.cache import forget_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    time_machine.move_to(dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC), tick=False)


def person(django_user_model, username, *roles, active=True):
    user = django_user_model.objects.create_user(
        username=username, password="x", first_name=username.title(), is_active=active
    )
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


def offered() -> list[str]:
    return [label for _value, label in staff_choices(empty_label="Every collector")]


def test_the_collector_filter_offers_collectors_and_not_managers_or_admins(
    django_user_model,
):
    person(django_user_model, "cara", COLLECTOR)
    person(django_user_model, "maria", MANAGER)
    person(django_user_model, "ada", ADMIN)
    django_user_model.objects.create_superuser(username="root", password="x")

    assert offered() == ["Every collector", "Unassigned", "Cara"]


def test_a_manager_with_customers_assigned_is_offered_too(django_user_model):
    manager = person(django_user_model, "maria", MANAGER)
    CustomerFactory(collector=manager)

    assert offered() == ["Every collector", "Unassigned", "Maria"]


def test_a_collector_who_left_is_offered_only_while_they_hold_customers(django_user_model):
    person(django_user_model, "gone", COLLECTOR, active=False)
    holding = person(django_user_model, "leaving", COLLECTOR, active=False)
    CustomerFactory(collector=holding)

    assert offered() == ["Every collector", "Unassigned", "Leaving (inactive)"]


def test_the_dashboard_filter_lists_only_collectors(manager_client, django_user_model):
    person(django_user_model, "cara", COLLECTOR)

    response = manager_client.get(reverse("reports:dashboard"))

    select = re.search(r'<select name="collector".*?</select>', response.text, re.S).group(0)
    assert ">Cara<" in select
    assert "maria" not in select.lower()


def test_per_collector_amounts_are_one_currency_a_line(manager_client, django_user_model):
    cara = person(django_user_model, "cara", COLLECTOR)
    for currency, amount in (("GBP", "1200.00"), ("EUR", "80.00")):
        InvoiceFactory(
            customer=CustomerFactory(collector=cara, currency=currency),
            issue_date=dt.date(2026, 1, 1),
            due_date=dt.date(2026, 2, 1),
            amount=Decimal(amount),
        )
    forget_all()

    response = manager_client.get(reverse("reports:dashboard"))

    table = re.search(r'<table class="table collectors">.*?</table>', response.text, re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    cara_rows = [row for row in rows if "€80.00" in row or "£1,200.00" in row]
    assert len(cara_rows) == 2  # one line per currency, never one cell holding both
    assert "<td>EUR</td>" in cara_rows[0] and "<td>GBP</td>" in cara_rows[1]
    assert "<br>" not in table.group(0)
