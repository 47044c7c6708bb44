from django.core.management.base import BaseCommand, CommandError

from reports import rollup


class Command(BaseCommand):
    help = (
        "Read today's kept aging (reports.OpenByDue, PostgreSQL) again from the invoices, "
        "after listing where it differed."
    )

    def handle(self, *args, **options):
        if not rollup.available():
            raise CommandError("Aging is kept on PostgreSQL only; on SQLite it reads invoices.")
        differ = rollup.differences()
        for currency, collector, due, kept, ledger in differ:
            self.stdout.write(
                f"{currency} collector {collector or 'none'} due {due}: kept {kept}, "
                f"the invoices give {ledger}"
            )
        rollup.rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"Kept aging rebuilt from the invoices ({len(differ)} keys differed before)."
            )
        )
