from django.core.management.base import BaseCommand, CommandError

from invoices.importing import HeaderError, ImportRejected, import_run, parse_mapping
from invoices.importing.reader import CONTROL
from invoices.models import ColumnMapping, ImportKind


def printable(text: str) -> str:
    """Control characters quoted from the file, shown as \\xNN: printed raw, an escape
    sequence in a bad row could rewrite the terminal of whoever runs the import."""
    return CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


class Command(BaseCommand):
    help = (
        "Import customers, invoices or payments from a CSV file, all or nothing. Any bad row "
        "imports nothing and every bad row is listed with its line number. Importing the same "
        "file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", help="a UTF-8 CSV file with a header row")
        parser.add_argument(
            "--map",
            dest="mapping",
            default=None,
            help='rename the file\'s headers: "Their Header=our_column,Other=our_column2"',
        )
        parser.add_argument(
            "--date-format",
            default=None,
            help="strptime format of the file's dates, e.g. %%m/%%d/%%Y (default %%Y-%%m-%%d)",
        )
        parser.add_argument(
            "--source",
            default="",
            help="the system the file comes from; a mapping saved for it in the browser is "
            "used unless --map or --date-format say otherwise",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count only")

    def handle(self, *args, kind, file, mapping, date_format, source, dry_run, **options):
        saved = ColumnMapping.objects.filter(kind=kind, source=source).first() if source else None
        try:
            columns = parse_mapping(mapping) if mapping is not None else {}
        except HeaderError as exc:
            raise CommandError(f"--map: {exc}") from None
        if mapping is None and saved:
            columns = saved.mapping
        date_format = date_format or (saved.date_format if saved else None) or "%Y-%m-%d"
        try:
            with open(file, "rb") as stream:
                result = import_run(
                    kind=kind,
                    file=stream,
                    filename=file,
                    label="import_csv command",
                    mapping=columns,
                    date_format=date_format,
                    source=source,
                    dry_run=dry_run,
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        except ImportRejected as exc:
            self._notes(exc.ignored, [])
            raise CommandError(
                f"{file}: {len(exc.errors)} problem(s); nothing was imported.\n"
                + "\n".join(printable(error) for error in exc.errors)
            ) from None
        self._notes(result.ignored, result.unmatched)
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {result.rows} {kind} row(s) from {result.filename}: "
            f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
            + (f" (batch {result.batch.pk})" if result.batch else " (dry run: nothing written)")
        )
        for note in result.notes:
            self.stdout.write(printable(note))

    def _notes(self, ignored: list[str], unmatched: list[str]) -> None:
        if ignored:
            self.stdout.write(
                printable(f"Ignored column(s) not used by this import: {', '.join(ignored)}")
            )
        if unmatched:
            self.stdout.write(
                printable(f"--map names column(s) not in the file: {', '.join(unmatched)}")
            )
