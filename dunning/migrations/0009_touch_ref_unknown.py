import dunning.models
from django.db import migrations, models


def fill_refs(apps, schema_editor):
    # Every existing touch gets its own random reference, in one statement.
    if schema_editor.connection.vendor == "postgresql":
        sql = "UPDATE dunning_touch SET ref = replace(gen_random_uuid()::text, '-', '')"
    else:
        sql = "UPDATE dunning_touch SET ref = lower(hex(randomblob(16)))"
    schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("dunning", "0008_queue_entry")]

    operations = [
        migrations.AddField(
            model_name="touch",
            name="claims",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="touch",
            name="handoff_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="touch",
            name="ref",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(fill_refs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="touch",
            name="ref",
            field=models.CharField(
                default=dunning.models.touch_ref, editable=False, max_length=32
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="kind",
            field=models.CharField(
                choices=[
                    ("call", "Phone call"),
                    ("fix_contact", "Fix a contact"),
                    ("check_send", "Check whether a message went"),
                    ("referral", "Legal referral to approve"),
                    ("internal", "Internal task"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="touch",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("unknown", "Outcome unknown"),
                    ("sent", "Sent"),
                    ("delivered", "Delivered"),
                    ("bounced", "Bounced"),
                    ("complained", "Complained"),
                    ("failed", "Failed"),
                    ("skipped", "Skipped"),
                    ("cancelled", "Cancelled"),
                    ("done", "Done"),
                ],
                default="pending",
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="touch",
            constraint=models.UniqueConstraint(fields=("ref",), name="touch_ref_unique"),
        ),
    ]
