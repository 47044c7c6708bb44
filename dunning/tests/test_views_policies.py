from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from dunning.models import DunningSettings, Policy
from dunning.policy_services import policy_copy, policy_save_version, version_steps
from letters.models import Template, TemplateVersion

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
            "template": "",
            "min_balance": "0",
        }
    )

    admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps, extra_blank=False)
    )

    assert standard.current_version.steps.get(position=8).name == "Agency"


class Page(HTMLParser):
    """What a person (or a screen reader) reads of the editor: the steps table's headings,
    the controls in each cell, and the labels."""

    CONTROLS = ("input", "select", "textarea")

    def __init__(self, html: str):
        super().__init__()
        self.headings: list[str] = []
        self.rows: list[list[list[dict]]] = []  # rows of cells of controls
        self.controls: list[dict] = []
        self.labelled: set[str] = set()
        self._in_table = self._in_th = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "steps":
            self._in_table = True
        elif self._in_table and tag == "th":
            self._in_th = True
            self.headings.append("")
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag == "td":
            self.rows[-1].append([])
        if tag == "label" and attrs.get("for"):
            self.labelled.add(attrs["for"])
        if tag in self.CONTROLS:
            self.controls.append(attrs)
            if self._in_table and self.rows and self.rows[-1]:
                self.rows[-1][-1].append(attrs)

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag == "th":
            self._in_th = False

    def handle_data(self, data):
        if self._in_th:
            self.headings[-1] += data.strip()

    def heading_over(self, name: str) -> str:
        """The heading of the column whose cell holds the control with this name."""
        for row in self.rows:
            for index, cell in enumerate(row):
                if any(control.get("name") == name for control in cell):
                    return self.headings[index]
        raise AssertionError(f"no control named {name}")


def edit_page(client, policy) -> Page:
    return Page(client.get(reverse("dunning:policy_edit", args=[policy.pk])).content.decode())


def test_each_value_of_a_step_sits_under_its_own_heading(admin_client_, standard):
    page = edit_page(admin_client_, standard)

    assert page.heading_over("steps-5-response_deadline_days") == "Deadline (days)"
    assert page.heading_over("steps-5-attach_statement") == "Attach statement"
    assert page.heading_over("steps-5-template") == "Template"
    assert page.heading_over("steps-5-DELETE") == "Remove"
    for row in page.rows[1:]:
        assert len(row) == len(page.headings)


def test_the_final_demands_fourteen_days_show_under_deadline(admin_client_, standard):
    page = edit_page(admin_client_, standard)

    [deadline] = [c for c in page.controls if c.get("name") == "steps-5-response_deadline_days"]
    assert deadline["value"] == "14"
    assert page.heading_over(deadline["name"]) == "Deadline (days)"


def test_every_control_of_the_editor_has_a_label(admin_client_, standard):
    page = edit_page(admin_client_, standard)

    visible = [c for c in page.controls if c.get("type") != "hidden"]
    assert visible
    assert [c["name"] for c in visible if c.get("id") not in page.labelled] == []


def test_the_template_is_chosen_by_name_from_the_templates_in_ladder_order(admin_client_, standard):
    Template.objects.create(key="agency_notice", language="en", name="Agency notice")

    response = admin_client_.get(reverse("dunning:policy_edit", args=[standard.pk]))

    choices = response.context["formset"].forms[0].fields["template"].choices
    assert [label for _key, label in choices][:9] == [
        "None",
        "Courtesy reminder (email)",
        "Friendly reminder (email)",
        "Second reminder (email)",
        "Firm reminder (email)",
        "Final demand (email and letter)",
        "Letter of claim (email and letter)",
        "Satisfaction check (email)",
        "Agency notice (no text yet)",
    ]


def test_an_unknown_template_is_a_form_error_and_saves_nothing(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[1]["template"] = "no_such_template"

    response = admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps)
    )

    assert response.status_code == 200
    errors = response.context["formset"].forms[1].errors["template"]
    assert errors == [
        "There is no template no_such_template: choose one from the list, or create it under "
        "Templates first."
    ]
    assert standard.versions.count() == 1


def test_a_letter_step_needs_a_template_with_a_letter(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[5]["template"] = "friendly_reminder"

    response = admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps)
    )

    assert "Friendly reminder has no letter" in str(response.context["formset"].forms[5].errors)
    assert standard.versions.count() == 1


def test_an_email_step_needs_a_template(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[0]["template"] = ""

    response = admin_client_.post(
        reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps)
    )

    assert response.context["formset"].forms[0].errors["template"] == [
        "Email steps need a template: choose one."
    ]


