"""Ship LEGAL.md's limitation periods by kind of claim, and its small-claims limits.

The periods shipped before were written-contract periods (Florida 5, Illinois 10) where
invoices are open accounts, with a country-wide US row of 4 years. Rows still exactly as
shipped are replaced; rows an admin added or changed are kept (and then win over the
shipped row for the same jurisdiction, kind and date)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

SINCE = dt.date(2000, 1, 1)
OPEN, WRITTEN, GOODS = "open_account", "written_contract", "sale_of_goods"

# The rows shipped before this migration: (country, region, years, note).
OLD = [
    ("GB", "", 6, "England and Wales: simple contract"),
    ("US", "CA", 4, "California: written contract / open account"),
    ("US", "TX", 4, "Texas"),
    ("US", "NY", 6, "New York"),
    ("US", "FL", 5, "Florida: written contract"),
    ("US", "IL", 10, "Illinois: written contract"),
    ("US", "", 4, "UCC 2-725 sale of goods, where no state period is set"),
]

# (country, region, kind, years, restarts, note)
PERIODS = [
    ("GB", "", OPEN, 6, True, "England and Wales: simple contract (Limitation Act 1980 s5)"),
    ("GB", "", WRITTEN, 6, True, "England and Wales: simple contract (Limitation Act 1980 s5)"),
    ("GB", "", GOODS, 6, True, "England and Wales: simple contract (Limitation Act 1980 s5)"),
    ("US", "CA", OPEN, 4, True, "California: open account"),
    ("US", "TX", OPEN, 4, True, "Texas: open account"),
    ("US", "NY", OPEN, 6, True, "New York: open account"),
    ("US", "FL", OPEN, 4, True, "Florida: open account"),
    ("US", "IL", OPEN, 5, True, "Illinois: open account"),
    ("US", "DE", OPEN, 3, True, "Delaware"),
    ("US", "CA", WRITTEN, 4, True, "California: written contract"),
    ("US", "TX", WRITTEN, 4, True, "Texas: written contract"),
    ("US", "NY", WRITTEN, 6, True, "New York: written contract"),
    ("US", "FL", WRITTEN, 5, True, "Florida: written contract"),
    ("US", "IL", WRITTEN, 10, True, "Illinois: written contract"),
    ("US", "DE", WRITTEN, 3, True, "Delaware"),
    # Whether a payment restarts it is each state's law: not assumed.
    ("US", "", GOODS, 4, False, "Sale of goods (UCC 2-725)"),
]

# (country, region, claimant, limit, currency, note)
SMALL_CLAIMS = [
    ("US", "CA", "individual", "12500", "USD", "California small claims court: an individual"),
    ("US", "CA", "business", "6250", "USD", "California small claims court: a business"),
    ("US", "TX", "", "20000", "USD", "Texas justice court (small claims)"),
    (
        "US",
        "NY",
        "",
        "10000",
        "USD",
        "New York City; courts elsewhere in the state hear less",
    ),
    ("US", "FL", "", "8000", "USD", "Florida small claims"),
    ("US", "IL", "", "10000", "USD", "Illinois small claims"),
    ("GB", "", "", "10000", "GBP", "England and Wales: small claims track"),
]


def ship_periods(apps, schema_editor):
    LimitationPeriod = apps.get_model("dunning", "LimitationPeriod")
    for country, region, years, note in OLD:
        LimitationPeriod.objects.filter(
            country=country,
            region=region,
            years=years,
            note=note,
            kind=OPEN,
            valid_from=SINCE,
            restarts=False,
        ).delete()
    for country, region, kind, years, restarts, note in PERIODS:
        LimitationPeriod.objects.get_or_create(
            country=country,
            region=region,
            kind=kind,
            valid_from=SINCE,
            defaults={"years": years, "restarts": restarts, "note": note},
        )


def ship_small_claims(apps, schema_editor):
    SmallClaimsLimit = apps.get_model("dunning", "SmallClaimsLimit")
    for country, region, claimant, limit, currency, note in SMALL_CLAIMS:
        SmallClaimsLimit.objects.get_or_create(
            country=country,
            region=region,
            claimant=claimant,
            valid_from=SINCE,
            defaults={"limit": Decimal(limit), "currency": currency, "note": note},
        )


def ship(apps, schema_editor):
    ship_periods(apps, schema_editor)
    ship_small_claims(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("dunning", "0012_limitation_clock")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
