"""Control of the ladder against the database: moving a customer to a step, a policy's
repeating last reminder, and the rules that choose a customer's policy."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from dunning.court import policy_regime
from dunning.exceptions import DunningError
from dunning.models import (
    Chase,
    ChaseStatus,
    CustomerPolicy,
    Policy,
    PolicyRule,
    QueueEntry,
    Touch,
    TouchStatus,
)
from dunning.moves import chase_move
from dunning.planning import dunning_run
from dunning.policy_services import policy_copy
from dunning.rules import policy_for, policy_rule_delete, policy_rule_save
from dunning.selectors import Steps, facts_load
from dunning.services import dunning_cycle
from dunning.views import _policy_customers, plans_for
from invoices.tests.factories import CustomerFactory, InvoiceFactory

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def _other_policy(name="Gentle") -> Policy:
    return policy_copy(actor=None, name=name, source=Policy.objects.get(is_default=True))


# Moving to a step


def test_moving_opens_a_new_chase_at_the_step_and_closes_the_old_one(admin_user):
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    old = Chase.objects.get(customer=customer)

    chase = chase_move(
        actor=admin_user, customer=customer, position=5, reason="no reply", at=MONDAY_10
    )

    old.refresh_from_db()
    assert old.status == ChaseStatus.CLOSED
    assert "moved to step 5 (Phone call)" in old.close_reason
    assert (chase.cycle, chase.start_position, chase.move_reason) == (2, 5, "no reply")
    assert chase.moved_by == admin_user


def test_a_move_is_audited_with_the_steps_it_went_from_and_to(admin_user):
    customer = overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)

    chase_move(actor=admin_user, customer=customer, position=6, reason="ignored us", at=MONDAY_10)

    event = AuditEvent.objects.get(action="dunning.chase.moved_to_step", customer_id=customer.pk)
    assert event.data["from_step"] == "Friendly reminder"
    assert event.data["to_step"] == "Final demand"
    assert "ignored us" in event.summary


def test_a_move_needs_a_reason(admin_user):
    customer = overdue_customer(days=3)

    with pytest.raises(DunningError):
        chase_move(actor=admin_user, customer=customer, position=5, reason="  ", at=MONDAY_10)

    assert not Chase.objects.filter(customer=customer).exists()


def test_a_move_re_plans_the_queue_row_at_once(admin_user):
    customer = overdue_customer(days=3)

    chase_move(actor=admin_user, customer=customer, position=5, reason="call", at=MONDAY_10)

    assert "Phone call" in QueueEntry.objects.get(customer=customer).next_step


def test_the_moved_step_goes_at_once_and_a_rerun_sends_nothing_more(admin_user):
    customer = overdue_customer(days=3)
    chase_move(actor=admin_user, customer=customer, position=4, reason="final try", at=MONDAY_10)

    dunning_cycle(as_of=MONDAY_10)
    dunning_cycle(as_of=MONDAY_10 + dt.timedelta(minutes=15))

    assert len(mail.outbox) == 1
    touch = Touch.objects.get(customer=customer)
    assert touch.step.name == "Firm reminder"
    assert touch.status == TouchStatus.SENT
    assert "Moved to step 4 (Firm reminder)" in touch.reason


def test_the_engine_explains_who_moved_the_customer(admin_user):
    admin_user.first_name, admin_user.last_name = "Ada", "Admin"
    admin_user.save()
    customer = overdue_customer(days=3)
    chase_move(actor=admin_user, customer=customer, position=5, reason="no reply", at=MONDAY_10)

    entry = QueueEntry.objects.get(customer=customer)

    assert (
        "Moved to step 5 (Phone call) by Ada Admin on 16 Mar 2026: no reply." in entry.next_reason
    )


# Repeating the last reminder


def _finished_ladder(customer, *, policy: Policy, at: dt.datetime):
    """Every step of the policy's ladder done in an active chase, the last letter at `at`."""
    version = policy.current_version
    chase = Chase.objects.create(
        customer=customer, cycle=1, policy_version=version, status=ChaseStatus.ACTIVE, started_at=at
    )
    for step in version.steps.all():
        Touch.objects.create(
            key=f"{customer.pk}:1:{step.position}",
            customer=customer,
            chase=chase,
            step=step,
            channel=step.channel,
            status=TouchStatus.DONE if step.channel != "letter" else TouchStatus.SENT,
            scheduled_for=at,
            sent_at=at,
            total=Decimal("2000"),
            currency=customer.currency,
        )
    return chase


