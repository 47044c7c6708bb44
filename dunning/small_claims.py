"""Small claims: the most a small-claims court hears in a jurisdiction, and a typical fee,
from a dated table (LEGAL.md; admins keep it current). Whether a claim fits decides whether
going to court is worth it (the referral decision)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from invoices.money import format_money

from .limitation import region_code
from .models import Claimant, SmallClaimsLimit


@dataclass(frozen=True)
class SmallClaims:
    limit: Decimal
    currency: str
    fee: Decimal | None
    note: str


def small_claims_row(country: str, region: str, claimant: str, on: dt.date) -> SmallClaims | None:
    """The row for a claim brought on `on` by a claimant (Claimant: an individual or a
    business; some courts, e.g. California's, let businesses claim less), or None when
    nothing is on file. The region's row wins over the country's; a row for this claimant
    over one for anyone; the latest row in force over older ones. One query."""
    if claimant not in Claimant.values:
        raise ValueError(f"claimant must be one of {', '.join(Claimant.values)}")
    if not country:
        return None
    code = region_code(country, region) if region.strip() else ""
    rows = list(
        SmallClaimsLimit.objects.filter(
            country=country,
            region__in={code, ""},
            claimant__in=(claimant, ""),
            valid_from__lte=on,
        ).values_list("region", "claimant", "valid_from", "limit", "currency", "fee", "note")
    )
    if not rows:
        return None
    _region, _who, _from, limit, currency, fee, note = max(
        rows, key=lambda r: (r[0] == code and bool(code), r[1] == claimant, r[2])
    )
    return SmallClaims(limit=limit, currency=currency, fee=fee, note=note)


def small_claims_limit(
    country: str, region: str, claimant: str, on: dt.date
) -> tuple[Decimal, str, str] | None:
    """(limit, currency, note) as small_claims_row finds it, the fee said in the note."""
    row = small_claims_row(country, region, claimant, on)
    if row is None:
        return None
    note = row.note
    if row.fee is not None:
        note = f"{note}; typical court fee {format_money(row.fee, row.currency)}".lstrip("; ")
    return row.limit, row.currency, note
