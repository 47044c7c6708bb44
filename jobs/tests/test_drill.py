"""Drill: the worker running a big import is killed (SIGKILL) halfway through reading.

Nothing is imported (its transaction dies with it), the page shows the job stopped once its
heartbeat is overdue, the task handed out again does not run it a second time, and the admin
confirming again imports the whole file. PostgreSQL only: the worker is another process."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from invoices.import_tasks import import_task
from invoices.models import Customer, ImportBatch, Invoice
from jobs.models import Job, JobKind, JobStatus
from jobs.selectors import job_as_seen, stale_after
from jobs.services import STOPPED

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 200_000
MAPPING = {
    column: column
    for column in ("number", "customer_external_id", "issue_date", "due_date", "amount")
}


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the worker is another process: it needs a database it can reach")


def queued_import(tmp_path) -> Job:
    Customer.objects.create(
        external_id="ACME", name="Acme", timezone="Europe/London", currency="GBP", country="GB"
    )
    path = tmp_path / "big.csv"
    with open(path, "w") as out:
        out.write(",".join(MAPPING) + "\n")
        out.writelines(f"K-{n},ACME,2026-01-05,2026-02-04,{n % 900 + 1}.25\n" for n in range(ROWS))
    return Job.objects.create(
        kind=JobKind.IMPORT,
        title="Import of big.csv",
        total=ROWS,
        params={
            "path": str(path),
            "kind": "invoices",
            "filename": "big.csv",
            "mapping": MAPPING,
            "date_format": "%Y-%m-%d",
            "source": "",
        },
    )


def worker_process(job: Job, tmp_path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "collections_app.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@"
        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    # Progress written every 50 ms and the reading slowed (5 ms a report, every 1,024
    # lines: about a second in all), so the drill sees the reading under way however fast
    # the machine reads 200,000 rows.
    code = (
        "import time; from jobs import progress; progress.PUBLISH_EVERY = 0.05; "
        "from invoices.importing import reader; done = reader.report_done; "
        "reader.report_done = lambda n: (time.sleep(0.005), done(n)); "
        f"from invoices.import_tasks import import_task; import_task({job.pk})"
    )
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_shown_stopped(tmp_path):
    job = queued_import(tmp_path)
    worker = worker_process(job, tmp_path)
    deadline = time.monotonic() + 60
    while not (0 < Job.objects.get(pk=job.pk).done < ROWS):
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        assert time.monotonic() < deadline, "the worker never reported progress"
        time.sleep(0.05)

    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)

    killed = Job.objects.get(pk=job.pk)
    assert killed.status == JobStatus.RUNNING
    assert not job_as_seen(killed, now=timezone.now()).stopped
    later = timezone.now() + stale_after() + timedelta(seconds=1)
    assert job_as_seen(killed, now=later).stopped
    assert not Invoice.objects.exists()
    assert not ImportBatch.objects.exists()

    import_task(job.pk)  # the broker hands the task out again

    assert (Job.objects.get(pk=job.pk).status, Job.objects.get(pk=job.pk).error) == (
        JobStatus.FAILED,
        STOPPED,
    )
    assert not Invoice.objects.exists()

    again = Job.objects.create(kind=JobKind.IMPORT, title=job.title, total=ROWS, params=job.params)
    import_task(again.pk)

    assert Job.objects.get(pk=again.pk).status == JobStatus.DONE
    assert Invoice.objects.count() == ROWS
