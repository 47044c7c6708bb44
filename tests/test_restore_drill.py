"""The restore drill: a small but real ledger (customers in two currencies, invoices,
payments, a credit note, a dispute, a final demand letter rendered to PDF, an invoice copy,
signed terms, an upload waiting in the media folder, the audit trail they wrote) is backed
up with scripts/backup.sh and restored with scripts/restore.sh into a database and a media
folder of its own, as an operator would. An invoice written while pg_dump runs is in neither
the dump nor its manifest, and the restore matches the ledger as the dump saw it. A media
file, an audit event, a document or a balance changed after the restore makes the check fail,
saying what differs.

PostgreSQL only: backups are pg_dump archives. The restore goes into a new database created
here (dunmore_restore_…) and dropped at the end."""

import datetime as dt
import hashlib
import os
import re
import secrets
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Sum
from django.urls import reverse

from audit.models import AuditEvent
from invoice_copies.services import copy_attach
from invoice_copies.tests.pdfs import pdf_bytes
from invoices.models import Customer, DisputeReason, Invoice
from invoices.selectors import OUTSTANDING
from invoices.services import (
    credit_note_issue,
    customer_create,
    dispute_open,
    invoice_create,
    payment_record,
)
from invoices.tests.factories import ContactFactory
from letters.defaults import shipped_text
from letters.models import Document, DocumentKind
from letters.render import Parts, context_build, letter_pdf
from letters.services import document_store, print_queue_add, signed_terms_attach

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCRIPTS = Path(settings.BASE_DIR) / "scripts"
TODAY = dt.date(2026, 3, 16)
CSV = b"number,customer,issued,due,amount\nX-1,ACME,2026-03-01,2026-03-31,120.00\n"


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("backups are pg_dump archives: the restore drill runs on PostgreSQL")


def _url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    )


@pytest.fixture
def new_database():
    """The name of a database that does not exist yet; dropped afterwards."""
    name = f"dunmore_restore_{secrets.token_hex(4)}"
    yield name
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database: str, media: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "collections_app.settings",
        "DEBUG": "false",
        "SECRET_KEY": "restore-drill-" + secrets.token_urlsafe(32),
        "DATABASE_URL": _url(database),
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "ERROR",
    }


def run(script: str, *args: str, database: str, media: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPTS / script) if script.endswith(".sh") else script, *args],
        cwd=settings.BASE_DIR,
        env=_env(database, media),
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(*args: str, database: str, media: Path) -> subprocess.CompletedProcess:
    python = str(Path(settings.BASE_DIR) / ".venv" / "bin" / "python")
    return run(python, "manage.py", *args, database=database, media=media)


