"""A template still at its shipped text moves to the shared date format; an edited one stays."""

import importlib

import pytest
from django.apps import apps

from letters.models import Template, TemplateVersion

pytestmark = pytest.mark.django_db

migration = importlib.import_module("letters.migrations.0002_shipped_dates_in_the_firms_format")

OLD_SUBJECT = (
    'Final demand: {{ grand_total|money:currency }} to be paid by {{ deadline|date:"j F Y" }}'
)


def _template(key, note):
    template = Template.objects.create(key=key, language="en", name=key)
    TemplateVersion.objects.create(
        template=template, number=1, note=note, subject=OLD_SUBJECT, body_text="", body_html=""
    )
    return template


def test_a_shipped_template_gets_a_version_with_the_shared_dates_and_an_edited_one_does_not():
    shipped = _template("old_final_demand", "Shipped default")
    edited = _template("house_final_demand", "Our own wording")

    migration.forwards(apps, None)

    latest = shipped.versions.order_by("-number").first()
    assert latest.number == 2
    assert latest.subject.endswith("to be paid by {{ deadline|day }}")
    assert list(edited.versions.values_list("number", flat=True)) == [1]
