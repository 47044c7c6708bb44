import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

# Benchmark name -> dotted path of a function(*, rows, say) returning a dict of figures whose
# keys end in their unit. Other apps add their benchmarks here.
BENCHMARKS = {
    "import": "invoices.bench.bench_import",
    "dunning": "dunning.bench.bench_dunning",
    "letters": "letters.bench.bench_letters",
    "pages": "workspace.bench.bench_pages",
    "reports": "reports.bench.bench_reports",
    "payment_event": "portal.payments.bench.bench_payment_event",
    "api": "api.bench.bench_api",
    "load": "loadtest.bench.bench_load",
}


class Command(BaseCommand):
    help = (
        "Run a named benchmark against the configured database. Progress goes first; the last "
        "line is one JSON object of figures."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(BENCHMARKS))
        parser.add_argument("--rows", type=int, default=None, help="size of the run")

    def handle(self, *args, name, rows, **options):
        if rows is not None and rows < 1:
            raise CommandError("--rows must be at least 1.")
        bench = import_string(BENCHMARKS[name])
        kwargs = {"rows": rows} if rows is not None else {}
        figures = bench(say=self.stdout.write, **kwargs)
        self.stdout.write(json.dumps(figures))
