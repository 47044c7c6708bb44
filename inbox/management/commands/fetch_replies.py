from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inbox.imap import replies_fetch_configured


class Command(BaseCommand):
    help = "Fetch unseen replies from the INBOX_IMAP_URL mailbox, once."

    def handle(self, *args, **options):
        if not settings.INBOX_IMAP_URL:
            raise CommandError("INBOX_IMAP_URL is not set.")
        stored = replies_fetch_configured()
        self.stdout.write(f"{stored} new repl{'y' if stored == 1 else 'ies'} stored.")
