"""An admin edits a ladder in the policy editor: every problem shows in one round, each one
leads to its field, templates are chosen by name, and the table fits a laptop and a tablet."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import ADMIN
from dunning.models import Policy

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def editor(live_server, browser_page, django_user_model):
    admin = django_user_model.objects.create_user(username="ada", password="pw-ada-123")
    admin.groups.add(Group.objects.get(name=ADMIN))
    page = browser_page
    page.goto(f"{live_server.url}{reverse('login')}")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("pw-ada-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    standard = Policy.objects.get(name="Standard")
    page.goto(f"{live_server.url}{reverse('dunning:policy_edit', args=[standard.pk])}")
    return page, standard


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 768])
def test_the_step_table_scrolls_by_itself_and_the_page_does_not(editor, artifacts, width):
    page, _standard = editor

    page.set_viewport_size({"width": width, "height": 900})

    page.screenshot(path=artifacts / f"policy-editor-{width}.png", full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


@pytest.mark.django_db(transaction=True)
def test_an_admin_sees_every_problem_at_once_and_fixes_them_in_one_go(editor, artifacts):
    page, standard = editor

    page.get_by_label("Template of step 2").select_option(label="None")
    page.get_by_label("Offset (days) of step 4").fill("2")
    page.get_by_label("Deadline (days) of step 6").fill("")
    page.get_by_role("button", name="Save as a new version").click()

    summary = page.get_by_role("alert").filter(has_text="Nothing was saved")
    summary.wait_for()
    page.screenshot(path=artifacts / "policy-editor-problems.png", full_page=True)
    assert summary.get_by_role("listitem").count() == 3
    summary.get_by_role("link", name="Step 2, Template").click()
    assert page.evaluate("() => document.activeElement.id") == "id_steps-1-template"
    assert standard.versions.count() == 1

    page.get_by_label("Template of step 2").select_option(label="Friendly reminder (email)")
    page.get_by_label("Offset (days) of step 4").fill("15")
    page.get_by_label("Deadline (days) of step 6").fill("10")
    page.get_by_role("button", name="Save as a new version").click()

    page.get_by_text(f"Saved as {standard.name} v2.").wait_for()
    assert standard.current_version.steps.get(position=6).response_deadline_days == 10
