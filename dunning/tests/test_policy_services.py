import pytest
from django.utils import timezone

from audit.models import AuditEvent
from dunning.models import Chase, Policy, Touch
from dunning.policy_services import (
    PolicyError,
    chases_move_to_version,
    policy_copy,
    policy_save_version,
    policy_set_default,
    policy_version_diff,
    steps_problems,
    template_catalogue,
    version_steps,
)
from invoices.tests.factories import CustomerFactory
from letters.models import Template

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard():
    return Policy.objects.get(name="Standard")


def edited(policy, index, **changes):
    steps = version_steps(policy.current_version)
    steps[index - 1].update(changes)
    return steps


def chase_on(policy, *, done=(), customer=None):
    version = policy.current_version
    chase = Chase.objects.create(
        customer=customer or CustomerFactory(),
        cycle=1,
        policy_version=version,
        started_at=timezone.now(),
    )
    for position in done:
        Touch.objects.create(
            key=f"{chase.pk}-{position}",
            customer=chase.customer,
            chase=chase,
            step=version.steps.get(position=position),
            channel="email",
            status="sent",
            scheduled_for=timezone.now(),
            currency="GBP",
        )
    return chase


def test_each_save_with_changes_creates_the_next_version(admin_user, standard):
    policy_save_version(actor=admin_user, policy=standard, steps=edited(standard, 3, offset_days=8))
    policy_save_version(actor=admin_user, policy=standard, steps=edited(standard, 3, offset_days=9))

    assert list(standard.versions.values_list("number", flat=True)) == [3, 2, 1]
    assert standard.current_version.steps.get(position=3).offset_days == 9


def test_a_saved_version_keeps_its_steps(admin_user, standard):
    first = standard.current_version

    policy_save_version(actor=admin_user, policy=standard, steps=edited(standard, 2, name="Hello"))

    assert first.steps.get(position=2).name == "Friendly reminder"


def test_saving_the_same_steps_makes_no_version(admin_user, standard):
    result = policy_save_version(
        actor=admin_user, policy=standard, steps=version_steps(standard.current_version)
    )

    assert result is None
    assert standard.versions.count() == 1


def test_a_new_version_is_audited_with_the_steps_before_and_after(admin_user, standard):
    policy_save_version(actor=admin_user, policy=standard, steps=edited(standard, 3, offset_days=8))

    event = AuditEvent.objects.get(action="dunning.policy.versioned")
    assert event.data["before"][2]["offset_days"] == 7
    assert event.data["after"][2]["offset_days"] == 8


def test_offsets_going_down_the_ladder_are_refused(admin_user, standard):
    with pytest.raises(PolicyError, match="may not go down"):
        policy_save_version(
            actor=admin_user, policy=standard, steps=edited(standard, 3, offset_days=0)
        )


def test_positions_with_a_gap_are_refused(admin_user, standard):
    with pytest.raises(PolicyError, match="without gaps"):
        policy_save_version(
            actor=admin_user, policy=standard, steps=edited(standard, 7, position=9)
        )


def test_a_letter_without_a_deadline_is_refused(admin_user, standard):
    with pytest.raises(PolicyError, match="response deadline"):
        policy_save_version(
            actor=admin_user,
            policy=standard,
            steps=edited(standard, 6, response_deadline_days=None),
        )


def test_a_step_naming_no_template_is_refused_and_nothing_is_saved(admin_user, standard):
    with pytest.raises(PolicyError, match="There is no template no_such_template"):
        policy_save_version(
            actor=admin_user,
            policy=standard,
            steps=edited(standard, 2, template="no_such_template"),
        )

    assert standard.versions.count() == 1
    assert not AuditEvent.objects.filter(action="dunning.policy.versioned").exists()


def test_a_letter_step_naming_a_template_without_a_letter_is_refused(admin_user, standard):
    with pytest.raises(PolicyError, match=r"Step 6 \(Final demand\): Firm reminder has no letter"):
        policy_save_version(
            actor=admin_user, policy=standard, steps=edited(standard, 6, template="firm_reminder")
        )


def test_an_email_step_may_not_name_a_call_script_not_written_yet(admin_user, standard):
    with pytest.raises(PolicyError, match="phone_call is not written yet: email steps need"):
        policy_save_version(
            actor=admin_user, policy=standard, steps=edited(standard, 2, template="phone_call")
        )


