"""A template cannot take more than its render budget: it is stopped as it goes, and refused
when saved."""

import html
import time

import pytest
from django.urls import reverse

from letters.defaults import SHIPPED
from letters.exceptions import TemplateTooCostly
from letters.models import Template
from letters.render import (
    Parts,
    busy_context,
    letter_page,
    letter_pdf,
    message_render,
    parts_check,
    sample_context,
)
from letters.services import template_save
from letters.tests.test_views import _edit

pytestmark = pytest.mark.django_db

BUDGET_S = 0.25
# About 9 million turns writing nothing: minutes of work if nothing stopped it.
NESTED_LOOPS = (
    '{% with s="x"|ljust:3000 %}{% for a in s %}{% for b in s %}{% if b == "y" %}!{% endif %}'
    "{% endfor %}{% endfor %}{% endwith %}"
)


@pytest.fixture
def small_budget(settings):
    settings.TEMPLATE_RENDER_SECONDS = BUDGET_S


@pytest.fixture
def small_output(settings):
    settings.TEMPLATE_RENDER_MAX_BYTES = 50_000
    return settings


def _parts(**changes) -> Parts:
    fields = {"subject": "Overdue", "body_text": "Hello", "body_html": "<p>Hello</p>"}
    return Parts(**{**fields, **changes}, name="Final demand")


def _timed(parts: Parts):
    context = sample_context()
    started = time.monotonic()
    with pytest.raises(TemplateTooCostly) as stopped:
        message_render(parts, context)
    return stopped.value, time.monotonic() - started


def test_a_runaway_nested_loop_is_stopped_within_about_the_budget(small_budget):
    error, took = _timed(_parts(body_html=NESTED_LOOPS))

    assert str(error) == (
        'The template "Final demand" took longer than 0.25 s to render its HTML email '
        "(it may loop too much): simplify it."
    )
    assert took < 3 * BUDGET_S


def test_nested_loops_with_nothing_inside_are_stopped_too(small_budget):
    empty = '{% with s="x"|ljust:3000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}'

    error, took = _timed(_parts(body_text=empty + "{% endwith %}"))

    assert "took longer than 0.25 s to render its plain-text email" in str(error)
    assert took < 3 * BUDGET_S


def test_a_partial_made_to_loop_over_a_long_text_is_stopped_too(small_budget):
    source = '{% with s="x"|ljust:900000 %}{% include "statement.txt" with invoices=s %}'

    error, took = _timed(_parts(body_text=source + "{% endwith %}"))

    assert "took longer than 0.25 s" in str(error)
    assert took < 3 * BUDGET_S


def test_a_loop_writing_too_much_is_stopped_before_it_finishes(small_output):
    loop = '{% with s="x"|ljust:40000 %}{% for a in s %}' + "Pay now. " * 100 + "{% endfor %}"

    error, took = _timed(_parts(subject=loop + "{% endwith %}"))

    assert str(error) == (
        'The template "Final demand" produced more than 50 kB of text in its subject '
        "(it may loop or pad too much): simplify it."
    )
    assert took < 1


@pytest.mark.parametrize(
    "source",
    [
        '{{ "x"|ljust:2000000000 }}',
        '{{ total|floatformat:"900000000" }}',
        '{% with s="x"|rjust:40000 %}{{ s|join:s }}{% endwith %}',
    ],
)
def test_a_filter_asked_for_gigabytes_is_refused_before_it_builds_them(small_output, source):
    error, took = _timed(_parts(body_text=source))

    assert "produced more than 50 kB of text" in str(error)
    assert took < 1


def test_going_over_budget_inside_an_if_is_not_swallowed(small_output):
    source = '{% if "x"|center:2000000000 == "x" %}yes{% endif %}done'

    error, _ = _timed(_parts(body_text=source))

    assert "produced more than 50 kB" in str(error)


