import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from invoices.demo import DEMO_USERS, demo_data_present, demo_load, demo_users_ensure


class Command(BaseCommand):
    help = (
        "Load demo data: a few hundred customers with realistic payment habits relative to "
        "today, and one demo login per role. Does nothing if the demo data is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300, help="default 300")
        parser.add_argument("--seed", type=int, default=2026, help="same seed, same data")
        parser.add_argument(
            "--logins", action="store_true", help="only print the demo logins and exit"
        )
        parser.add_argument(
            "--no-logins",
            action="store_true",
            help="do not print the logins at the end (make demo prints them once it serves)",
        )

    def handle(self, *args, customers, seed, logins, no_logins, **options):
        if logins:
            self._print_logins()
            return
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        self._say("Creating the demo logins…")
        demo_users_ensure()
        if demo_data_present():
            self._say("Demo data is already loaded; nothing to do.")
        else:
            started = time.monotonic()
            self._say(f"Loading the demo ledger: {customers:,} customers…")
            summary = demo_load(
                customers=customers, seed=seed, today=timezone.localdate(), progress=self._say
            )
            self._say(
                self.style.SUCCESS(
                    f"Loaded {summary.customers} customers, {summary.contacts} contacts, "
                    f"{summary.invoices} invoices, {summary.payments} payments, "
                    f"{summary.disputes} disputes and {summary.write_offs} write-offs "
                    f"in {time.monotonic() - started:.1f}s."
                )
            )
        if not no_logins:
            self._print_logins()

    def _say(self, line: str) -> None:
        # Flushed line by line: through a pipe (make, a log) the progress would otherwise
        # arrive all at once at the end.
        self.stdout.write(line)
        self.stdout.flush()

    def _print_logins(self):
        self.stdout.write("  Demo logins (username / password):")
        for user in DEMO_USERS:
            self.stdout.write(f"    {user.role:<10} {user.username} / {user.password}")
