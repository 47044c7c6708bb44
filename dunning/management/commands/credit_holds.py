import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...credit_hold import credit_holds_apply


class Command(BaseCommand):
    help = (
        "Apply the credit-hold rule now (the schedule does it every hour): put accounts out "
        "of terms on credit hold and lift the rule's holds of accounts back in terms."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="The day to judge overdue invoices on (YYYY-MM-DD)")

    def handle(self, *args, **options):
        as_of_date = timezone.localdate()
        if options["as_of"]:
            try:
                as_of_date = dt.date.fromisoformat(options["as_of"])
            except ValueError as error:
                raise CommandError(f"--as-of: {error}; use YYYY-MM-DD.") from error
        result = credit_holds_apply(as_of_date=as_of_date)
        self.stdout.write(
            f"Credit holds as of {as_of_date.isoformat()}: {len(result.held):,} set, "
            f"{len(result.released):,} released."
        )
