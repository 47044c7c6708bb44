"""Limitation periods: the last day a debt can be sued for is its due date plus the
jurisdiction's period in years (LEGAL.md). Referral is blocked after it and warned of
before it. A part-payment or written acknowledgment may restart the period; that is for
the lawyer to judge, so the date here is the cautious one, from the due date."""

import datetime as dt
from collections.abc import Iterable

import holidays
from django.apps import apps as global_apps

from invoices.dates import format_day

WARN_DAYS = 180  # how far ahead a coming limitation date is flagged

# (country, region, years, note): examples from LEGAL.md, written contracts / open accounts.
DEFAULTS = [
    ("GB", "", 6, "England and Wales: simple contract"),
    ("US", "CA", 4, "California: written contract / open account"),
    ("US", "TX", 4, "Texas"),
    ("US", "NY", 6, "New York"),
    ("US", "FL", 5, "Florida: written contract"),
    ("US", "IL", 10, "Illinois: written contract"),
    ("US", "", 4, "UCC 2-725 sale of goods, where no state period is set"),
]


def ship_defaults(apps=global_apps) -> None:
    LimitationPeriod = apps.get_model("dunning", "LimitationPeriod")
    if LimitationPeriod.objects.exists():
        return
    LimitationPeriod.objects.bulk_create(
        LimitationPeriod(country=c, region=r, years=y, note=n) for c, r, y, n in DEFAULTS
    )


def on_post_migrate(sender, apps=global_apps, **kwargs) -> None:
    ship_defaults(apps)


def region_code(country: str, region: str) -> str:
    """A region as its ISO 3166-2 code: customers' records may say "New York" or "NY"."""
    region = region.strip()
    try:
        aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {}) or {}
    except NotImplementedError:  # a country the holidays package does not know
        return region
    by_name = {name.lower(): code for name, code in aliases.items()}
    return by_name.get(region.lower(), region.upper())


def period_years(country: str, region: str) -> int | None:
    """The period for a customer's jurisdiction: its region's, else its country's."""
    from .models import LimitationPeriod

    code = region_code(country, region) if region else ""
    rows = dict(
        LimitationPeriod.objects.filter(country=country, region__in=[code, ""]).values_list(
            "region", "years"
        )
    )
    return rows.get(code) if code in rows else rows.get("")


def limitation_date(due_date: dt.date, years: int) -> dt.date:
    try:
        return due_date.replace(year=due_date.year + years)
    except ValueError:  # 29 February in a year without one
        return due_date.replace(year=due_date.year + years, day=28)


def limitation_check(
    invoices: Iterable[tuple[str, dt.date]], *, years: int | None, today: dt.date
) -> tuple[list[str], list[str]]:
    """(barred, warnings) in words for (number, due_date) pairs: invoices past their
    limitation date, and those reaching it within WARN_DAYS."""
    if years is None:
        return [], []
    barred, warnings = [], []
    for number, due in invoices:
        last = limitation_date(due, years)
        if last < today:
            barred.append(f"{number} passed its limitation date on {format_day(last)}")
        elif (last - today).days <= WARN_DAYS:
            warnings.append(
                f"{number} reaches its limitation date on {format_day(last)} "
                f"(in {(last - today).days} days)"
            )
    return barred, warnings
