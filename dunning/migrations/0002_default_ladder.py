"""Ship the default escalation ladder of PRODUCT.md as policy "Standard" v1."""

from decimal import Decimal

from django.db import migrations

LADDER = [
    # offset, name, channel, template, extra
    (-3, "Courtesy reminder", "email", "courtesy_reminder", {}),
    (1, "Friendly reminder", "email", "friendly_reminder", {}),
    (7, "Second reminder", "email", "second_reminder", {}),
    (15, "Firm reminder", "email", "firm_reminder", {"use_escalation_contact": True}),
    (30, "Phone call", "phone", "phone_call", {"use_escalation_contact": True}),
    (
        45,
        "Final demand",
        "letter",
        "final_demand",
        {"response_deadline_days": 14, "use_escalation_contact": True},
    ),
    (
        59,
        "Legal referral",
        "legal",
        "legal_referral",
        {"min_balance": Decimal("1000"), "use_escalation_contact": True},
    ),
]


def ship_ladder(apps, schema_editor):
    Policy = apps.get_model("dunning", "Policy")
    PolicyVersion = apps.get_model("dunning", "PolicyVersion")
    PolicyStep = apps.get_model("dunning", "PolicyStep")
    if Policy.objects.filter(name="Standard").exists():
        return
    policy = Policy.objects.create(name="Standard", is_default=not Policy.objects.filter(
        is_default=True
    ).exists())
    version = PolicyVersion.objects.create(policy=policy, number=1, note="Default ladder")
    for position, (offset, name, channel, template, extra) in enumerate(LADDER, start=1):
        PolicyStep.objects.create(
            version=version,
            position=position,
            name=name,
            offset_days=offset,
            channel=channel,
            template=template,
            **extra,
        )


def remove_ladder(apps, schema_editor):
    Policy = apps.get_model("dunning", "Policy")
    PolicyVersion = apps.get_model("dunning", "PolicyVersion")
    PolicyStep = apps.get_model("dunning", "PolicyStep")
    PolicyStep.objects.filter(version__policy__name="Standard").delete()
    PolicyVersion.objects.filter(policy__name="Standard").delete()
    Policy.objects.filter(name="Standard").delete()


class Migration(migrations.Migration):
    dependencies = [("dunning", "0001_initial")]

    operations = [migrations.RunPython(ship_ladder, remove_ladder)]
