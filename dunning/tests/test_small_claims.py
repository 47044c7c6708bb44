"""The small-claims limit for a jurisdiction, by who brings the claim and on what date."""

import datetime as dt
from decimal import Decimal

import pytest

from dunning.models import SmallClaimsLimit
from dunning.small_claims import small_claims_limit
from invoices.money import format_money

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    "country, region, claimant, limit, currency",
    [
        ("US", "CA", "individual", "12500", "USD"),
        ("US", "California", "business", "6250", "USD"),
        ("US", "TX", "business", "20000", "USD"),
        ("US", "New York", "business", "10000", "USD"),
        ("US", "FL", "individual", "8000", "USD"),
        ("US", "IL", "business", "10000", "USD"),
        ("GB", "England", "business", "10000", "GBP"),
    ],
)
def test_the_limit_follows_the_jurisdiction_and_the_claimant(
    country, region, claimant, limit, currency
):
    amount, found_currency, _note = small_claims_limit(country, region, claimant, ON)

    assert (amount, found_currency) == (Decimal(limit), currency)


def test_new_yorks_limit_says_it_is_new_york_citys():
    _amount, _currency, note = small_claims_limit("US", "NY", "business", ON)

    assert "New York City" in note


@pytest.mark.parametrize("country, region", [("US", "Ohio"), ("US", ""), ("FR", ""), ("", "")])
def test_a_jurisdiction_with_nothing_on_file_has_no_limit(country, region):
    assert small_claims_limit(country, region, "business", ON) is None


def test_a_newer_row_applies_from_its_date():
    SmallClaimsLimit.objects.create(
        country="GB", valid_from=dt.date(2027, 1, 1), limit=Decimal("12000"), currency="GBP"
    )

    assert small_claims_limit("GB", "", "business", ON)[0] == Decimal("10000")
    assert small_claims_limit("GB", "", "business", dt.date(2027, 2, 1))[0] == Decimal("12000")


def test_a_typical_court_fee_on_file_is_in_the_note():
    SmallClaimsLimit.objects.filter(country="GB").update(fee=Decimal("455"))

    _amount, _currency, note = small_claims_limit("GB", "", "business", ON)

    assert note.endswith(f"typical court fee {format_money(Decimal('455'), 'GBP')}")


def test_a_debtor_type_is_not_a_claimant():
    with pytest.raises(ValueError, match="claimant"):
        small_claims_limit("US", "CA", "consumer", ON)
