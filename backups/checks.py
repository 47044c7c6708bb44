"""A restored database and media folder compared with the backup's manifest, and the
ledger checked against itself. Each check returns what it found: a line saying what was
compared, and the problems (none when it matches)."""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.selectors import audit_chain_verify
from reports import history, rollup

from . import facts
from .manifest import folder_hashes

SHOWN = 10  # problems listed per check; the rest are counted


@dataclass
class Check:
    name: str
    summary: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        self.problems.append(text)


def restore_checks(manifest: dict, media: dict[str, str], media_root: Path) -> list[Check]:
    """manifest: the backup's manifest.json; media: its media files' hashes by path."""
    database = manifest["database"]
    return [
        check_migrations(database["migrations"]),
        check_tables(database["tables"]),
        check_audit(database["audit"]),
        *(
            check_stored_files(label, model, database["stored_files"].get(label, {}))
            for label, model in facts.STORED_FILES.items()
        ),
        check_ledger(database["balances"]),
        check_aging_kept(),
        check_history_kept(),
        check_media(media, media_root),
    ]


def check_migrations(expected: dict[str, str]) -> Check:
    check = Check("migrations")
    applied = facts.latest_migrations()
    for app, name in sorted(expected.items()):
        if applied.get(app) != name:
            check.problem(f"{app}: the backup had {name}, the restore has {applied.get(app)}")
    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if unapplied:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in unapplied[:SHOWN])
        check.problem(
            f"{len(unapplied)} migrations of this code are not applied ({names}): this code is "
            "newer than the backup; run manage.py migrate after checking the restore"
        )
    check.summary = f"{len(expected)} apps at the backup's migrations"
    return check


def check_tables(expected: dict[str, int]) -> Check:
    check = Check("row counts")
    found = facts.table_counts()
    for table, count in sorted(expected.items()):
        if table not in found:
            check.problem(f"table {table} is missing (the backup had {count} rows)")
        elif found[table] != count:
            check.problem(f"{table}: {count} rows in the backup, {found[table]} restored")
    check.summary = f"{len(expected)} tables, {sum(expected.values())} rows"
    return check


def check_audit(expected: dict) -> Check:
    check = Check("audit trail")
    checked, broken = audit_chain_verify()
    if broken:
        check.problem(
            f"broken at event #{broken.event_id}: {broken.reason} "
            f"({checked} events before it are intact)"
        )
    head = facts.audit_head()
    if head["events"] != expected["events"]:
        check.problem(f"{expected['events']} events in the backup, {head['events']} restored")
    if head["last_hash"] != expected["last_hash"]:
        check.problem(
            f"the newest event is not the backup's (#{head['last_id']} restored, "
            f"#{expected['last_id']} in the backup)"
        )
    newest = f", newest #{expected['last_id']}" if expected["last_id"] else ""
    check.summary = f"{expected['events']} events, chain intact{newest}"
    return check


def check_stored_files(label: str, model, expected: dict[str, str]) -> Check:
    """Each row's bytes hash to the SHA-256 stored beside them, which is the backup's."""
    check = Check(f"stored files ({label})")
    seen = set()
    rows = model.objects.order_by("id").values_list("id", "sha256", "content")
    for pk, sha256, content in rows.iterator(chunk_size=200):
        key = str(pk)
        seen.add(key)
        if key not in expected:
            check.problem(f"#{pk} is not in the backup")
        elif sha256 != expected[key]:
            check.problem(f"#{pk}: its recorded SHA-256 differs from the backup's")
        if sha256 and hashlib.sha256(bytes(content)).hexdigest() != sha256:
            check.problem(f"#{pk}: its bytes do not match its SHA-256 (the file was altered)")
    missing = sorted(set(expected) - seen, key=int)
    if missing:
        check.problem(f"{len(missing)} missing: #{', #'.join(missing[:SHOWN])}")
    check.summary = f"{len(expected)} files, each hashed from its bytes"
    return check


