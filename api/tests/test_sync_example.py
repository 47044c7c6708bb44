"""scripts/sync_example.py run as the accounting system's job would, against a live server."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from invoices.models import Invoice, Payment
from invoices.tests.factories import CustomerFactory

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sync_example.py"
INVOICES_CSV = """number,customer_external_id,issue_date,due_date,amount
S-1,SYNC1,2026-01-05,2026-02-04,100.00
S-2,SYNC1,2026-01-12,2026-02-11,250.50
S-3,SYNC2,2026-01-20,2026-02-19,75
"""
PAYMENTS_CSV = """invoice_number,date,amount,reference,customer_external_id
S-1,2026-02-01,100.00,BANK-881,SYNC1
S-2,2026-02-03,50.50,BANK-882,SYNC1
"""


@pytest.fixture
def files(tmp_path):
    invoices, payments = tmp_path / "invoices.csv", tmp_path / "payments.csv"
    invoices.write_text(INVOICES_CSV)
    payments.write_text(PAYMENTS_CSV)
    return str(invoices), str(payments)


def run(live_server, raw_token, files, *options):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", live_server.url, *options, *files],
        env={**os.environ, "DUNMORE_TOKEN": raw_token},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout


def ledger():
    invoices = {
        i.number: (i.customer.external_id, i.amount, i.open_balance, i.updated_at)
        for i in Invoice.objects.select_related("customer")
    }
    payments = sorted(Payment.objects.values_list("customer__external_id", "amount", "reference"))
    return invoices, payments


@pytest.mark.parametrize("options", [(), ("--no-bulk",)], ids=["bulk", "one-by-one"])
def test_the_files_arrive_and_a_second_run_changes_nothing(live_server, make_token, files, options):
    CustomerFactory(external_id="SYNC1", currency="GBP")
    CustomerFactory(external_id="SYNC2", currency="GBP")
    _token, raw = make_token()

    code, first_output = run(live_server, raw, files, *options)

    assert code == 0, first_output
    assert "invoices: 3 created" in first_output
    assert "payments: 2 created" in first_output
    invoices, payments = ledger()
    assert {number: row[:3] for number, row in invoices.items()} == {
        "S-1": ("SYNC1", Decimal("100.00"), Decimal("0.00")),
        "S-2": ("SYNC1", Decimal("250.50"), Decimal("200.00")),
        "S-3": ("SYNC2", Decimal("75.00"), Decimal("75.00")),
    }
    assert payments == [
        ("SYNC1", Decimal("50.50"), "BANK-882"),
        ("SYNC1", Decimal("100.00"), "BANK-881"),
    ]

    code, second_output = run(live_server, raw, files, *options)

    assert code == 0, second_output
    assert "created" not in second_output
    assert ledger() == (invoices, payments)


def test_a_refused_row_is_named_by_its_line_in_the_file(live_server, make_token, files):
    CustomerFactory(external_id="SYNC1", currency="GBP")  # SYNC2 is unknown
    _token, raw = make_token()

    code, output = run(live_server, raw, files)

    assert code == 1
    assert "line 4" in output and "SYNC2" in output
    # All or nothing: the bulk call with the bad row wrote none of its rows.
    assert not Invoice.objects.exists()


def test_a_read_only_token_is_refused_with_the_reason(live_server, make_token, files):
    _token, raw = make_token(scopes=["read"])

    code, output = run(live_server, raw, files)

    assert code == 1
    assert "write_ledger" in output
