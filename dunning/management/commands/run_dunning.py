import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from invoices.models import Customer

from ...services import dunning_cycle_stream


class Command(BaseCommand):
    help = (
        "Run dunning: settle promises and plans, plan and record due steps, deliver due "
        "messages. Prints per customer what it did (or, with --dry-run, would do) and why."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="ISO date-time (default: now; naive = UTC)")
        parser.add_argument("--dry-run", action="store_true", help="plan only; write nothing")
        parser.add_argument("--customer", help="only this customer (external id)")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, as_of, dry_run, customer, format, **options):
        moment = timezone.now()
        if as_of:
            moment = parse_datetime(as_of)
            if moment is None:
                raise CommandError(f"--as-of {as_of!r} is not an ISO date-time.")
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=dt.UTC)
        customer_ids = None
        if customer:
            pk = Customer.objects.filter(external_id=customer).values_list("pk", flat=True)
            if not pk:
                raise CommandError(f"No customer with external id {customer!r}.")
            customer_ids = list(pk)
        results = dunning_cycle_stream(
            as_of=moment, dry_run=dry_run, customer_ids=customer_ids, explain=bool(customer)
        )
        count, customers = 0, set()
        for result in results:  # printed as each chunk of customers is recorded
            count += 1
            customers.add(result.customer_id)
            if format == "json":
                self.stdout.write(result.as_json())
            else:
                invoices = ", ".join(result.invoices)
                what = " ".join(
                    p for p in (result.step, f"({result.channel})" if result.channel else "") if p
                )
                self.stdout.write(
                    f"{result.customer} {result.name}: {result.status}"
                    + (f" — {what}" if what else "")
                    + (f" [{invoices}]" if invoices else "")
                    + f": {result.reason}"
                )
        if format == "text":
            verb = "would act on" if dry_run else "acted on"
            self.stdout.write(
                f"{count} result(s); {verb} {len(customers)} "
                f"customer(s) as of {moment.isoformat()}."
            )
