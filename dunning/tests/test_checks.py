"""The satisfaction check end to end in the shell: planned outside any chase, once per
invoice, sent with a link per answer, and each answer kept (an acknowledgement or a
dispute), audited, first answer standing."""

import datetime as dt

import pytest
from django.core import mail

from audit.models import AuditEvent
from dunning.checks import IN_ORDER_NOTE, CheckAnswered, satisfaction_answer_record
from dunning.exceptions import DunningError
from dunning.forms import StepForm
from dunning.limitation import ACKNOWLEDGEMENT, DUE_DATE, limitation_state
from dunning.models import (
    Acknowledgement,
    Chase,
    CheckAnswer,
    SatisfactionAnswer,
    StepKind,
    Touch,
    TouchStatus,
)
from dunning.planning import dunning_run
from dunning.policy_services import PolicyError, policy_save_version, version_steps
from dunning.selectors import template_uses_answer
from dunning.services import touches_deliver
from invoices.models import DisputeReason, InvoiceStatus, RaisedVia
from invoices.services import dispute_open
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

from .factories import MONDAY_10, ladder  # noqa: F401
from .test_webhooks import fire

pytestmark = [pytest.mark.django_db]
LINK = {"via": "customer_page", "contact_id": None, "link_id": None}
TODAY = MONDAY_10.date()


def check_step(**overrides) -> dict:
    step = {
        "name": "Satisfaction check",
        "kind": StepKind.CHECK,
        "offset_days": 5,
        "channel": "email",
        "template": "satisfaction_check",
        "min_balance": "0",
        "business_days_only": True,
    }
    return {**step, **overrides}


@pytest.fixture
def checking(ladder):  # noqa: F811
    """The default policy with a satisfaction check 5 days after issue."""
    steps = version_steps(ladder.current_version)
    steps.append(check_step(position=len(steps) + 1))
    policy_save_version(actor=None, policy=ladder, steps=steps, note="With a check")
    return ladder


def new_customer(*, issued_days_ago=5, due_in=25, invoices=1):
    customer = CustomerFactory()
    ContactFactory(customer=customer)
    for _ in range(invoices):
        InvoiceFactory(
            customer=customer,
            issue_date=TODAY - dt.timedelta(days=issued_days_ago),
            due_date=TODAY + dt.timedelta(days=due_in),
        )
    return customer


def check_touches(customer):
    return Touch.objects.filter(customer=customer, step__kind=StepKind.CHECK)


def answer(customer, invoice, kind, **kw):
    return satisfaction_answer_record(
        customer=customer,
        invoice=invoice,
        answer=kind,
        contact=customer.contacts.first(),
        link_data=LINK,
        now=kw.pop("now", MONDAY_10),
        **kw,
    )


# --- planning and sending ------------------------------------------------------------------


@pytest.mark.usefixtures("checking")
def test_a_run_plans_the_check_outside_any_chase_and_a_rerun_plans_nothing_more():
    customer = new_customer(invoices=2)

    dunning_run(as_of=MONDAY_10)
    dunning_run(as_of=MONDAY_10)

    [touch] = check_touches(customer)
    assert touch.chase_id is None
    assert len(touch.invoices) == 2
    assert not Chase.objects.filter(customer=customer).exists()
    planned = AuditEvent.objects.filter(customer_id=customer.pk, action="dunning.touch.planned")
    assert planned.count() == 1


@pytest.mark.usefixtures("ladder")
def test_a_policy_without_a_check_asks_nothing():
    customer = new_customer()

    dunning_run(as_of=MONDAY_10)

    assert not Touch.objects.filter(customer=customer).exists()


@pytest.mark.usefixtures("checking")
def test_the_check_email_carries_a_link_for_each_answer_to_the_customers_page():
    customer = new_customer()
    invoice = customer.invoices.get()

    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)

    [message] = mail.outbox
    assert message.to == [customer.contacts.get().email]
    assert invoice.number in message.subject
    assert f"/check/{invoice.pk}/in-order/" in message.body
    assert f"/check/{invoice.pk}/problem/" in message.body
    assert check_touches(customer).get().status == TouchStatus.SENT


