"""Stored closed months (reports.summary) give exactly what the ledger gives, and are
forgotten whenever the ledger changes under them."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from invoices.models import Invoice
from invoices.services import invoice_update
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory
from reports.metrics import monthly_figures
from reports.models import MonthSummary
from reports.summary import Scope, closed_months, trend

from .test_metrics import credit, invoice, pay

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = dt.date(2026, 4, 14)


@pytest.fixture
def ledger():
    """Four months of GBP and EUR with part-payments, a credit and a payment in April."""
    acme = CustomerFactory(external_id="ACME", currency="GBP")
    first = invoice(dt.date(2025, 12, 5), "1000.00", customer=acme)
    second = invoice(dt.date(2026, 1, 20), "600.00", customer=acme, due=dt.date(2026, 3, 31))
    third = invoice(dt.date(2026, 3, 2), "250.00", customer=acme)
    euro = invoice(dt.date(2026, 2, 10), "900.00", currency="EUR")
    pay(first, "400.00", dt.date(2026, 1, 15))
    credit(first, "100.00", dt.date(2026, 2, 3))
    pay(second, "600.00", dt.date(2026, 3, 10))
    pay(euro, "300.00", dt.date(2026, 4, 2))
    return {"acme": acme, "first": first, "second": second, "third": third, "euro": euro}


def same_as_ledger(as_of=TODAY, currency="GBP", **scope):
    stored = trend(Scope(currency, **scope), as_of=as_of, today=TODAY)
    assert stored == monthly_figures(as_of=as_of, currency=currency, **scope)
    return stored


def test_stored_months_give_the_ledger_s_figures(ledger):
    same_as_ledger()
    same_as_ledger(currency="EUR")
    same_as_ledger(as_of=dt.date(2026, 2, 14))

    stored = MonthSummary.objects.filter(currency="GBP").order_by("month")
    assert [row.month for row in stored] == [
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    ]
    # December: 1000 issued, nothing paid; January: 1600 issued, 400 paid.
    assert [(row.sales, row.ar_close) for row in stored[:2]] == [
        (D("1000.00"), D("1000.00")),
        (D("600.00"), D("1200.00")),
    ]


def test_the_month_to_date_is_read_live_not_stored(ledger):
    same_as_ledger()
    pay(ledger["third"], "50.00", TODAY)

    figures = same_as_ledger()
    # 1000 - 400 - 100 on the first, the second paid, 250 - 50 on the third.
    assert figures[-1].ar_close == D("700.00")


def test_a_payment_dated_today_keeps_the_closed_months(ledger):
    same_as_ledger()
    kept = set(MonthSummary.objects.values_list("pk", flat=True))

    pay(ledger["third"], "50.00", TODAY)

    assert set(MonthSummary.objects.values_list("pk", flat=True)) == kept


def test_a_backdated_payment_forgets_the_months_from_its_date(ledger):
    same_as_ledger()

    pay(ledger["third"], "250.00", dt.date(2026, 3, 20))

    months = set(MonthSummary.objects.filter(currency="GBP").values_list("month", flat=True))
    assert dt.date(2026, 3, 1) not in months and dt.date(2026, 2, 1) in months
    same_as_ledger()


def test_a_backdated_credit_is_counted(ledger):
    same_as_ledger()

    credit(ledger["third"], "20.00", dt.date(2026, 3, 25))

    same_as_ledger()


def test_an_invoice_older_than_every_stored_month_is_counted(ledger):
    same_as_ledger()

    invoice(dt.date(2025, 11, 3), "75.00", customer=ledger["acme"])

    same_as_ledger()
    november = MonthSummary.objects.get(currency="GBP", month=dt.date(2025, 11, 1))
    assert (november.sales, november.ar_close) == (D("75.00"), D("75.00"))


def test_a_changed_invoice_is_counted_from_its_old_and_new_dates(ledger):
    same_as_ledger()

    invoice_update(
        actor=None, invoice=ledger["second"], amount=D("700.00"), issue_date=dt.date(2026, 2, 2)
    )

    same_as_ledger()


def test_imported_payments_and_invoices_are_counted(ledger, tmp_path):
    Invoice.objects.filter(pk=ledger["first"].pk).update(number="INV-OLD")
    same_as_ledger()

    payments = "invoice_number,date,amount,reference\nINV-OLD,2026-02-20,150.00,BANK-9\n"
    import_csv("payments", write_csv(tmp_path, payments, "payments.csv"))
    same_as_ledger()

    invoices = (
        "number,customer_external_id,issue_date,due_date,currency,amount\n"
        "INV-NEW,ACME,2026-01-05,2026-02-04,GBP,320.00\n"
    )
    import_csv("invoices", write_csv(tmp_path, invoices, "invoices.csv"))
    same_as_ledger()


def test_a_collector_s_months_are_stored_apart(ledger, django_user_model):
    colin = django_user_model.objects.create_user("colin")
    ledger["acme"].collector = colin
    ledger["acme"].save()
    invoice(dt.date(2026, 2, 1), "500.00")  # another customer, unassigned

    mine = same_as_ledger(collector_id=colin.pk)
    nobodys = same_as_ledger(unassigned=True)
    everyone = same_as_ledger()

    assert mine[-2].ar_close + nobodys[-2].ar_close == everyone[-2].ar_close
    assert set(MonthSummary.objects.values_list("scope", flat=True)) == {
        "",
        f"collector:{colin.pk}",
        "unassigned",
    }


def test_moving_a_customer_to_another_collector_moves_their_history(ledger, django_user_model):
    colin, cleo = (django_user_model.objects.create_user(name) for name in ("colin", "cleo"))
    ledger["acme"].collector = colin
    ledger["acme"].save()
    same_as_ledger(collector_id=colin.pk)
    same_as_ledger(collector_id=cleo.pk)

    ledger["acme"].collector = cleo
    ledger["acme"].save()

    assert same_as_ledger(collector_id=colin.pk)[-2].ar_close == 0
    assert same_as_ledger(collector_id=cleo.pk)[-2].ar_close > 0
    same_as_ledger(unassigned=True)


def test_a_currency_with_no_invoices_has_no_months():
    assert closed_months(Scope("GBP"), TODAY) == {}
    assert all(f.ar_close == 0 for f in trend(Scope("GBP"), as_of=TODAY, today=TODAY))


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two connections")
@pytest.mark.django_db(transaction=True)
def test_filling_waits_for_a_backdated_payment_being_written():
    inv = invoice(dt.date(2026, 1, 10), "100.00")
    written, errors = threading.Event(), []

    def writer():
        try:
            with transaction.atomic():
                pay(inv, "40.00", dt.date(2026, 2, 10))
                written.set()
                time.sleep(0.5)  # still uncommitted while the months are being filled
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(10)
    months = closed_months(Scope("GBP"), TODAY)
    thread.join()

    assert errors == []
    assert months[dt.date(2026, 2, 1)][1] == D("60.00")  # AR at the end of February
    assert MonthSummary.objects.get(month=dt.date(2026, 2, 1)).ar_close == D("60.00")


def test_a_backdated_payment_has_the_worker_store_the_months_again(
    ledger, django_capture_on_commit_callbacks
):
    same_as_ledger()
    march = {"currency": "GBP", "scope": "", "month": dt.date(2026, 3, 1)}

    with django_capture_on_commit_callbacks(execute=True):  # the tests run tasks at once
        pay(ledger["third"], "10.00", dt.date(2026, 3, 20))

    assert (
        MonthSummary.objects.get(**march).ar_close
        == monthly_figures(as_of=dt.date(2026, 3, 31), currency="GBP", months=1)[0].ar_close
    )
