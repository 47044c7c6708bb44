import pytest

from audit.models import AuditEvent
from letters.exceptions import TemplateProblem
from letters.models import Template
from letters.render import Parts
from letters.services import template_save

pytestmark = pytest.mark.django_db


def _template():
    return Template.objects.get(key="friendly_reminder", language="en")


def test_saving_a_template_adds_a_version_and_audits_it(admin_user):
    template = _template()

    version = template_save(
        actor=admin_user,
        template=template,
        parts=Parts("Reminder: {{ total|money:currency }}", "Dear {{ contact.name }}", "<p>Hi</p>"),
        note="shorter",
    )

    assert [v.number for v in template.versions.all()] == [2, 1]
    assert version.created_by == admin_user
    assert AuditEvent.objects.filter(action="letters.template.saved").count() == 1


def test_a_template_with_an_error_is_not_saved(admin_user):
    template = _template()

    with pytest.raises(TemplateProblem) as refused:
        template_save(
            actor=admin_user,
            template=template,
            parts=Parts("Reminder", "Line 1\n{% for x in invoices %}\nno end", "<p>Hi</p>"),
        )

    assert refused.value.field == "Plain text"
    assert refused.value.line == 2
    assert template.versions.count() == 1
    assert not AuditEvent.objects.filter(action="letters.template.saved").exists()


def test_a_letter_reaching_for_a_file_is_not_saved(admin_user):
    template = Template.objects.get(key="final_demand")

    with pytest.raises(Exception, match="file:///etc/passwd"):
        template_save(
            actor=admin_user,
            template=template,
            parts=Parts("x", "x", "x", '<img src="file:///etc/passwd">'),
        )
    assert template.versions.count() == 1
