import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from invoices.models import Customer, ImportBatch, Invoice

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the import benchmark measures PostgreSQL"
)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the SQLite refusal")
def test_bench_import_refuses_to_run_on_sqlite():
    with pytest.raises(CommandError, match="bench import measures PostgreSQL"):
        call_command("bench", "import", "--rows", "10", stdout=StringIO())


@on_postgres
def test_bench_import_ends_with_its_figures_as_json():
    out = StringIO()

    call_command("bench", "import", "--rows", "300", stdout=out)

    figures = json.loads(out.getvalue().splitlines()[-1])
    assert figures["rows"] == 300
    assert figures["rows_per_s"] > 0
    assert {"wall_s", "peak_mb", "cpus"} <= figures.keys()


@on_postgres
def test_bench_import_leaves_no_rows_behind():
    call_command("bench", "import", "--rows", "300", stdout=StringIO())

    assert not Invoice.objects.exists()
    assert not Customer.objects.exists()
    assert not ImportBatch.objects.exists()
