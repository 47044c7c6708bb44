"""What an admin sees editing templates: the list in ladder order with the steps using each
template, an editor with its fields beside the boxes, and a PDF preview that may be framed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dunning.tests.factories import overdue_customer
from letters.context import FIELD_GROUPS, FIELDS
from letters.models import Template, TemplateVersion
from letters.render import Parts, letter_page, message_render, sample_context
from letters.selectors import templates_in_ladder_order
from letters.services import template_translate
from letters.signals import StepUse, template_uses

from .test_views import _edit, _template

pytestmark = pytest.mark.django_db

LADDER = ["courtesy_reminder", "friendly_reminder", "second_reminder", "firm_reminder"]


@pytest.fixture
def steps():
    """Policy steps as the policy app reports them: append StepUse rows to the list."""
    uses: list[StepUse] = []

    def answer(sender, **kwargs):
        return uses

    template_uses.connect(answer, weak=False, dispatch_uid="letters-tests-steps")
    yield uses
    template_uses.disconnect(dispatch_uid="letters-tests-steps")


def _use(template, position, *, policy="Gentle", step=None, offset=1, sends=True, default=False):
    return StepUse(
        template=template,
        policy=policy,
        default_policy=default,
        position=position,
        step=step or template.replace("_", " ").capitalize(),
        offset_days=offset,
        sends_message=sends,
    )


def _listed(client) -> list[tuple[str, str]]:
    response = client.get(reverse("letters:template_list"))
    return [(row.template.key, row.template.language) for row in response.context["rows"]]


def _new_template(key, name, language="en"):
    template = Template.objects.create(key=key, language=language, name=name)
    TemplateVersion.objects.create(
        template=template, number=1, subject="Hello", body_text="Hi", body_html="<p>Hi</p>"
    )
    return template


# --- the PDF preview in its frame -------------------------------------------------------


def test_the_pdf_preview_may_be_shown_in_a_frame_of_the_same_site(admin_client_):
    template = _template("final_demand")

    response = admin_client_.post(
        reverse("letters:template_preview_pdf", args=[template.pk]), _edit(template)
    )

    assert response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors" not in response.get("Content-Security-Policy", "")


def test_a_letter_that_cannot_render_shows_its_reason_in_the_frame(admin_client_):
    template = _template("final_demand")
    data = _edit(template, letter_html='<img src="file:///etc/passwd">')

    response = admin_client_.post(reverse("letters:template_preview_pdf", args=[template.pk]), data)

    assert response.status_code == 400
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_every_other_letters_page_still_refuses_to_be_framed(admin_client_):
    template = _template("final_demand")
    customer = overdue_customer(days=10)

    pages = [
        admin_client_.get(reverse("letters:template_list")),
        admin_client_.get(reverse("letters:template_edit", args=[template.pk])),
        admin_client_.post(
            reverse("letters:template_preview", args=[template.pk]), _edit(template)
        ),
        admin_client_.get(reverse("letters:settings")),
        admin_client_.get(reverse("letters:statement", args=[customer.pk])),
    ]

    assert [page.status_code for page in pages] == [200] * len(pages)
    assert [page["X-Frame-Options"] for page in pages] == ["DENY"] * len(pages)


# --- the list in ladder order -------------------------------------------------------------


def test_templates_are_listed_in_the_order_the_default_ladder_sends_them(admin_client_):
    keys = [*LADDER, "final_demand", "letter_of_claim", "satisfaction_check"]
    assert _listed(admin_client_) == [(key, "en") for key in keys]


def test_templates_follow_the_order_of_the_steps_that_name_them():
    uses = [
        _use("firm_reminder", 1, default=True),
        _use("final_demand", 2, default=True),
        _use("courtesy_reminder", 3, default=True),
    ]

    keys = [row.template.key for row in templates_in_ladder_order(uses)]

    assert keys == [
        "firm_reminder",
        "final_demand",
        "courtesy_reminder",
        "friendly_reminder",
        "second_reminder",
        "letter_of_claim",
        "satisfaction_check",
    ]


def test_a_translation_comes_right_after_its_english_template(admin_client_, admin_user):
    template_translate(actor=admin_user, template=_template("friendly_reminder"), language="de")

    listed = _listed(admin_client_)

    at = listed.index(("friendly_reminder", "en"))
    assert listed[at + 1] == ("friendly_reminder", "de")


def test_templates_no_step_uses_come_after_the_ladder_by_name(admin_client_):
    _new_template("welcome", "Welcome aboard")
    _new_template("account_review", "Account review")

    listed = _listed(admin_client_)

    assert listed[-2:] == [("account_review", "en"), ("welcome", "en")]
    assert listed[0] == ("courtesy_reminder", "en")


def test_each_template_shows_the_policy_steps_that_use_it(admin_client_, steps):
    steps.append(_use("firm_reminder", 3, policy="Gentle", step="Firmer words", offset=20))
    steps.append(_use("firm_reminder", 4, policy="Trade", step="Last email", offset=-2))

    page = admin_client_.get(reverse("letters:template_list")).content.decode()

    assert "Gentle, step 3: Firmer words" in page
    assert "20 days after the due date" in page
    assert "Trade, step 4: Last email" in page
    assert "2 days before the due date" in page


def test_a_step_naming_a_missing_template_is_shown_as_unable_to_send(admin_client_, steps):
    steps.append(_use("welcome_letter", 1, step="Welcome letter"))
    steps.append(_use("phone_call", 2, step="Phone call", sends=False))

    response = admin_client_.get(reverse("letters:template_list"))

    without = response.context["without_template"]
    missing = [use.template for use in without if use.policy == "Gentle"]
    page = response.content.decode()
    assert missing == ["welcome_letter", "phone_call"]
    assert "Cannot be sent until it has one" in page
    assert "built-in call script" in page


def test_a_phone_or_legal_step_naming_no_template_is_not_missing_one(admin_client_, steps):
    steps.append(_use("", 4, step="Phone call", sends=False))
    steps.append(_use("", 6, step="Legal referral", sends=False))
    steps.append(_use("", 2, step="Reminder without words"))

    response = admin_client_.get(reverse("letters:template_list"))

    without = response.context["without_template"]
    assert [use.step for use in without if use.policy == "Gentle"] == ["Reminder without words"]


def test_without_a_policy_app_answering_no_template_is_said_to_be_unused(
    admin_client_, monkeypatch
):
    monkeypatch.setattr("letters.views.steps_naming_templates", lambda: None)
    template = _template()

    listing = admin_client_.get(reverse("letters:template_list")).content.decode()
    editor = admin_client_.get(reverse("letters:template_edit", args=[template.pk]))

    assert "Used by" not in listing and "No policy step" not in listing
    assert "Used by" not in editor.content.decode()


def test_the_template_list_costs_the_same_queries_however_many_templates(admin_client_):
    url = reverse("letters:template_list")
    admin_client_.get(url)  # the session and the user's groups, read once
    with CaptureQueriesContext(connection) as few:
        admin_client_.get(url)
    for n in range(12):
        _new_template(f"extra_{n}", f"Extra {n}")
    with CaptureQueriesContext(connection) as many:
        response = admin_client_.get(url)

    assert len(response.context["rows"]) == 19
    assert len(many) == len(few)


# --- the editor ---------------------------------------------------------------------------


def test_the_editor_shows_every_field_beside_the_boxes(admin_client_):
    template = _template()

    page = admin_client_.get(reverse("letters:template_edit", args=[template.pk])).content.decode()

    assert 'data-testid="field-list"' in page
    assert "<details" not in page.split('data-testid="field-list"')[1].split("<h3>")[0]
    for name in FIELDS:
        assert f"<code>{name}</code></button>" in page
    assert page.index('data-testid="field-list"') < page.index('id="preview"')


def test_the_editor_says_what_each_box_is(admin_client_):
    template = _template("final_demand")

    page = admin_client_.get(reverse("letters:template_edit", args=[template.pk])).content.decode()

    for label in (
        "Subject line",
        "The email text",
        "The email, formatted (HTML)",
        "The letter (PDF body, HTML)",
    ):
        assert f">{label}</label>" in page
    assert 'aria-describedby="id_body_text_helptext"' in page
    assert "what the customer sees in their inbox" in page


def test_the_editor_names_the_steps_that_use_the_template(admin_client_, steps):
    steps.append(_use("final_demand", 6, policy="Standard", step="Final demand", offset=45))
    template = _template("final_demand")

    page = admin_client_.get(reverse("letters:template_edit", args=[template.pk])).content.decode()

    assert "Standard, step 6: Final demand" in page


@pytest.mark.parametrize(
    "field", [f for _title, fields in FIELD_GROUPS for f in fields], ids=lambda f: f.name
)
def test_every_field_the_editor_inserts_renders_in_each_box(field):
    context = sample_context(interest_regime="uk")
    text = field.text.replace("…", "only sometimes")
    html = field.html.replace("…", "only sometimes")
    parts = Parts(subject=text, body_text=text, body_html=html, letter_html=html)

    message = message_render(parts, context)
    page = letter_page(parts, context)

    assert "\x00" not in message.text + message.html + page


def test_the_editor_offers_money_and_addresses_in_their_formatted_form():
    field = {f.name: f for _title, fields in FIELD_GROUPS for f in fields}

    assert field["total"].text == "{{ total|money:currency }}"
    assert field["organisation.address"].text == "{{ organisation.address }}"
    assert field["organisation.address"].html == "{{ organisation.address|linebreaksbr }}"
    assert field["invoice table"].html == '{% include "statement.html" %}'