@pytest.mark.usefixtures("checking")
def test_a_check_planned_for_an_invoice_disputed_meanwhile_is_not_sent():
    customer = new_customer()
    dunning_run(as_of=MONDAY_10)
    dispute_open(actor=None, invoice=customer.invoices.get(), reason="pricing", opened_on=TODAY)

    touches_deliver(as_of=MONDAY_10)

    assert mail.outbox == []
    assert check_touches(customer).get().status == TouchStatus.CANCELLED


@pytest.mark.usefixtures("checking")
def test_a_bounced_check_goes_again_to_the_next_contact(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"  # delivery events name it
    customer = new_customer()
    second = ContactFactory(customer=customer, is_primary=False)
    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)
    sent = check_touches(customer).get()

    fire(sent, "bounced", "e1")
    touches_deliver(as_of=MONDAY_10 + dt.timedelta(minutes=10))

    retry = check_touches(customer).exclude(pk=sent.pk).get()
    assert (retry.status, retry.to_email) == (TouchStatus.SENT, second.email)


@pytest.mark.usefixtures("checking")
def test_an_invoice_answered_already_is_not_asked_about():
    customer = new_customer()
    answer(customer, customer.invoices.get(), CheckAnswer.ALL_IN_ORDER)

    dunning_run(as_of=MONDAY_10)

    assert not check_touches(customer).exists()


@pytest.mark.usefixtures("checking")
def test_no_check_once_the_invoice_is_due():
    customer = new_customer(issued_days_ago=30, due_in=0)

    dunning_run(as_of=MONDAY_10)

    assert not check_touches(customer).exists()


# --- answers -------------------------------------------------------------------------------


@pytest.mark.usefixtures("ladder")
def test_all_in_order_is_kept_as_a_written_acknowledgement_of_the_invoice():
    customer = new_customer()
    invoice = customer.invoices.get()

    recorded = answer(customer, invoice, CheckAnswer.ALL_IN_ORDER)

    acknowledgement = Acknowledgement.objects.get(customer=customer)
    assert list(acknowledgement.invoices.all()) == [invoice]
    assert acknowledgement.note == IN_ORDER_NOTE.format(number=invoice.number)
    assert acknowledgement.acknowledged_on == TODAY
    assert recorded.acknowledgement == acknowledgement and recorded.before_due
    event = AuditEvent.objects.get(action="dunning.check.answered")
    assert event.data["answer"] == "in_order" and event.data["via"] == "customer_page"
    assert event.actor_label == "customer page"


@pytest.mark.usefixtures("ladder")
def test_a_problem_opens_a_dispute_raised_via_the_check():
    customer = new_customer()
    invoice = customer.invoices.get()

    recorded = answer(
        customer, invoice, CheckAnswer.PROBLEM, reason=DisputeReason.QUANTITY, detail="3 not 5"
    )

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_DISPUTE
    assert recorded.dispute.raised_via == RaisedVia.CHECK
    assert recorded.dispute.detail == "3 not 5"
    assert not Acknowledgement.objects.filter(customer=customer).exists()


@pytest.mark.usefixtures("ladder")
def test_a_problem_without_a_reason_records_nothing():
    customer = new_customer()

    with pytest.raises(DunningError):
        answer(customer, customer.invoices.get(), CheckAnswer.PROBLEM)

    assert not SatisfactionAnswer.objects.exists()
    assert not AuditEvent.objects.filter(action="dunning.check.answered").exists()


@pytest.mark.usefixtures("ladder")
def test_the_first_answer_stands():
    customer = new_customer()
    invoice = customer.invoices.get()
    answer(customer, invoice, CheckAnswer.ALL_IN_ORDER)

    with pytest.raises(CheckAnswered) as refused:
        answer(customer, invoice, CheckAnswer.PROBLEM, reason=DisputeReason.PRICING)

    assert refused.value.answer.answer == CheckAnswer.ALL_IN_ORDER
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert SatisfactionAnswer.objects.count() == 1


