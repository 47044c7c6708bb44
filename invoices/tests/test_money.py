"""Currencies offered and accepted: those some country pays in today, and any the ledger
already holds, never a withdrawn one for new data."""

import datetime as dt
from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_currency_precision
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from invoices.models import Customer, Invoice
from invoices.money import (
    _formatted,
    currencies_in_use,
    currency_choices,
    currency_codes,
    currency_problem,
    format_money,
    validate_currency,
)
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory


def test_the_andorran_peseta_is_not_offered():
    codes = dict(currency_choices())

    assert "ADP" not in codes
    assert codes["EUR"] == "EUR – Euro"
    assert {"GBP", "USD", "CHF", "JPY"} <= codes.keys()


def test_funds_metals_and_test_codes_are_not_offered():
    codes = dict(currency_choices())

    assert not {"XAU", "XDR", "CLF", "XTS", "XXX", "BOV"} & codes.keys()


def test_a_withdrawn_currency_already_chosen_stays_offered():
    assert "ADP" in dict(currency_choices(keep=["ADP"]))


def test_the_currencies_in_use_follow_the_day():
    assert "HRK" in currencies_in_use(dt.date(2022, 6, 1))
    assert "HRK" not in currencies_in_use(dt.date(2023, 6, 1))


@pytest.mark.django_db
def test_a_withdrawn_currency_is_refused_with_its_name():
    with pytest.raises(ValidationError, match="'ADP' \\(Andorran Peseta\\) is no longer in use."):
        validate_currency("ADP")


@pytest.mark.django_db
def test_a_made_up_code_is_refused_as_not_a_currency():
    assert currency_problem("ZZZ") == "'ZZZ' is not an ISO 4217 currency code."


@pytest.mark.django_db
def test_a_withdrawn_currency_the_ledger_already_holds_is_still_accepted():
    CustomerFactory(currency="DEM")

    validate_currency("DEM")
    assert "DEM" in currency_codes()
    assert "FRF" not in currency_codes()
    assert currency_problem("FRF", currency_codes()) == "'FRF' (French Franc) is no longer in use."


@pytest.mark.django_db
def test_a_customers_file_in_a_withdrawn_currency_imports_nothing(tmp_path):
    path = write_csv(
        tmp_path,
        "external_id,name,email,phone,timezone,currency\n"
        "C1,Casa Pere,,,Europe/Andorra,EUR\n"
        "C2,Casa Pau,,,Europe/Andorra,ADP\n",
    )

    with pytest.raises(CommandError, match="line 3: .*currency 'ADP'"):
        import_csv("customers", path)

    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_invoices_in_a_withdrawn_currency_the_ledger_holds_can_be_imported_again(tmp_path):
    CustomerFactory(external_id="OLD", currency="DEM")
    path = write_csv(
        tmp_path,
        "number,customer_external_id,issue_date,due_date,currency,amount\n"
        "R-1998-1,OLD,1998-01-01,1998-01-31,DEM,100.00\n",
    )

    import_csv("invoices", path)

    assert Invoice.objects.get(number="R-1998-1").currency == "DEM"


@pytest.mark.parametrize(
    "locale", ["en_GB", "en_US", "de_DE", "fr_FR", "de_CH", "en_IN", "ar_EG", "ja_JP", "pl_PL"]
)
@pytest.mark.parametrize("currency", ["GBP", "EUR", "JPY", "KWD", "INR"])
def test_money_prints_exactly_as_babel_does_in_every_locale(locale, currency):
    """The quick path (Python's grouping) prints what Babel prints, in locales that group
    alike and in those that do not (Indian lakhs), for currencies of 0, 2 and 3 decimals,
    and for amounts with more decimals than the currency has, negative ones and zero."""
    amounts = ["0", "-0.00", "0.01", "5", "12.5", "999.99", "1000", "1234.567", "-1234.5"]
    amounts += [f"{n}{'7' * (n % 9)}.{n % 100:02d}" for n in range(1, 400, 7)]
    unit = Decimal(1).scaleb(-get_currency_precision(currency))
    for text in amounts:
        amount = Decimal(text)
        # As given, and as stored: with exactly the currency's decimals (the quickest path).
        for given in (amount, amount.quantize(unit)):
            expected = format_currency(given, currency, locale=locale)
            assert _formatted.__wrapped__(given, currency, locale) == expected, text
            if given.is_zero():  # printed without a sign
                expected = format_currency(given.copy_abs(), currency, locale=locale)
            assert format_money(given, currency, locale) == expected, text