def test_the_last_letter_repeats_after_the_policys_days_once_per_rerun():
    policy = Policy.objects.get(is_default=True)
    Policy.objects.filter(pk=policy.pk).update(repeat_every_days=14)
    customer = overdue_customer(days=90, amount=Decimal("2000"))
    _finished_ladder(customer, policy=policy, at=MONDAY_10 - dt.timedelta(days=14))

    dunning_run(as_of=MONDAY_10)
    dunning_run(as_of=MONDAY_10 + dt.timedelta(minutes=15))

    repeat = Touch.objects.get(customer=customer, key__endswith=":r1")
    assert repeat.step.name == "Final demand"
    assert repeat.reason.startswith("Repeat 1:")
    assert Touch.objects.filter(customer=customer).count() == 8


def test_the_repeat_does_not_go_before_its_days():
    policy = Policy.objects.get(is_default=True)
    Policy.objects.filter(pk=policy.pk).update(repeat_every_days=14)
    customer = overdue_customer(days=90, amount=Decimal("2000"))
    _finished_ladder(customer, policy=policy, at=MONDAY_10 - dt.timedelta(days=10))

    dunning_run(as_of=MONDAY_10)

    assert not Touch.objects.filter(customer=customer, key__contains=":r").exists()
    (planned,) = plans_for([customer.pk], as_of=MONDAY_10)
    assert "Repeats every 14 days until paid: next on 20 Mar 2026." in planned.plan.explanation


def test_the_second_repeat_counts_from_the_first():
    policy = Policy.objects.get(is_default=True)
    Policy.objects.filter(pk=policy.pk).update(repeat_every_days=7)
    customer = overdue_customer(days=90, amount=Decimal("2000"))
    _finished_ladder(customer, policy=policy, at=MONDAY_10 - dt.timedelta(days=14))
    dunning_run(as_of=MONDAY_10 - dt.timedelta(days=7))

    dunning_run(as_of=MONDAY_10)

    keys = set(Touch.objects.filter(customer=customer).values_list("key", flat=True))
    assert {f"{customer.pk}:1:6:r1", f"{customer.pk}:1:6:r2"} <= keys


# Which policy: chosen, by rule, or the default


def test_a_rule_gives_matching_customers_its_policy(admin_user):
    gentle = _other_policy()
    policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="consumer",
        country="gb",
        min_balance=None,
        policy=gentle,
    )
    consumer = CustomerFactory(debtor_type="consumer", country="GB")
    business = CustomerFactory(debtor_type="business", country="GB")

    assert policy_for(consumer) == (gentle, "by rule 1: consumers in GB")
    assert policy_for(business)[1] == "the default policy"


def test_a_policy_chosen_for_the_customer_beats_every_rule(admin_user):
    gentle, firm = _other_policy(), _other_policy("Firm")
    policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="",
        country="",
        min_balance=None,
        policy=gentle,
    )
    customer = CustomerFactory()
    CustomerPolicy.objects.create(customer=customer, policy=firm)

    assert policy_for(customer) == (firm, "chosen for this customer")


def test_a_balance_rule_holds_only_from_its_least_balance(admin_user):
    big = _other_policy("Big debts")
    policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="",
        country="",
        min_balance=Decimal("1000"),
        policy=big,
    )
    small = overdue_customer(days=3, amount=Decimal("999.99"))
    large = overdue_customer(days=3, amount=Decimal("1000"))

    loaded = {
        item.customer.id: item.customer.version_id
        for item in facts_load([small.pk, large.pk], as_of=MONDAY_10, steps=Steps())
    }

    assert loaded[large.pk] == big.current_version.pk
    assert loaded[small.pk] != big.current_version.pk


def test_rules_are_tried_in_position_order_and_a_taken_position_moves_the_other_down(
    admin_user,
):
    first, second = _other_policy("First"), _other_policy("Second")
    kept = policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="",
        country="",
        min_balance=None,
        policy=second,
    )
    policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="",
        country="",
        min_balance=None,
        policy=first,
    )

    kept.refresh_from_db()
    assert kept.position == 2
    assert policy_for(CustomerFactory())[0] == first


def test_rule_changes_are_audited(admin_user):
    rule = policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="consumer",
        country="",
        min_balance=None,
        policy=_other_policy(),
    )
    policy_rule_delete(actor=admin_user, rule=rule)

    assert AuditEvent.objects.filter(action="dunning.policy_rule.saved").count() == 1
    assert AuditEvent.objects.filter(action="dunning.policy_rule.deleted").count() == 1
    assert not PolicyRule.objects.exists()


