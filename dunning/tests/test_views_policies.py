import pytest
from django.urls import reverse

from audit.models import AuditEvent
from dunning.models import DunningSettings, Policy
from dunning.policy_services import version_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard():
    return Policy.objects.get(name="Standard")


def step_post(steps, *, extra_blank=True, **top):
    """The edit page's formset as the browser would post it."""
    data = {"steps-TOTAL_FORMS": len(steps) + extra_blank, "steps-INITIAL_FORMS": len(steps)}
    for i, step in enumerate(steps):
        for name, value in step.items():
            if isinstance(value, bool):
                if value:
                    data[f"steps-{i}-{name}"] = "on"
            elif value is not None:
                data[f"steps-{i}-{name}"] = value
    if extra_blank:
        # The browser sends the blank row's initial values; unchanged, it is ignored.
        data[f"steps-{len(steps)}-min_balance"] = "0"
        data[f"steps-{len(steps)}-business_days_only"] = "on"
        data[f"steps-{len(steps)}-channel"] = "email"
    data.update(top)
    return data


def test_the_policy_list_marks_the_default_and_its_version(admin_client_, standard):
    response = admin_client_.get(reverse("dunning:policy_list"))

    assert response.status_code == 200
    assert b"Standard" in response.content
    assert b"Default" in response.content
    assert b"v1" in response.content


def test_a_collector_cannot_open_the_policies(collector_client):
    assert collector_client.get(reverse("dunning:policy_list")).status_code == 403


def test_a_manager_cannot_edit_a_policy(manager_client, standard):
    url = reverse("dunning:policy_edit", args=[standard.pk])

    assert manager_client.get(url).status_code == 403


def test_the_edit_form_starts_from_the_current_steps(admin_client_, standard):
    response = admin_client_.get(reverse("dunning:policy_edit", args=[standard.pk]))

    assert response.context["formset"].initial == version_steps(standard.current_version)


def test_saving_an_edit_creates_version_two(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[2]["offset_days"] = 8

    response = admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps, note="Gentler")
    )

    assert response.status_code == 302
    version = standard.current_version
    assert (version.number, version.note) == (2, "Gentler")
    assert version.steps.get(position=3).offset_days == 8


def test_a_decreasing_offset_is_shown_as_a_form_error(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[2]["offset_days"] = -10

    response = admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps)
    )

    assert response.status_code == 200
    assert "may not go down" in " ".join(response.context["formset"].non_form_errors())
    assert standard.versions.count() == 1


def test_a_letter_without_a_deadline_is_shown_as_a_form_error(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[5]["response_deadline_days"] = None

    response = admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps)
    )

    assert "response deadline" in " ".join(response.context["formset"].non_form_errors())


def test_duplicate_positions_are_shown_as_a_form_error(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[1]["position"] = 1

    response = admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps)
    )

    assert "its own position" in " ".join(response.context["formset"].non_form_errors())


def test_a_deleted_step_leaves_the_new_version(admin_client_, standard):
    steps = version_steps(standard.current_version)
    data = step_post(steps)
    data["steps-6-DELETE"] = "on"

    admin_client_.post(reverse("dunning:policy_edit", args=[standard.pk]), data)

    assert standard.current_version.steps.count() == 6


def test_the_blank_extra_row_adds_a_step_when_filled(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps.append(
        {
            "position": 8,
            "name": "Agency",
            "offset_days": 90,
            "channel": "task",
            "template": "agency",
            "min_balance": "0",
        }
    )

    admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps, extra_blank=False)
    )

    assert standard.current_version.steps.get(position=8).name == "Agency"


def test_a_new_policy_is_a_copy(admin_client_, standard):
    response = admin_client_.post(
        reverse("dunning:policy_list"), {"name": "Gentle", "source": standard.pk}
    )

    gentle = Policy.objects.get(name="Gentle")
    assert response.url == reverse("dunning:policy_detail", args=[gentle.pk])
    assert gentle.current_version.steps.count() == standard.current_version.steps.count()


def test_a_duplicate_policy_name_is_a_form_error(admin_client_, standard):
    response = admin_client_.post(
        reverse("dunning:policy_list"), {"name": "standard", "source": standard.pk}
    )

    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors)


def test_the_move_page_previews_and_the_confirm_moves(admin_client_, standard):
    url = reverse("dunning:policy_move", args=[standard.pk])

    assert admin_client_.get(url).status_code == 200
    assert admin_client_.post(url).status_code == 302


# --- settings -------------------------------------------------------------------------------


def settings_post(**changes):
    data = {
        "window_start": "09:00",
        "window_end": "17:00",
        "phone_start": "08:00",
        "phone_end": "21:00",
        "business_days": ["0", "1", "2", "3", "4"],
        "holiday_country": "GB",
        "holiday_subdivision": "ENG",
        "min_interval_days": 3,
        "promise_grace_days": 3,
        "plan_grace_days": 3,
        "schedule_minutes": 15,
    }
    data.update(changes)
    return data


def test_dunning_settings_are_saved_and_audited(admin_client_):
    response = admin_client_.post(
        reverse("dunning:settings"),
        settings_post(business_days=["0", "1", "2", "3", "4", "5"], min_interval_days=5),
    )

    assert response.status_code == 302
    row = DunningSettings.current()
    assert (row.business_days, row.min_interval_days) == ("0,1,2,3,4,5", 5)
    event = AuditEvent.objects.get(action="dunning.settings.updated")
    assert event.data["changes"]["min_interval_days"] == [3, 5]


def test_a_sending_window_that_ends_before_it_starts_is_refused(admin_client_):
    response = admin_client_.post(
        reverse("dunning:settings"), settings_post(window_start="17:00", window_end="09:00")
    )

    assert response.status_code == 200
    assert "must end after it starts" in str(response.context["form"].errors["window_end"])


def test_an_unknown_holiday_country_is_refused(admin_client_):
    response = admin_client_.post(
        reverse("dunning:settings"), settings_post(holiday_country="XX", holiday_subdivision="")
    )

    assert "holiday_country" in response.context["form"].errors


def test_an_unknown_holiday_region_is_refused(admin_client_):
    response = admin_client_.post(
        reverse("dunning:settings"), settings_post(holiday_subdivision="ZZZ")
    )

    assert "no region ZZZ" in str(response.context["form"].errors["holiday_subdivision"])


def test_no_business_day_is_refused(admin_client_):
    response = admin_client_.post(reverse("dunning:settings"), settings_post(business_days=[]))

    assert "business_days" in response.context["form"].errors


def test_a_manager_cannot_change_dunning_settings(manager_client):
    assert manager_client.get(reverse("dunning:settings")).status_code == 403