@pytest.mark.usefixtures("ladder")
def test_another_customers_invoice_cannot_be_answered():
    customer, other = new_customer(), new_customer()

    with pytest.raises(DunningError):
        answer(customer, other.invoices.get(), CheckAnswer.ALL_IN_ORDER)

    assert not SatisfactionAnswer.objects.exists()


@pytest.mark.usefixtures("ladder")
def test_an_answer_after_the_due_date_is_not_counted_as_before_it():
    customer = new_customer(issued_days_ago=40, due_in=-2)

    recorded = answer(customer, customer.invoices.get(), CheckAnswer.ALL_IN_ORDER)

    assert not recorded.before_due


# --- the limitation clock ------------------------------------------------------------------


@pytest.mark.usefixtures("ladder")
def test_all_in_order_before_the_due_date_leaves_the_clock_running_from_the_due_date():
    customer = new_customer()
    invoice = customer.invoices.get()
    answer(customer, invoice, CheckAnswer.ALL_IN_ORDER)

    clock = limitation_state(
        customer=customer, invoices=[invoice], today=TODAY + dt.timedelta(days=40)
    ).clock(invoice.number)

    assert clock.since == DUE_DATE
    assert clock.runs_from == invoice.due_date
    assert clock.last_day == invoice.due_date.replace(year=invoice.due_date.year + 6)


@pytest.mark.usefixtures("ladder")
def test_all_in_order_after_the_due_date_restarts_the_clock_where_the_law_says_so():
    customer = new_customer(issued_days_ago=40, due_in=-10)
    invoice = customer.invoices.get()
    answer(customer, invoice, CheckAnswer.ALL_IN_ORDER)

    clock = limitation_state(customer=customer, invoices=[invoice], today=TODAY).clock(
        invoice.number
    )

    assert (clock.since, clock.runs_from) == (ACKNOWLEDGEMENT, TODAY)


# --- the policy editor ---------------------------------------------------------------------


def step_form(**overrides):
    data = {**check_step(position=8), **overrides}
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    return StepForm(data)


@pytest.mark.usefixtures("ladder")
def test_the_editor_takes_a_check_by_email_with_a_template_and_a_positive_offset():
    form = step_form()

    assert form.is_valid(), form.errors
    assert form.cleaned_data["kind"] == StepKind.CHECK


@pytest.mark.usefixtures("ladder")
@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"channel": "letter", "response_deadline_days": 14}, "channel", "goes by email"),
        ({"template": ""}, "template", "need a template"),
        ({"offset_days": 0}, "offset_days", "days after the issue date"),
    ],
)
def test_the_editor_refuses_a_check_that_could_not_ask(overrides, field, words):
    form = step_form(**overrides)

    assert not form.is_valid()
    assert words in " ".join(form.errors[field])


def test_a_check_stands_outside_the_ladders_order_of_offsets_and_only_one_is_allowed(ladder):  # noqa: F811
    steps = version_steps(ladder.current_version)
    # 5 days after issue, placed before the steps counted from the due date.
    steps = [check_step(position=1)] + [{**s, "position": s["position"] + 1} for s in steps]

    version = policy_save_version(actor=None, policy=ladder, steps=steps, note="Check first")

    assert version.steps.get(position=1).kind == StepKind.CHECK
    twice = [*steps, check_step(position=len(steps) + 1, name="Second check")]
    with pytest.raises(PolicyError, match="at most one satisfaction check"):
        policy_save_version(actor=None, policy=ladder, steps=twice, note="Two checks")


@pytest.mark.usefixtures("checking")
def test_the_template_screens_say_the_check_counts_from_the_issue_date():
    [use] = [u for u in template_uses_answer(sender=None) if u.template == "satisfaction_check"]

    assert use.when == "5 days after the issue date"