def test_the_bulk_loader_costs_the_same_queries_with_rules_for_5_or_50_customers(admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="consumer",
        country="",
        min_balance=Decimal("10"),
        policy=_other_policy(),
    )
    few = [overdue_customer(days=3, debtor_type="consumer").pk for _ in range(5)]
    many = [overdue_customer(days=3).pk for _ in range(50)]
    steps = Steps()
    steps.facts_of(Policy.objects.get(is_default=True).current_version.pk)

    with CaptureQueriesContext(connection) as small:
        facts_load(few, as_of=MONDAY_10, steps=steps)
    with CaptureQueriesContext(connection) as large:
        facts_load(few + many, as_of=MONDAY_10, steps=steps)

    assert len(large) <= len(small) + 1  # the rule's policy's steps, loaded once


# The screens


def test_the_customer_page_says_which_policy_applies_and_why(admin_client_, admin_user):
    policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="consumer",
        country="GB",
        min_balance=None,
        policy=_other_policy(),
    )
    customer = CustomerFactory(debtor_type="consumer", country="GB")
    InvoiceFactory(customer=customer)

    page = admin_client_.get(reverse("customer_detail", args=[customer.pk])).content.decode()

    assert "Gentle" in page
    assert "by rule 1: consumers in GB" in page


def test_only_admins_change_the_rules(manager_client):
    response = manager_client.post(
        reverse("dunning:policy_rules"),
        {"position": "1", "policy": Policy.objects.get(is_default=True).pk},
    )

    assert response.status_code == 403
    assert not PolicyRule.objects.exists()


def test_an_admin_adds_a_rule_on_the_rules_screen(admin_client_):
    response = admin_client_.post(
        reverse("dunning:policy_rules"),
        {
            "position": "1",
            "debtor_type": "consumer",
            "country": "gb",
            "policy": _other_policy().pk,
        },
    )

    assert response.status_code == 302
    rule = PolicyRule.objects.get()
    assert (rule.debtor_type, rule.country) == ("consumer", "GB")
    page = admin_client_.get(reverse("dunning:policy_rules")).content.decode()
    assert "consumers in GB" in page


def test_a_bad_country_is_a_form_error_and_saves_nothing(admin_client_):
    response = admin_client_.post(
        reverse("dunning:policy_rules"),
        {"position": "1", "country": "Britain", "policy": _other_policy().pk},
    )

    assert response.status_code == 200
    assert "two-letter ISO country code" in response.content.decode()
    assert not PolicyRule.objects.exists()


def test_the_move_action_moves_the_customer_from_their_page(admin_client_):
    customer = overdue_customer(days=3)

    response = admin_client_.post(
        reverse("customer_move", args=[customer.pk]), {"position": "5", "reason": "no reply"}
    )

    assert response.status_code == 302
    chase = Chase.objects.get(customer=customer, status=ChaseStatus.ACTIVE)
    assert (chase.start_position, chase.move_reason) == (5, "no reply")


def test_the_move_action_without_a_reason_changes_nothing(admin_client_):
    customer = overdue_customer(days=3)

    response = admin_client_.post(
        reverse("customer_move", args=[customer.pk]), {"position": "5", "reason": ""}
    )

    assert response.status_code == 200
    assert not Chase.objects.filter(customer=customer).exists()


def test_an_admin_sets_a_policys_repeat(admin_client_):
    policy = Policy.objects.get(is_default=True)

    admin_client_.post(
        reverse("dunning:policy_repeat", args=[policy.pk]), {"repeat_every_days": "10"}
    )

    policy.refresh_from_db()
    assert policy.repeat_every_days == 10
    assert AuditEvent.objects.filter(action="dunning.policy.repeat_set").exists()


def test_the_interest_law_and_the_policy_page_follow_the_rules(admin_user, admin_client_):
    german = _other_policy("German customers")
    german.interest_regime = "DE"
    german.save(update_fields=["interest_regime"])
    policy_rule_save(
        actor=admin_user,
        rule=None,
        position=1,
        debtor_type="",
        country="DE",
        min_balance=None,
        policy=german,
    )
    berlin = CustomerFactory(country="DE", currency="EUR", timezone="Europe/Berlin")
    CustomerFactory(country="GB")

    assert policy_regime(berlin) == "DE"
    assert list(_policy_customers(german)) == [berlin]
