"""A step whose template runs over its render budget fails with a clear error and sends
nothing, and the rest of the run goes on."""

import time

import pytest
from django.core import mail

from dunning.models import Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from letters.models import Template, TemplateVersion

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]

BUDGET_S = 0.25
# About 9 million turns: minutes of work for every customer if nothing stopped it.
RUNAWAY = (
    '{% with s="x"|ljust:3000 %}{% for a in s %}{% for b in s %}{% if b == "y" %}!{% endif %}'
    "{% endfor %}{% endfor %}{% endwith %}"
)


@pytest.fixture(autouse=True)
def small_budget(settings):
    settings.TEMPLATE_RENDER_SECONDS = BUDGET_S


def _make_runaway(template: Template, *, like: Template) -> None:
    """A version saved past the check (as one saved before renders had a budget), with the
    text of `like` but a runaway plain-text email."""
    latest = like.versions.order_by("-number").first()
    TemplateVersion.objects.create(
        template=template,
        number=template.versions.count() + 1,
        subject=latest.subject,
        body_text=RUNAWAY,
        body_html=latest.body_html,
        letter_html=latest.letter_html,
    )


def _step_template(language: str = "en") -> Template:
    key = Touch.objects.select_related("step").first().step.template
    return Template.objects.get(key=key, language=language)


def test_a_step_whose_template_runs_over_budget_records_why_and_sends_nothing():
    overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    template = _step_template()
    _make_runaway(template, like=template)

    started = time.monotonic()
    touches_deliver(as_of=MONDAY_10)

    touch = Touch.objects.get()
    assert mail.outbox == []
    assert touch.status != TouchStatus.SENT
    assert (
        f'The template "{template.name}" took longer than 0.25 s to render its plain-text email'
        in touch.last_error
    )
    assert time.monotonic() - started < 3 * BUDGET_S + 1


def test_a_customer_whose_template_runs_over_budget_does_not_hold_up_the_others():
    stuck = overdue_customer(days=3, country="DE", timezone="Europe/Berlin")
    fine = overdue_customer(days=3, country="GB")
    dunning_run(as_of=MONDAY_10)
    english = _step_template()
    german = Template.objects.create(key=english.key, language="de", name=english.name)
    _make_runaway(german, like=english)

    touches_deliver(as_of=MONDAY_10)

    assert [m.to for m in mail.outbox] == [[fine.contacts.get().email]]
    assert Touch.objects.get(customer=fine).status == TouchStatus.SENT
    assert "took longer than 0.25 s" in Touch.objects.get(customer=stuck).last_error
