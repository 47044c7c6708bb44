"""The shipped ladder sends individuals and sole traders in England and Wales the Letter of
Claim of the Pre-Action Protocol for Debt Claims, with 30 days to reply, in place of the
final demand.

The steps are filled in where they stand rather than saved as a new version: the field is
new, nothing else about the step changes, and chases already running on the ladder need
the Protocol as much as new ones. Only the shipped "Standard" policy's final-demand
letters are touched, and only where no pre-action letter is set; policies an admin made
are theirs to change."""

from django.db import migrations

LETTER_OF_CLAIM = "letter_of_claim"
REPLY_DAYS = 30  # Pre-Action Protocol for Debt Claims, paragraph 3.1 and 4


def ship(apps, schema_editor):
    PolicyStep = apps.get_model("dunning", "PolicyStep")
    PolicyStep.objects.filter(
        version__policy__name="Standard",
        channel="letter",
        template="final_demand",
        pre_action_template="",
    ).update(pre_action_template=LETTER_OF_CLAIM, pre_action_days=REPLY_DAYS)


def unship(apps, schema_editor):
    PolicyStep = apps.get_model("dunning", "PolicyStep")
    PolicyStep.objects.filter(
        version__policy__name="Standard", pre_action_template=LETTER_OF_CLAIM
    ).update(pre_action_template="", pre_action_days=None)


class Migration(migrations.Migration):
    dependencies = [("dunning", "0014_pre_action")]

    operations = [migrations.RunPython(ship, unship)]
