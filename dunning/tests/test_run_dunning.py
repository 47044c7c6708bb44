import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_q.models import Schedule

from audit.models import AuditEvent
from dunning.models import Run, Touch, TouchStatus
from dunning.schedule import schedule_ensure
from dunning.tasks import run_dunning_task

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

AS_OF = MONDAY_10.isoformat()


def run(*args) -> str:
    out = StringIO()
    call_command("run_dunning", "--as-of", AS_OF, *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.usefixtures("ladder")
def test_the_command_prints_each_customer_with_the_step_and_reason():
    customer = overdue_customer(days=3)

    output = run()

    assert f"{customer.external_id} {customer.name}: pending — Friendly reminder" in output


@pytest.mark.django_db
@pytest.mark.usefixtures("ladder")
def test_the_json_format_prints_one_object_per_line():
    customer = overdue_customer(days=3)

    lines = run("--format", "json", "--dry-run").splitlines()

    record = json.loads(lines[0])
    assert (record["customer"], record["step"], record["channel"]) == (
        customer.external_id,
        "Friendly reminder",
        "email",
    )
    assert record["invoices"] == [customer.invoices.get().number]
    assert {"status", "reason"} <= set(record)


@pytest.mark.django_db
@pytest.mark.usefixtures("ladder")
def test_the_command_can_run_for_one_customer():
    overdue_customer(days=3)
    chosen = overdue_customer(days=3)

    run("--customer", chosen.external_id)

    assert list(Touch.objects.values_list("customer_id", flat=True)) == [chosen.pk]


@pytest.mark.django_db
@pytest.mark.usefixtures("ladder")
def test_the_command_explains_a_customer_with_nothing_due():
    customer = overdue_customer(days=-10)

    output = run("--customer", customer.external_id, "--dry-run")

    assert "waiting" in output


@pytest.mark.django_db
@pytest.mark.usefixtures("ladder")
def test_the_task_runs_a_whole_cycle(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)
    overdue_customer(days=3)

    done = run_dunning_task()

    assert Touch.objects.get().status == TouchStatus.SENT
    run = Run.objects.get()
    assert (run.started_at, run.finished_at, run.succeeded) == (MONDAY_10, MONDAY_10, True)
    assert run.touches == done > 0


@pytest.mark.django_db
@pytest.mark.usefixtures("ladder")
def test_a_run_that_fails_is_recorded_as_failed_and_old_records_go(time_machine, monkeypatch):
    time_machine.move_to(MONDAY_10, tick=False)
    Run.objects.create(started_at=MONDAY_10 - dt.timedelta(days=91))
    kept = Run.objects.create(started_at=MONDAY_10 - dt.timedelta(days=89))

    def fails(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("dunning.tasks.dunning_cycle_stream", fails)
    with pytest.raises(RuntimeError):
        run_dunning_task()

    failed = Run.objects.exclude(pk=kept.pk).get()
    assert (failed.succeeded, failed.finished_at) == (False, MONDAY_10)
    assert failed.error == "RuntimeError: the database went away"
    assert Run.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("ladder")
def test_the_schedule_exists_once_however_often_it_is_ensured():
    schedule_ensure()
    schedule_ensure()

    schedule = Schedule.objects.get(func="dunning.tasks.run_dunning_task")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 15)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ladder")
def test_two_runs_at_once_in_two_processes_send_one_message_per_customer():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    customers = [overdue_customer(days=3) for _ in range(30)]
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "collections_app.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    manage = Path(settings.BASE_DIR) / "manage.py"
    command = [sys.executable, str(manage), "run_dunning", "--as-of", AS_OF]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE) for _ in range(2)]
    for worker in workers:
        worker.communicate(timeout=120)
        assert worker.returncode == 0

    sent = Touch.objects.filter(status=TouchStatus.SENT)
    assert sorted(sent.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)
    # Each accepted send writes one event: the backend's own outbox dies with its process.
    assert AuditEvent.objects.filter(action="dunning.email.sent").count() == len(customers)