def a_ledger(client, media: Path) -> None:
    """Written through the services, as the app writes it: every step leaves its audit event."""
    gbp = customer_create(actor=None, external_id="ACME", name="Acme Tools Ltd", currency="GBP")
    eur = customer_create(actor=None, external_id="BRIX", name="Brix GmbH", currency="EUR")
    contact = ContactFactory(customer=gbp, name="Priya Shah", address="4 Dock Road\nHull")
    invoices = [
        invoice_create(
            actor=None,
            customer=customer,
            number=number,
            issue_date=TODAY - dt.timedelta(days=60),
            due_date=TODAY - dt.timedelta(days=30),
            amount=Decimal(amount),
        )
        for customer, number, amount in [
            (gbp, "INV-1", "1200.00"),
            (gbp, "INV-2", "350.25"),
            (gbp, "INV-3", "99.99"),
            (eur, "RE-1", "5000.00"),
            (eur, "RE-2", "80.10"),
        ]
    ]
    payment_record(actor=None, customer=gbp, amount=Decimal("400.00"), received_on=TODAY)
    payment_record(actor=None, customer=eur, amount=Decimal("80.10"), received_on=TODAY)
    credit_note_issue(
        actor=None,
        invoice=invoices[2],
        amount=Decimal("9.99"),
        reason="Damaged box",
        issued_on=TODAY,
    )
    dispute_open(actor=None, invoice=invoices[3], reason=DisputeReason.PRICING, opened_on=TODAY)
    context = context_build(
        customer=gbp,
        contact=contact,
        invoices=[
            {"number": i.number, "due_date": i.due_date, "balance": i.open_balance}
            for i in Invoice.objects.filter(customer=gbp, status__in=OUTSTANDING)
        ],
        today=TODAY,
        step="Final demand",
        deadline=TODAY + dt.timedelta(days=14),
        deadline_days=14,
    )
    letter = letter_pdf(Parts(**shipped_text("final_demand"), name="Final demand"), context)
    print_queue_add(
        document=document_store(
            kind=DocumentKind.LETTER,
            customer_id=gbp.pk,
            filename="final-demand-ACME.pdf",
            content=letter,
        )
    )
    copy_attach(actor=None, invoice=invoices[0], filename="INV-1.pdf", content=pdf_bytes("INV-1"))
    signed_terms_attach(
        actor=None, customer=eur, filename="terms.pdf", content=pdf_bytes("Brix terms")
    )
    # An upload waiting between the import's steps: the media folder's only kind of file.
    response = client.post(
        reverse("import:start"),
        {
            "kind": "invoices",
            "source": "Ledgerly",
            "file": SimpleUploadedFile("export.csv", CSV, content_type="text/csv"),
        },
    )
    assert response.status_code == 302
    assert [p.name for p in (media / "imports").iterdir()]