def check_ledger(expected: dict) -> Check:
    """Open balances per customer and per currency as backed up, and each currency's open
    total equal to what was invoiced less what was applied."""
    check = Check("ledger")
    totals = facts.ledger_totals()
    for currency, sums in totals.items():
        invoiced, applied, open_ = (Decimal(sums[k]) for k in ("invoiced", "applied", "open"))
        if invoiced - applied != open_:
            check.problem(
                f"{currency}: open balances add up to {open_}, the ledger derives "
                f"{invoiced - applied} (invoiced {invoiced} less applied {applied})"
            )
    backed_up = expected["by_currency"]
    for currency in sorted(set(totals) | set(backed_up)):
        if _d(totals.get(currency)) != _d(backed_up.get(currency)):
            check.problem(
                f"{currency}: {_sums(backed_up.get(currency))} in the backup, "
                f"{_sums(totals.get(currency))} restored"
            )
    off, numbers = facts.invoices_off_ledger(SHOWN)
    if off:
        check.problem(f"{off} invoices' open balance is not amount less applied: {numbers}")
    balances = facts.customer_balances()
    wanted = expected["by_customer"]
    customers = set(wanted) | set(balances)
    differ = sorted(
        (key for key in customers if _d(wanted.get(key)) != _d(balances.get(key))), key=int
    )
    for key in differ[:SHOWN]:
        check.problem(
            f"customer #{key}: owes {wanted.get(key, {})} in the backup, "
            f"{balances.get(key, {})} restored"
        )
    if len(differ) > SHOWN:
        check.problem(f"… and {len(differ) - SHOWN} more customers' balances differ")
    currencies = ", ".join(f"{c} {s['open']}" for c, s in totals.items()) or "nothing"
    check.summary = f"{len(wanted)} customers' balances; open {currencies}"
    return check


def check_aging_kept() -> Check:
    """Today's aging as the database keeps it (reports.rollup) equal to the invoices'."""
    return _kept(
        Check("aging kept"),
        rollup,
        lambda currency, collector, due, kept, ledger: (
            f"{currency}, collector {collector or 'none'}, due {due}: kept (invoices, balance) "
            f"{kept}, the invoices give {ledger}"
        ),
        "open balances by currency, collector and due date",
    )


def check_history_kept() -> Check:
    """The past days as the database keeps them (reports.history) equal to the ledger's."""
    return _kept(
        Check("past days kept"),
        history,
        lambda currency, day, due, kept, ledger: (
            f"{currency} on {day}, due {due}: kept (invoices, balance, sales) {kept}, "
            f"the ledger gives {ledger}"
        ),
        "changes of the open balance by currency, day and due date",
    )


def _kept(check: Check, kept, describe, summary: str) -> Check:
    """A check of figures the database keeps (kept: reports.rollup or reports.history)."""
    if not kept.available():
        check.summary = "not kept on this database"
        return check
    differ = kept.differences()
    for row in differ[:SHOWN]:
        check.problem(describe(*row))
    if len(differ) > SHOWN:
        check.problem(f"… and {len(differ) - SHOWN} more differ")
    check.summary = summary
    return check


def check_media(expected: dict[str, str], media_root: Path) -> Check:
    check = Check("media files")
    found = folder_hashes(media_root) if media_root.is_dir() else {}
    for name, sha256 in sorted(expected.items()):
        if name not in found:
            check.problem(f"{name} is missing")
        elif found[name] != sha256:
            check.problem(f"{name}: its SHA-256 differs from the backup's")
    for name in sorted(set(found) - set(expected)):
        check.problem(f"{name} is not in the backup")
    check.summary = f"{len(expected)} files in {media_root}"
    return check


def _d(balances: dict | None) -> dict:
    return {currency: Decimal(value) for currency, value in (balances or {}).items()}


def _sums(sums: dict | None) -> str:
    if not sums:
        return "nothing"
    return ", ".join(f"{key} {sums[key]}" for key in ("invoiced", "applied", "open"))