def test_a_phone_step_may_use_the_built_in_call_script(admin_user, standard):
    version = policy_save_version(
        actor=admin_user, policy=standard, steps=edited(standard, 5, template="")
    )

    assert version.steps.get(position=5).template == ""


def test_every_ladder_problem_is_reported_at_once():
    steps = [
        {"position": 1, "name": "Reminder", "offset_days": 5, "channel": "email"},
        {"position": 1, "name": "reminder", "offset_days": 2, "channel": "email"},
        {
            "position": 3,
            "name": "Demand",
            "offset_days": 40,
            "channel": "letter",
            "response_deadline_days": None,
        },
    ]

    problems = steps_problems(steps)

    assert len(problems) == 4, problems
    assert "1 is used more than once" in problems[0]
    assert "2 steps are called Reminder" in problems[1]
    assert "may not go down" in problems[2]
    assert "give it a response deadline" in problems[3]


def test_a_step_missing_a_field_is_not_judged_on_it():
    steps = [
        {"position": 1, "name": "Reminder", "offset_days": 5, "channel": "email"},
        {"position": 2, "name": "Demand", "channel": "letter"},
    ]

    assert steps_problems(steps) == []


def test_the_catalogue_lists_a_policys_templates_first_then_the_shipped_ladder_then_by_name():
    Template.objects.create(key="agency", language="en", name="Agency notice")
    Template.objects.create(key="apology", language="en", name="Apology")

    catalogue = template_catalogue(["final_demand", "apology"])

    assert [option.key for option in catalogue.options] == [
        "final_demand",
        "apology",
        "courtesy_reminder",
        "friendly_reminder",
        "second_reminder",
        "firm_reminder",
        "letter_of_claim",
        "satisfaction_check",
        "agency",
    ]
    assert catalogue.get("final_demand").letter
    assert not catalogue.get("firm_reminder").letter


def test_a_chase_stays_on_its_version_after_an_edit(admin_user, standard):
    chase = chase_on(standard)

    policy_save_version(actor=admin_user, policy=standard, steps=edited(standard, 3, offset_days=8))

    chase.refresh_from_db()
    assert chase.policy_version.number == 1


def test_moving_puts_active_chases_on_the_current_version(admin_user, standard):
    chase = chase_on(standard)
    policy_save_version(actor=admin_user, policy=standard, steps=edited(standard, 3, offset_days=8))

    moved = chases_move_to_version(actor=admin_user, policy=standard)

    chase.refresh_from_db()
    assert (moved, chase.policy_version.number) == (1, 2)
    assert AuditEvent.objects.filter(
        action="dunning.chase.moved", customer_id=chase.customer_id
    ).exists()


def test_the_move_preview_lists_changed_steps_and_each_chase_next_step(admin_user, standard):
    chase_on(standard, done=[1, 2])
    steps = edited(standard, 3, offset_days=10, name="Gentle nudge")

    policy_save_version(actor=admin_user, policy=standard, steps=steps)
    diff = policy_version_diff(policy=standard)

    assert [(c.position, c.kind, c.fields) for c in diff.steps] == [
        (3, "changed", ["name", "offset_days"])
    ]
    [move] = diff.chases
    assert (move.next_before["name"], move.next_after["name"]) == (
        "Second reminder",
        "Gentle nudge",
    )


def test_the_move_preview_shows_removed_steps(admin_user, standard):
    chase_on(standard)
    steps = version_steps(standard.current_version)[:-1]

    policy_save_version(actor=admin_user, policy=standard, steps=steps)

    assert [(c.position, c.kind) for c in policy_version_diff(policy=standard).steps] == [
        (7, "removed")
    ]


def test_a_copied_policy_starts_at_version_one_with_the_same_steps(admin_user, standard):
    copy = policy_copy(actor=admin_user, source=standard, name="Gentle")

    assert copy.current_version.number == 1
    assert version_steps(copy.current_version) == version_steps(standard.current_version)


def test_setting_the_default_moves_the_mark(admin_user, standard):
    copy = policy_copy(actor=admin_user, source=standard, name="Gentle")

    policy_set_default(actor=admin_user, policy=copy)

    assert list(Policy.objects.filter(is_default=True)) == [copy]
