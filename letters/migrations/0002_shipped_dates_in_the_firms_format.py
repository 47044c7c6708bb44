"""The shipped templates wrote dates their own way ("23 December 2026"); they now use the `day`
filter every page uses. A template still at its shipped text gets a new version with the new
dates; one an admin has edited is left as it is (its versions never change)."""

from django.db import migrations
from django.db.models import Max

OLD_FORMATS = ('|date:"l j F Y"', '|date:"j F Y"', '|date:"j M Y"')
PARTS = ("subject", "body_text", "body_html", "letter_html")


def with_shared_dates(text):
    for old in OLD_FORMATS:
        text = text.replace(old, "|day")
    return text


def forwards(apps, schema_editor):
    TemplateVersion = apps.get_model("letters", "TemplateVersion")
    latest = TemplateVersion.objects.values("template").annotate(number=Max("number"))
    for row in latest:
        version = TemplateVersion.objects.get(template_id=row["template"], number=row["number"])
        if version.note != "Shipped default":
            continue
        texts = {part: getattr(version, part) for part in PARTS}
        new = {part: with_shared_dates(text) for part, text in texts.items()}
        if new != texts:
            TemplateVersion.objects.create(
                template_id=version.template_id,
                number=version.number + 1,
                note="Shipped default, dates in the firm's format",
                **new,
            )


class Migration(migrations.Migration):
    dependencies = [("letters", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
