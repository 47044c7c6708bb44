from django.core.management.base import BaseCommand
from django.utils import timezone

from dunning.demo import demo_history
from dunning.planning import dunning_run
from letters.demo import demo_letterhead_set


class Command(BaseCommand):
    help = (
        "Demo only: put a few chronic late payers far up the ladder and plan once, so final "
        "demand letters (sent by the worker) and legal referrals are there to see. Does "
        "nothing once any chase exists."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        if demo_letterhead_set():
            self.stdout.write("Set the demo letterhead: address, company and VAT numbers, bank.")
        moved = demo_history(now=now)
        if not moved:
            self.stdout.write("Dunning history is already there; nothing to do.")
            return
        planned = sum(1 for result in dunning_run(as_of=now) if result.touch_id)
        self.stdout.write(
            self.style.SUCCESS(
                f"Put {moved} customers far up the ladder and planned {planned} actions; "
                "the worker sends what is due."
            )
        )
