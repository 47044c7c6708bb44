import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from ...queue import queue_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the collectors' queue from the ledger now (every dunning run keeps it "
        "current; use this after an upgrade or a restore). Sends and records nothing."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        planned = queue_rebuild(as_of=timezone.now())
        self.stdout.write(
            f"Queue rebuilt: {planned:,} customers planned in {time.perf_counter() - started:.1f}s."
        )