def test_a_template_edited_to_have_a_letter_can_serve_a_letter_step(admin_client_, standard):
    reminder = Template.objects.get(key="second_reminder", language="en")
    latest = reminder.versions.order_by("-number").first()
    TemplateVersion.objects.create(
        template=reminder,
        number=latest.number + 1,
        subject=latest.subject,
        body_text=latest.body_text,
        body_html=latest.body_html,
        letter_html="<p>Please pay.</p>",
    )
    steps = version_steps(standard.current_version)
    steps[5]["template"] = "second_reminder"

    admin_client_.post(reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps))

    assert standard.current_version.steps.get(position=6).template == "second_reminder"


def test_an_edit_keeps_the_phone_steps_call_script_key(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[2]["offset_days"] = 8

    admin_client_.post(reverse("dunning:policy_edit", args=[standard.pk]), step_post(steps))

    version = standard.current_version
    assert version.number == 2
    assert version.steps.get(position=5).template == "phone_call"


def test_every_problem_shows_at_once_and_nothing_is_saved(admin_client_, standard):
    steps = version_steps(standard.current_version)
    steps[0]["template"] = "no_such_template"  # a row's field
    steps[1]["offset_days"] = "soon"  # another row's field
    steps[3]["offset_days"] = 2  # the ladder: goes down after step 3 at 7
    steps[4]["name"] = "Final demand"  # the ladder: the same step twice
    steps[5]["response_deadline_days"] = None  # the ladder: a letter without a deadline
    data = step_post(steps, note="x" * 201)  # the note
    events = AuditEvent.objects.count()

    response = admin_client_.post(reverse("dunning:policy_edit", args=[standard.pk]), data)

    assert response.status_code == 200
    shown = [problem.text for problem in response.context["problems"]]
    assert len(shown) == 6, shown
    text = response.content.decode()
    for expected in (
        "Step 1, Template: There is no template no_such_template",
        "Step 2, Offset (days): Enter a whole number.",
        "offsets may not go down along the ladder",
        "2 steps are called Final demand",
        "is a letter: give it a response deadline",
        "Ensure this value has at most 200 characters",
    ):
        assert expected in text
    assert "Nothing was saved: 6 problems to fix." in text
    assert standard.versions.count() == 1
    assert AuditEvent.objects.count() == events


def test_the_editor_costs_the_same_queries_however_many_steps(admin_client_, standard):
    longer = policy_copy(actor=None, source=standard, name="Longer")
    steps = version_steps(longer.current_version)
    for n in range(8, 21):
        steps.append({**steps[1], "position": n, "name": f"Reminder {n}", "offset_days": 60 + n})
    policy_save_version(actor=None, policy=longer, steps=steps)

    counts = []
    for policy in (standard, longer):
        with CaptureQueriesContext(connection) as queries:
            admin_client_.get(reverse("dunning:policy_edit", args=[policy.pk]))
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_the_policy_page_names_each_steps_template(admin_client_, standard):
    response = admin_client_.get(reverse("dunning:policy_detail", args=[standard.pk]))

    text = response.content.decode()
    assert "Final demand" in text
    assert "Built-in call script" in text
    assert "Cannot be sent" not in text


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
        "promise_max_days": 30,
        "plan_grace_days": 3,
        "schedule_minutes": 15,
        "creditor_role": "creditor",
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


def test_the_longest_promise_is_set_in_the_settings_and_must_be_a_day_at_least(admin_client_):
    admin_client_.post(reverse("dunning:settings"), settings_post(promise_max_days=45))
    refused = admin_client_.post(reverse("dunning:settings"), settings_post(promise_max_days=0))

    assert DunningSettings.current().promise_max_days == 45
    assert "promise_max_days" in refused.context["form"].errors


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


# --- whom a policy's statutory interest reaches ----------------------------------------------


def _said(response) -> str:
    """The page as a reader sees it: entities decoded, whitespace collapsed."""
    import html

    return " ".join(html.unescape(response.content.decode()).split())


def _customers_of_every_kind():
    """Five customers following the default policy: two the UK Act can charge (a business and
    a sole trader billed in GBP), two consumers and a business billed in euros."""
    from invoices.models import DebtorType
    from invoices.tests.factories import CustomerFactory

    CustomerFactory(debtor_type=DebtorType.BUSINESS)
    CustomerFactory(debtor_type=DebtorType.SOLE_TRADER)
    CustomerFactory(debtor_type=DebtorType.CONSUMER)
    CustomerFactory(debtor_type=DebtorType.CONSUMER, currency="EUR", country="DE")
    CustomerFactory(debtor_type=DebtorType.BUSINESS, currency="EUR", country="FR")


def test_the_policy_page_says_to_whom_its_statutory_interest_applies_and_who_is_left_out(
    admin_client_, standard
):
    _customers_of_every_kind()
    Policy.objects.filter(pk=standard.pk).update(interest_regime="uk")

    page = admin_client_.get(reverse("dunning:policy_detail", args=[standard.pk]))

    text = _said(page)
    assert "Claimed only from business and sole-trader customers billed in GBP." in text
    assert (
        "It will not apply to 3 of this policy's 5 customers: 2 consumers and 1 billed in EUR."
        in text
    )


def test_setting_a_regime_says_whom_it_leaves_out(admin_client_, standard):
    _customers_of_every_kind()

    response = admin_client_.post(
        reverse("dunning:policy_interest", args=[standard.pk]),
        {"interest_regime": "de"},
        follow=True,
    )

    text = _said(response)
    assert "Claimed only from business and sole-trader customers billed in EUR." in text
    # The two consumers, and the two businesses billed in pounds.
    assert (
        "It will not apply to 4 of this policy's 5 customers: 2 consumers and 2 billed in GBP."
        in text
    )
    event = AuditEvent.objects.get(action="dunning.policy.interest_set")
    assert event.data["applies_to"].endswith("billed in EUR.")


def test_a_policy_of_its_own_counts_only_the_customers_assigned_to_it(admin_client_, standard):
    from dunning.models import CustomerPolicy
    from invoices.models import DebtorType
    from invoices.tests.factories import CustomerFactory

    _customers_of_every_kind()
    own = policy_copy(actor=None, source=standard, name="Consumers")
    Policy.objects.filter(pk=own.pk).update(interest_regime="uk")
    CustomerPolicy.objects.create(
        customer=CustomerFactory(debtor_type=DebtorType.CONSUMER), policy=own
    )

    page = admin_client_.get(reverse("dunning:policy_detail", args=[own.pk]))

    assert "It will not apply to 1 of this policy's 1 customer: 1 consumer." in _said(page)


def test_customers_left_out_who_accepted_terms_with_charges_are_named(admin_client_, standard):
    import datetime as dt
    from decimal import Decimal

    from invoices.tests.factories import CustomerFactory

    CustomerFactory()
    CustomerFactory(
        currency="USD",
        country="US",
        terms_accepted_on=dt.date(2024, 1, 5),
        late_fee=Decimal("25.00"),
    )
    Policy.objects.filter(pk=standard.pk).update(interest_regime="uk")

    with_regime = _said(admin_client_.get(reverse("dunning:policy_detail", args=[standard.pk])))
    Policy.objects.filter(pk=standard.pk).update(interest_regime="")
    without = _said(admin_client_.get(reverse("dunning:policy_detail", args=[standard.pk])))

    assert "1 billed in USD. 1 of them accepted terms with late-payment charges" in with_regime
    assert "No statutory interest is claimed." in without
    assert "1 of its 2 customers accepted terms with late-payment charges" in without


def test_the_policy_page_costs_the_same_queries_however_many_customers(admin_client_, standard):
    from invoices.tests.factories import CustomerFactory

    Policy.objects.filter(pk=standard.pk).update(interest_regime="uk")
    url = reverse("dunning:policy_detail", args=[standard.pk])
    counts = []
    for currency in ("GBP", "EUR"):
        for _ in range(5):
            CustomerFactory(currency=currency)
        with CaptureQueriesContext(connection) as queries:
            admin_client_.get(url)
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_an_unknown_regime_is_refused_by_the_service_and_changes_nothing(standard):
    from dunning.policy_services import PolicyError, policy_set_interest

    with pytest.raises(PolicyError, match="no statutory interest regime 'us'"):
        policy_set_interest(actor=None, policy=standard, regime="us")

    standard.refresh_from_db()
    assert standard.interest_regime == ""
    assert not AuditEvent.objects.filter(action="dunning.policy.interest_set").exists()


def test_an_admin_sets_the_rule_for_barred_debts_and_it_is_audited(admin_client_):
    policy = Policy.objects.get(is_default=True)
    page = admin_client_.get(reverse("dunning:policy_detail", args=[policy.pk])).text
    assert "Debts past their limitation date" in page

    admin_client_.post(reverse("dunning:policy_barred", args=[policy.pk]), {"barred_debts": "stop"})
    refused = admin_client_.post(
        reverse("dunning:policy_barred", args=[policy.pk]), {"barred_debts": "sue"}, follow=True
    )

    policy.refresh_from_db()
    assert policy.barred_debts == "stop"
    event = AuditEvent.objects.get(action="dunning.policy.barred_debts_set")
    assert event.data["before"] == "soft" and event.data["after"] == "stop"
    assert "Choose one of the listed rules" in refused.text


def test_the_role_we_collect_in_is_a_dunning_setting(admin_client_):
    admin_client_.post(reverse("dunning:settings"), settings_post(creditor_role="agency"))

    assert DunningSettings.current().creditor_role == "agency"
