import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.backends.postgresql.client import DatabaseClient

from backups.facts import database_facts
from backups.manifest import (
    DUMP,
    FORMAT,
    MANIFEST,
    MEDIA_HASHES,
    MEDIA_TAR,
    file_sha256,
    write_json,
)


class Command(BaseCommand):
    help = (
        "Dump the database with pg_dump (custom format) and write the backup's manifest.json: "
        "the dump's SHA-256 and what it holds (row counts, migrations, the audit trail's head, "
        "stored files' hashes, balances), read from the dump's own snapshot."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="an existing, empty folder for the backup's files")

    def handle(self, *args, directory, **options):
        folder = Path(directory)
        if connection.vendor != "postgresql":
            raise CommandError("Backups are taken from PostgreSQL (DATABASE_URL=postgres://…).")
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        if shutil.which("pg_dump") is None:
            raise CommandError("pg_dump was not found: install PostgreSQL's client tools.")
        dump = folder / DUMP
        # 1. A read-only snapshot, exported so that pg_dump reads exactly what we read.
        # 2. pg_dump inside it, while this transaction stays open to keep it alive.
        # 3. The facts, from the same snapshot: the manifest describes the dump, not the
        #    database a moment later.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), now(), current_setting('server_version')")
            snapshot, taken_at, server_version = cursor.fetchone()
            self._dump(snapshot, dump)
            facts = database_facts()
        write_json(
            folder / MANIFEST,
            {
                "format": FORMAT,
                "database": {
                    "file": DUMP,
                    "sha256": file_sha256(dump),
                    "size": dump.stat().st_size,
                    "taken_at": taken_at.astimezone(dt.UTC).isoformat(),
                    "server_version": server_version,
                    **facts,
                },
                # Archived after the dump by backup.sh; hashed file by file in media.sha256.
                "media": {"archive": MEDIA_TAR, "hashes": MEDIA_HASHES},
            },
        )
        self.stdout.write(f"Database dumped: {dump} ({dump.stat().st_size} bytes)")

    def _dump(self, snapshot: str, dump: Path) -> None:
        args, env = DatabaseClient.settings_to_cmd_args_env(
            connection.settings_dict,
            ["--format=custom", f"--snapshot={snapshot}", f"--file={dump}", "--no-password"],
        )
        args[0] = "pg_dump"
        result = subprocess.run(
            args, env={**os.environ, **(env or {})}, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
