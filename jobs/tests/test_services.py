"""A job's life in the worker: claimed, run with a heartbeat, ended done or failed."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from invoices.models import Customer
from invoices.tests.factories import CustomerFactory
from jobs.models import Job, JobKind, JobStatus
from jobs.progress import report_done, report_phase
from jobs.selectors import STALE_AFTER, job_as_seen, stale_after
from jobs.services import STOPPED, JobFailed, Outcome, job_run


def queued_job(**fields) -> Job:
    return Job.objects.create(kind=JobKind.IMPORT, title="Import of big.csv", **fields)


@pytest.mark.django_db
def test_a_job_that_finishes_is_done_with_where_its_result_is():
    job = queued_job(total=10)

    job_run(job_id=job.pk, work=lambda job: Outcome("/import/batches/7/"))

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.result_url == "/import/batches/7/"
    assert (job.done, job.total) == (10, 10)
    assert job.started_at <= job.finished_at


@pytest.mark.django_db
def test_work_refused_for_a_reason_fails_the_job_with_that_reason():
    job = queued_job()

    def work(job):
        raise JobFailed("Nothing was imported: 2 problem(s) in the file.", result={"errors": ["a"]})

    job_run(job_id=job.pk, work=work)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "Nothing was imported: 2 problem(s) in the file."
    assert job.result == {"errors": ["a"]}


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_job_and_leaves_nothing_half_done(caplog):
    job = queued_job()

    def work(job):
        with transaction.atomic():
            CustomerFactory(external_id="HALF-DONE")
            raise RuntimeError("disk full")

    job_run(job_id=job.pk, work=work)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped on an unexpected error. Nothing was changed." in job.error
    assert f"job {job.pk}" in job.error
    assert not Customer.objects.filter(external_id="HALF-DONE").exists()
    assert "disk full" in caplog.text


@pytest.mark.django_db
def test_a_task_handed_out_again_after_its_worker_died_marks_the_job_stopped():
    job = queued_job(status=JobStatus.RUNNING, started_at=timezone.now())
    ran = []

    job_run(job_id=job.pk, work=ran.append)

    job.refresh_from_db()
    assert ran == []
    assert (job.status, job.error) == (JobStatus.FAILED, STOPPED)


@pytest.mark.django_db
def test_a_finished_job_is_never_run_again():
    job = queued_job(status=JobStatus.DONE, result_url="/import/batches/7/")
    ran = []

    job_run(job_id=job.pk, work=ran.append)

    job.refresh_from_db()
    assert ran == []
    assert job.status == JobStatus.DONE


@pytest.mark.django_db
def test_a_running_job_silent_past_the_timeout_is_seen_as_stopped():
    now = timezone.now()
    silent = queued_job(status=JobStatus.RUNNING, progress_at=now - stale_after() - timedelta(1))
    beating = queued_job(status=JobStatus.RUNNING, progress_at=now - timedelta(seconds=2))

    assert job_as_seen(silent, now=now).stopped
    assert not job_as_seen(beating, now=now).stopped


def test_a_heartbeat_every_half_second_is_far_inside_the_timeout():
    assert timedelta(seconds=30) <= STALE_AFTER


@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_while_the_works_own_transaction_is_still_open():
    """The worker's import holds its transaction open for the whole run; the page, on
    another connection, must still see the rows move."""
    job = queued_job(total=1000)
    reported, seen = threading.Event(), threading.Event()

    def work(job):
        with transaction.atomic():
            CustomerFactory(external_id="IN-FLIGHT")
            report_phase("reading")
            report_done(400)
            reported.set()
            seen.wait(10)
        return Outcome("/done/")

    def worker():
        try:
            job_run(job_id=job.pk, work=work)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert reported.wait(10)
        deadline = time.monotonic() + 5
        while (shown := job_as_seen(Job.objects.get(pk=job.pk), now=timezone.now())).done != 400:
            assert time.monotonic() < deadline, "the page never saw the progress"
            time.sleep(0.1)
    finally:
        seen.set()
        thread.join(10)

    assert (shown.status, shown.phase, shown.total) == ("running", "reading", 1000)
    assert Customer.objects.filter(external_id="IN-FLIGHT").exists()
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