def backup_and_restore(client, tmp_path: Path, settings, target: str, during=None) -> dict:
    """The ledger, backed up and restored into the target database. during: written to the
    ledger while pg_dump runs (held back by a lock it waits for, after its snapshot)."""
    media, restored = tmp_path / "media", tmp_path / "restored-media"
    settings.MEDIA_ROOT = media
    a_ledger(client, media)
    source = connection.settings_dict["NAME"]

    args = [str(SCRIPTS / "backup.sh"), str(tmp_path / "backups")]
    with psycopg.connect(_url(source)) as blocker:
        if during:
            # A table the ledger's writes leave alone: pg_dump, which locks every table after
            # taking its snapshot, waits for it while `during` commits.
            blocker.execute("LOCK TABLE reports_cachedpart IN ACCESS EXCLUSIVE MODE")
        backup = subprocess.Popen(
            args,
            cwd=settings.BASE_DIR,
            env=_env(source, media),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if during:
            _wait_for_pg_dump_to_wait(source)
            during()
        blocker.rollback()
        out, err = backup.communicate(timeout=120)
    assert backup.returncode == 0, err
    folder = Path(out.strip().splitlines()[-1])
    restore = run("restore.sh", str(folder), database=target, media=restored)
    return {"folder": folder, "media": media, "restored": restored, "restore": restore}


def _wait_for_pg_dump_to_wait(database: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = _rows(
            "postgres",
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' "
            f"AND datname = '{database}' AND wait_event_type = 'Lock'",
        )
        if waiting[0][0]:
            return
        time.sleep(0.1)
    raise AssertionError("pg_dump never reached the locked table")


def _rows(name: str, sql: str) -> list[tuple]:
    with psycopg.connect(_url(name)) as db:
        return db.execute(sql).fetchall()


def _hashes(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_a_backup_restores_into_a_new_database_and_media_folder_that_match_it(
    admin_client_, tmp_path, settings, new_database
):
    backed_up = {}

    def meanwhile():
        # What the backup holds: the ledger as it was when pg_dump took its snapshot.
        backed_up["balances"] = list(_balances())
        backed_up["events"] = list(AuditEvent.objects.order_by("id").values_list("id", "hash"))
        invoice_create(
            actor=None,
            customer=Customer.objects.get(external_id="ACME"),
            number="INV-LATE",
            issue_date=TODAY,
            due_date=TODAY,
            amount=Decimal("10.00"),
        )

    drill = backup_and_restore(admin_client_, tmp_path, settings, new_database, meanwhile)

    restore = drill["restore"]
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "OK      audit trail" in restore.stdout
    assert "The restore matches the backup." in restore.stdout
    assert (
        _rows(
            new_database,
            "SELECT c.external_id, i.currency, SUM(i.open_balance) FROM invoices_invoice i "
            "JOIN invoices_customer c ON c.id = i.customer_id "
            "WHERE i.status IN ('open', 'in_dispute') GROUP BY 1, 2 ORDER BY 1",
        )
        == backed_up["balances"]
    )
    assert backed_up["balances"] == [
        ("ACME", "GBP", Decimal("1240.25")),
        ("BRIX", "EUR", Decimal("5000.00")),
    ]
    assert (
        _rows(new_database, "SELECT id, hash FROM audit_auditevent ORDER BY id")
        == (backed_up["events"])
    )
    assert _rows(
        new_database, "SELECT kind, sha256, content FROM letters_document ORDER BY id"
    ) == [(d.kind, d.sha256, bytes(d.content)) for d in Document.objects.order_by("id")]
    assert Document.objects.count() == 3
    assert _hashes(drill["restored"]) == _hashes(drill["media"])
    assert len(_hashes(drill["media"])) == 1
    # Written during the dump: in the ledger, not in the backup, nor in its manifest.
    assert Invoice.objects.filter(number="INV-LATE").exists()
    assert _rows(new_database, "SELECT COUNT(*) FROM invoices_invoice") == [(5,)]


def _balances():
    return (
        Invoice.objects.filter(status__in=OUTSTANDING)
        .values_list("customer__external_id", "currency")
        .annotate(open=Sum("open_balance"))
        .order_by("customer__external_id")
    )


def test_a_changed_restore_fails_its_check_and_is_redone_only_when_forced(
    admin_client_, tmp_path, settings, new_database
):
    drill = backup_and_restore(admin_client_, tmp_path, settings, new_database)
    assert drill["restore"].returncode == 0, drill["restore"].stdout + drill["restore"].stderr
    restored = drill["restored"]
    (upload,) = (restored / "imports").iterdir()
    upload.write_bytes(upload.read_bytes().replace(b"120.00", b"920.00"))
    with psycopg.connect(_url(new_database), autocommit=True) as db:
        # The append-only trigger refuses this to the app; a superuser can switch it off.
        db.execute("SET session_replication_role = replica")
        db.execute(
            "UPDATE audit_auditevent SET summary = summary || ' (edited)' "
            "WHERE id = (SELECT MIN(id) FROM audit_auditevent WHERE action LIKE 'ledger.payment%')"
        )
        db.execute(
            "UPDATE letters_document SET content = content || '\\x00'::bytea WHERE kind = 'letter'"
        )
        db.execute("UPDATE invoices_invoice SET open_balance = 1.00 WHERE number = 'INV-2'")
    event = AuditEvent.objects.filter(action__startswith="ledger.payment").order_by("id").first()
    letter = Document.objects.get(kind=DocumentKind.LETTER)

    check = manage("backup_verify", str(drill["folder"]), database=new_database, media=restored)

    assert check.returncode != 0
    out = check.stdout
    assert f"imports/{upload.name}: its SHA-256 differs from the backup's" in out
    assert f"broken at event #{event.pk}: its contents were altered" in out
    assert f"#{letter.pk}: its bytes do not match its SHA-256" in out
    assert "1 invoices' open balance is not amount less applied: ['INV-2']" in out
    assert re.search(r"GBP: open balances add up to [\d.]+, the ledger derives 1240\.25", out)
    assert "customer #" in out and "'GBP': '1240.25'" in out
    assert "OK      row counts" in out  # what was not touched still matches
    assert "The restore does not match the backup" in check.stderr

    refused = run("restore.sh", str(drill["folder"]), database=new_database, media=restored)
    forced = run(
        "restore.sh", "--force", str(drill["folder"]), database=new_database, media=restored
    )

    assert refused.returncode != 0
    assert f"the database {new_database} already holds" in refused.stderr
    assert "add --force" in refused.stderr
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "The restore matches the backup." in forced.stdout
