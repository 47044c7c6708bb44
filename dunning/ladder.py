"""Keep the shipped default ladder present: the data migration creates it once, but a
flush (transactional tests, `manage.py flush`) empties the tables and migrations do not
run again. Like the role groups, it is put back after every migrate or flush."""

import importlib

from django.apps import apps as global_apps


def on_post_migrate(sender, apps=global_apps, **kwargs) -> None:
    Policy = apps.get_model("dunning", "Policy")
    if not Policy.objects.exists():
        # One definition of the ladder: the data migration's.
        importlib.import_module("dunning.migrations.0002_default_ladder").ship_ladder(apps, None)
        # ... and the Pre-Action Protocol's letter on its final demand, as migrated.
        importlib.import_module("dunning.migrations.0015_letter_of_claim_ladder").ship(apps, None)
