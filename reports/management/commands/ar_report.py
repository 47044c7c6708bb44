import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from invoices import safe_csv
from reports.aging import DEFAULT_EDGES, aging, buckets_for
from reports.metrics import currencies_in_use, monthly_figures


def _number(value):
    return None if value is None else float(value)


class Command(BaseCommand):
    help = (
        "Print aging and DSO / best possible DSO / ADD / CEI for the month ending on --as-of, "
        "per currency, as JSON or CSV (amounts as decimal strings)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", required=True, help="YYYY-MM-DD, today or earlier")
        parser.add_argument("--currency", default="", help="one currency; default: each in use")
        parser.add_argument("--format", choices=("json", "csv"), default="json")

    def handle(self, *args, as_of, currency, format, **options):
        today = timezone.localdate()
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise CommandError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD).") from None
        if day > today:
            raise CommandError(f"--as-of {day} is in the future; reports look back.")
        currency = currency.upper()
        known = currencies_in_use()
        if currency and currency not in known:
            raise CommandError(f"No invoices in {currency}; in use: {', '.join(known) or 'none'}.")
        reports = [self._report(day, today, cur) for cur in ([currency] if currency else known)]
        if format == "json":
            body = reports[0] if currency else reports
            self.stdout.write(json.dumps(body, indent=2))
        else:
            self._csv(reports)

    def _report(self, day, today, currency) -> dict:
        buckets = buckets_for(DEFAULT_EDGES)
        rows = aging(as_of=day, today=today, buckets=buckets, currency=currency)
        row = rows[0] if rows else None
        month = monthly_figures(as_of=day, currency=currency, months=1)[-1]
        return {
            "as_of": day.isoformat(),
            "currency": currency,
            "buckets": [
                {
                    "label": bucket.key,
                    "count": row.counts[i] if row else 0,
                    "amount": str(row.amounts[i]) if row else "0.00",
                }
                for i, bucket in enumerate(buckets)
            ],
            "total_open": str(row.total) if row else "0.00",
            "dso": _number(month.dso),
            "best_possible_dso": _number(month.best_dso),
            "add": _number(month.add),
            "cei": _number(month.cei),
        }

    def _csv(self, reports):
        writer = safe_csv.writer(self.stdout, lineterminator="\n")
        labels = [b["label"] for b in reports[0]["buckets"]] if reports else []
        writer.writerow(
            ["as_of", "currency"]
            + [f"{label} count" for label in labels]
            + [f"{label} amount" for label in labels]
            + ["total_open", "dso", "best_possible_dso", "add", "cei"]
        )
        for r in reports:
            writer.writerow(
                [r["as_of"], r["currency"]]
                + [b["count"] for b in r["buckets"]]
                + [b["amount"] for b in r["buckets"]]
                + [r["total_open"]]
                + ["" if r[k] is None else r[k] for k in ("dso", "best_possible_dso", "add", "cei")]
            )
