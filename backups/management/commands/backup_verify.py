from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backups.checks import restore_checks
from backups.manifest import MANIFEST, MEDIA_HASHES, read_json, read_media_hashes


class Command(BaseCommand):
    help = (
        "Check a restored database and media folder against the backup they came from: "
        "no migration left to apply, the same row counts, the audit trail's chain and head, "
        "every stored file's and media file's SHA-256, balances per customer and the "
        "ledger's own totals. Exits non-zero on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the backup's folder (written by scripts/backup.sh)")
        parser.add_argument("--media-root", help="the restored media folder (default: MEDIA_ROOT)")

    def handle(self, *args, backup, media_root, **options):
        folder = Path(backup)
        for name in (MANIFEST, MEDIA_HASHES):
            if not (folder / name).is_file():
                raise CommandError(f"{folder / name} is missing: not a backup folder.")
        checks = restore_checks(
            read_json(folder / MANIFEST),
            read_media_hashes(folder / MEDIA_HASHES),
            Path(media_root or settings.MEDIA_ROOT),
        )
        for check in checks:
            if check.ok:
                self.stdout.write(self.style.SUCCESS(f"OK      {check.name}: {check.summary}"))
                continue
            self.stdout.write(self.style.ERROR(f"FAILED  {check.name}:"))
            for problem in check.problems:
                self.stdout.write(f"        - {problem}")
        failed = [check.name for check in checks if not check.ok]
        if failed:
            raise CommandError(f"The restore does not match the backup: {', '.join(failed)}.")
        self.stdout.write(self.style.SUCCESS("The restore matches the backup."))
