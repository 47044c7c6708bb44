from django.core.management.base import BaseCommand, CommandError

from reports import history, rollup


class Command(BaseCommand):
    help = (
        "Read the kept aging (today's, reports.OpenByDue, and the past days', "
        "reports.OpenHistory; PostgreSQL) again from the ledger, after listing where it "
        "differed."
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
        past = history.differences()
        for currency, day, due, kept, ledger in past:
            self.stdout.write(
                f"{currency} on {day} due {due}: kept {kept}, the ledger gives {ledger}"
            )
        history.rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"Kept aging rebuilt from the ledger ({len(differ)} keys of today's and "
                f"{len(past)} of the past days' differed before)."
            )
        )
