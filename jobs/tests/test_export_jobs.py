"""The aging drill-down's invoices over the limit are written by the worker; the job page
offers the CSV, the same lines the request streams under the limit.
(django-q2 runs in sync mode here: the job runs when the request commits.)"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from invoices.tests.factories import InvoiceFactory
from jobs.models import Job, JobKind, JobStatus
from reports import export_tasks

pytestmark = pytest.mark.django_db
QUERY = {"bucket": "31-60"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def three_in_the_bucket():
    today = timezone.localdate()
    for days in (35, 40, 45):
        due = today - dt.timedelta(days=days)
        InvoiceFactory(issue_date=due - dt.timedelta(days=30), due_date=due)
    InvoiceFactory(issue_date=today - dt.timedelta(days=40), due_date=today - dt.timedelta(days=10))


def export_url() -> str:
    return reverse("reports:export", args=["aging-invoices", "csv"])


def test_a_big_export_is_written_by_the_worker_and_offered_for_download(
    manager_client, manager, three_in_the_bucket, monkeypatch, django_capture_on_commit_callbacks
):
    streamed = b"".join(manager_client.get(export_url(), QUERY).streaming_content)
    monkeypatch.setattr(export_tasks, "WORKER_ROWS", 2)

    with django_capture_on_commit_callbacks(execute=True):
        started = manager_client.get(export_url(), QUERY)
    job = Job.objects.get()
    page = manager_client.get(started.url)
    download = manager_client.get(job.result_url)

    assert started.url == reverse("jobs:detail", args=[job.pk])
    assert (job.kind, job.status, job.user, job.done) == (JobKind.EXPORT, "done", manager, 3)
    assert b"Download the CSV" in page.content
    assert download["Content-Disposition"].startswith('attachment; filename="aging-invoices-31-60')
    written = b"".join(download.streaming_content)
    assert written == streamed
    assert written.count(b"\n") == 4  # the head and three invoices


def test_a_small_export_still_streams_in_the_request(manager_client, three_in_the_bucket):
    response = manager_client.get(export_url(), QUERY)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert not Job.objects.exists()


def test_an_export_job_for_a_bucket_gone_fails_with_nothing_written(
    manager_client, three_in_the_bucket, monkeypatch
):
    monkeypatch.setattr(export_tasks, "WORKER_ROWS", 2)
    manager_client.get(export_url(), QUERY)  # queued
    job = Job.objects.get()
    Job.objects.filter(pk=job.pk).update(params={**job.params, "query": "bucket=nope"})

    export_tasks.aging_invoices_task(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "No such aging bucket: nothing was exported."
    assert manager_client.get(reverse("jobs:file", args=[job.pk])).status_code == 404


def test_the_export_file_is_refused_to_a_collector(
    client, collector, manager_client, three_in_the_bucket, monkeypatch
):
    monkeypatch.setattr(export_tasks, "WORKER_ROWS", 2)
    manager_client.get(export_url(), QUERY)
    job = Job.objects.get()
    client.force_login(collector)

    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 403
