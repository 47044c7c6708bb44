"""Amounts typed on the customer page and in a policy take only the documented format:
Django's own DecimalField would read 1E3 as a thousand and 1_234.56 as 1234.56."""

import pytest
from django.urls import reverse

from dunning.forms import StepForm
from dunning.models import PaymentPlan, PromiseToPay

from .factories import MONDAY_10, overdue_customer

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
NOT_AN_AMOUNT = "is not an amount: use digits with a dot for decimals, e.g. 1234.56."


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


@pytest.mark.parametrize("amount", ["1E3", "1_234.56", "NaN", "Infinity"])
def test_a_promise_of_an_amount_outside_the_format_is_a_form_error(manager_client, amount):
    customer = overdue_customer()

    response = manager_client.post(
        reverse("customer_promise", args=[customer.pk]),
        {"amount": amount, "promised_for": "2026-03-20"},
        **HTMX,
    )

    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [f"'{amount}' {NOT_AN_AMOUNT}"]
    assert not PromiseToPay.objects.exists()


def test_a_payment_plan_total_written_with_an_exponent_is_a_form_error(manager_client):
    customer = overdue_customer()

    response = manager_client.post(
        reverse("customer_plan", args=[customer.pk]),
        {"count": "3", "amount": "3E2", "first_date": "2026-03-20", "every": "month"},
        **HTMX,
    )

    assert response.context["form"].errors["amount"] == [f"'3E2' {NOT_AN_AMOUNT}"]
    assert not PaymentPlan.objects.exists()


def test_a_steps_minimum_balance_written_with_an_underscore_is_a_form_error():
    form = StepForm(
        data={
            "position": "1",
            "name": "Reminder",
            "offset_days": "3",
            "channel": "email",
            "template": "reminder",
            "min_balance": "1_000",
        }
    )

    assert form.errors["min_balance"] == [f"'1_000' {NOT_AN_AMOUNT}"]
