"""The restore checks on the database the tests run on (SQLite or PostgreSQL): a manifest
taken now matches, and each kind of difference is named. The whole backup and restore, with
pg_dump, is drilled in tests/test_restore_drill.py."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from backups.checks import restore_checks
from backups.facts import database_facts
from invoices.models import Invoice
from invoices.services import customer_create, invoice_create, payment_record
from letters.models import Document, DocumentKind
from letters.services import document_store

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 16)


@pytest.fixture
def ledger():
    customer = customer_create(actor=None, external_id="ACME", name="Acme", currency="GBP")
    for number, amount in [("INV-1", "100.00"), ("INV-2", "250.50")]:
        invoice_create(
            actor=None,
            customer=customer,
            number=number,
            issue_date=TODAY,
            due_date=TODAY,
            amount=Decimal(amount),
        )
    payment_record(actor=None, customer=customer, amount=Decimal("60.00"), received_on=TODAY)
    document_store(
        kind=DocumentKind.LETTER, customer_id=customer.pk, filename="a.pdf", content=b"%PDF-1"
    )
    return customer


def problems(manifest, media, root) -> dict[str, list[str]]:
    return {c.name: c.problems for c in restore_checks(manifest, media, root) if not c.ok}


def backed_up() -> dict:
    return {"database": database_facts()}


def test_a_database_matches_the_manifest_taken_from_it(ledger, tmp_path):
    (tmp_path / "imports").mkdir()
    (tmp_path / "imports" / "a.csv").write_bytes(b"x\n")
    media = {"imports/a.csv": hashlib.sha256(b"x\n").hexdigest()}

    assert problems(backed_up(), media, tmp_path) == {}


def test_it_names_a_changed_balance_and_the_invoice_off_its_ledger(ledger, tmp_path):
    manifest = backed_up()
    Invoice.objects.filter(number="INV-2").update(open_balance=Decimal("1.00"))

    found = problems(manifest, {}, tmp_path)

    assert list(found) == ["ledger"]
    assert any("not amount less applied: ['INV-2']" in p for p in found["ledger"])
    assert any(p.startswith(f"customer #{ledger.pk}: owes") for p in found["ledger"])
    assert (
        "GBP: invoiced 350.50, applied 60.00, open 290.50 in the backup, "
        "invoiced 350.50, applied 60.00, open 41.00 restored"
    ) in found["ledger"]


def test_it_names_a_document_whose_bytes_changed_and_one_missing(ledger, tmp_path):
    manifest = backed_up()
    letter = Document.objects.get()
    Document.objects.filter(pk=letter.pk).update(content=b"%PDF-2")
    manifest["database"]["stored_files"]["letters.Document"]["999"] = "0" * 64

    found = problems(manifest, {}, tmp_path)["stored files (letters.Document)"]

    assert f"#{letter.pk}: its bytes do not match its SHA-256 (the file was altered)" in found
    assert "1 missing: #999" in found


def test_it_names_missing_extra_and_changed_media_files(ledger, tmp_path):
    (tmp_path / "kept.csv").write_bytes(b"changed")
    (tmp_path / "extra.csv").write_bytes(b"new")
    media = {"kept.csv": "0" * 64, "gone.csv": "1" * 64}

    assert problems(backed_up(), media, tmp_path)["media files"] == [
        "gone.csv is missing",
        "kept.csv: its SHA-256 differs from the backup's",
        "extra.csv is not in the backup",
    ]


def test_it_names_rows_and_audit_events_missing_from_the_restore(ledger, tmp_path):
    manifest = backed_up()
    manifest["database"]["tables"]["invoices_invoice"] += 1
    manifest["database"]["audit"]["events"] += 1

    found = problems(manifest, {}, tmp_path)

    assert found["row counts"] == ["invoices_invoice: 3 rows in the backup, 2 restored"]
    assert any("events in the backup" in p for p in found["audit trail"])


def test_a_backup_is_taken_from_postgresql_only(tmp_path):
    if connection.vendor == "postgresql":
        pytest.skip("on SQLite only: the refusal")
    with pytest.raises(CommandError, match="Backups are taken from PostgreSQL"):
        call_command("backup_database", str(tmp_path))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="aging is kept on PostgreSQL")
def test_it_names_kept_aging_that_differs_from_the_invoices(ledger, tmp_path):
    manifest = backed_up()
    from reports.models import OpenByDue

    OpenByDue.objects.create(
        currency="GBP", collector=None, due_date=TODAY, invoices=1, amount=Decimal("5.00")
    )

    found = problems(manifest, {}, tmp_path)

    assert list(found) == ["aging kept"]
    assert found["aging kept"] == [
        f"GBP, collector none, due {TODAY}: kept (invoices, balance) (3, Decimal('295.50')), "
        "the invoices give (2, Decimal('290.50'))"
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="past days are kept on PostgreSQL")
def test_it_names_kept_past_days_that_differ_from_the_ledger(ledger, tmp_path):
    manifest = backed_up()
    from reports.models import OpenHistory

    OpenHistory.objects.create(
        currency="GBP",
        on_date=TODAY,
        due_date=TODAY,
        invoices=0,
        amount=Decimal("-5.00"),
        issued=Decimal("0.00"),
    )

    found = problems(manifest, {}, tmp_path)

    assert list(found) == ["past days kept"]
    assert found["past days kept"] == [
        f"GBP on {TODAY}, due {TODAY}: kept (invoices, balance, sales) "
        "(2, Decimal('285.50'), Decimal('350.50')), "
        "the ledger gives (2, Decimal('290.50'), Decimal('350.50'))"
    ]