def test_copies_of_a_long_text_are_stopped_before_they_are_joined(small_output):
    source = '{% with s="x"|ljust:40000 %}' + "{{ s }}" * 1000 + "{% endwith %}"

    error, _ = _timed(_parts(body_html=source))

    assert "produced more than 50 kB of text in its HTML email" in str(error)


def test_a_letter_page_too_large_to_lay_out_never_reaches_the_pdf_renderer(small_output):
    small_output.TEMPLATE_RENDER_MAX_BYTES = 3000
    parts = _parts(letter_html="<p>" + "Please pay. " * 240 + "</p>")

    with pytest.raises(TemplateTooCostly) as refused:
        letter_pdf(parts, sample_context())

    assert "produced more than 3 kB of text in its letter" in str(refused.value)


def test_the_shipped_templates_render_for_a_busy_customer_within_the_default_budget():
    context = busy_context()
    for key in SHIPPED:
        parts = Parts.of(Template.objects.get(key=key, language="en").versions.get())

        message = message_render(parts, context)
        if parts.letter_html:
            letter_page(parts, context)

        assert "INV-2199" in message.text


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_every_shipped_template_passes_the_check_made_on_save(key):
    parts_check(Parts.of(Template.objects.get(key=key, language="en").versions.get()))


def test_saving_a_runaway_template_is_refused_and_saves_nothing(small_budget, admin_user):
    template = Template.objects.get(key="final_demand", language="en")
    versions = template.versions.count()

    with pytest.raises(TemplateTooCostly) as refused:
        template_save(actor=admin_user, template=template, parts=_parts(letter_html=NESTED_LOOPS))

    assert 'The template "Final demand" took longer than' in str(refused.value)
    assert template.versions.count() == versions


def test_a_template_too_heavy_only_for_a_busy_customer_is_refused_on_save(small_budget, admin_user):
    # Two invoices make 8 turns; the busy customer's 200 make 8 million.
    cubed = (
        "{% for a in invoices %}{% for b in invoices %}{% for c in invoices %}"
        "{{ c.number }}{% endfor %}{% endfor %}{% endfor %}"
    )
    template = Template.objects.get(key="friendly_reminder", language="en")
    message_render(_parts(body_text=cubed), sample_context())

    with pytest.raises(TemplateTooCostly):
        template_save(actor=admin_user, template=template, parts=_parts(body_text=cubed))

    assert template.versions.count() == 1


def test_the_edit_page_shows_the_refusal_on_the_part_and_saves_nothing(small_budget, admin_client_):
    template = Template.objects.get(key="final_demand", language="en")

    response = admin_client_.post(
        reverse("letters:template_edit", args=[template.pk]),
        _edit(template, letter_html=NESTED_LOOPS),
    )

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert 'The template "Final demand" took longer than 0.25 s to render its letter' in page
    assert template.versions.count() == 1


def test_the_preview_shows_the_refusal_as_a_message(small_budget, admin_client_):
    template = Template.objects.get(key="friendly_reminder", language="en")

    response = admin_client_.post(
        reverse("letters:template_preview", args=[template.pk]),
        _edit(template, body_html=NESTED_LOOPS),
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert 'The template "Friendly reminder" took longer than 0.25 s' in page


def test_the_pdf_preview_shows_the_refusal(small_budget, admin_client_):
    template = Template.objects.get(key="final_demand", language="en")

    response = admin_client_.post(
        reverse("letters:template_preview_pdf", args=[template.pk]),
        _edit(template, letter_html=NESTED_LOOPS),
    )

    assert response.status_code == 400
    assert "took longer than 0.25 s to render its letter" in response.content.decode()


def test_a_normal_template_renders_as_before(small_budget):
    parts = _parts(
        subject="{{ count }} invoice{{ count|pluralize }} overdue",
        body_text="{% for line in invoices %}{{ line.number }} {{ line.balance|money:currency }}\n"
        "{% endfor %}{% include 'statement.txt' %}",
    )

    message = message_render(parts, sample_context())

    assert message.subject == "2 invoices overdue"
    assert message.text.startswith("INV-1001 £1,250.00\nINV-1002 £480.50\n")
