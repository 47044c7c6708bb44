from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the audit trail's hash chain and report the first event that was altered."

    def handle(self, *args, **options):
        checked, broken = audit_chain_verify()
        if broken:
            raise CommandError(
                f"Audit trail broken at event #{broken.event_id}: {broken.reason}. "
                f"{checked} events before it are intact."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {checked} events verified."))
