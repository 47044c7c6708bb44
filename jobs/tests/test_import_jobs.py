"""A big file's preview and import run in the worker as jobs; a small file's stay in the
request. (The worker is django-q2 in sync mode here: the job runs when the request commits.)"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from invoices import import_tasks
from invoices.models import ImportBatch, Invoice
from invoices.tests.factories import CustomerFactory
from jobs.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db

HEADER = "number,customer_external_id,issue_date,due_date,currency,amount\n"
MAPPING = {
    "column_0": "number",
    "column_1": "customer_external_id",
    "column_2": "issue_date",
    "column_3": "due_date",
    "column_4": "currency",
    "column_5": "amount",
    "date_format": "%Y-%m-%d",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def worker_from_three_rows(monkeypatch):
    monkeypatch.setattr(import_tasks, "WORKER_ROWS", 2)


@pytest.fixture
def acme():
    return CustomerFactory(external_id="ACME", currency="GBP")


def csv_of(rows: int) -> bytes:
    lines = [f"W-{n},ACME,2026-01-05,2026-02-04,GBP,{n}.50\n" for n in range(1, rows + 1)]
    return (HEADER + "".join(lines)).encode()


def mapped_upload(client, content: bytes) -> str:
    response = client.post(
        reverse("import:start"),
        {
            "kind": "invoices",
            "source": "",
            "file": SimpleUploadedFile("big.csv", content, content_type="text/csv"),
        },
    )
    token = re.search(r"/import/([0-9a-f-]{36})/map/", response.url).group(1)
    client.post(reverse("import:map", args=[token]), MAPPING)
    return token


def in_worker(capture, send):
    """The request, then the job it queued once the request's transaction commits."""
    with capture(execute=True):
        return send()


def test_a_big_files_preview_runs_as_a_job_and_shows_what_it_found(
    admin_client_, acme, worker_from_three_rows, django_capture_on_commit_callbacks
):
    token = mapped_upload(admin_client_, csv_of(3))

    started = in_worker(
        django_capture_on_commit_callbacks,
        lambda: admin_client_.get(reverse("import:preview", args=[token])),
    )
    job = Job.objects.get()
    preview = admin_client_.get(reverse("import:preview", args=[token]))

    assert started.url == reverse("jobs:detail", args=[job.pk])
    assert (job.kind, job.status, job.done, job.total) == (JobKind.IMPORT_PREVIEW, "done", 3, 3)
    assert b"3 new" in preview.content
    assert b"W-2" in preview.content
    assert not Invoice.objects.exists()


def test_a_big_files_import_runs_as_a_job_and_ends_on_the_import_result(
    admin_client_, admin_user, acme, worker_from_three_rows, django_capture_on_commit_callbacks
):
    token = mapped_upload(admin_client_, csv_of(3))

    started = in_worker(
        django_capture_on_commit_callbacks,
        lambda: admin_client_.post(reverse("import:confirm", args=[token])),
    )
    job = Job.objects.get()
    page = admin_client_.get(started.url)

    batch = ImportBatch.objects.get()
    assert (job.kind, job.status, job.user) == (JobKind.IMPORT, JobStatus.DONE, admin_user)
    assert job.result_url == reverse("import:result", args=[batch.pk])
    assert Invoice.objects.count() == 3
    assert f'href="{job.result_url}"'.encode() in page.content
    assert b"See the import" in page.content


def test_confirming_twice_while_it_runs_follows_the_same_job(
    admin_client_, acme, worker_from_three_rows
):
    token = mapped_upload(admin_client_, csv_of(3))

    # Without the commit the job stays queued, as when the worker is busy.
    first = admin_client_.post(reverse("import:confirm", args=[token]))
    second = admin_client_.post(reverse("import:confirm", args=[token]))

    assert first.url == second.url
    assert Job.objects.count() == 1


def test_confirming_again_after_the_worker_died_starts_a_new_job(
    admin_client_, acme, worker_from_three_rows
):
    token = mapped_upload(admin_client_, csv_of(3))
    first = admin_client_.post(reverse("import:confirm", args=[token]))
    Job.objects.update(status=JobStatus.RUNNING, progress_at=timezone.now() - timedelta(hours=1))

    again = admin_client_.post(reverse("import:confirm", args=[token]))

    assert again.url != first.url
    assert Job.objects.count() == 2


def test_a_job_import_the_ledger_refuses_fails_clearly_and_imports_nothing(
    admin_client_, acme, worker_from_three_rows, django_capture_on_commit_callbacks
):
    token = mapped_upload(admin_client_, csv_of(3))
    acme.external_id = "ACME-RENAMED"  # the customer is gone by the time it is confirmed
    acme.save()

    started = in_worker(
        django_capture_on_commit_callbacks,
        lambda: admin_client_.post(reverse("import:confirm", args=[token])),
    )
    page = admin_client_.get(started.url)

    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.error == "Nothing was imported: 3 problem(s) in the file."
    assert b"Nothing was imported: 3 problem(s) in the file." in page.content
    assert b"line 2: unknown customer &#x27;ACME&#x27;" in page.content
    assert b"Back to the preview" in page.content
    assert not Invoice.objects.exists()
    assert not ImportBatch.objects.exists()


def test_a_big_file_with_bad_rows_previews_as_a_list_of_problems(
    admin_client_, acme, worker_from_three_rows, django_capture_on_commit_callbacks
):
    token = mapped_upload(admin_client_, csv_of(2) + b"W-9,NOBODY,2026-01-05,2026-02-04,GBP,1\n")

    in_worker(
        django_capture_on_commit_callbacks,
        lambda: admin_client_.get(reverse("import:preview", args=[token])),
    )
    preview = admin_client_.get(reverse("import:preview", args=[token]))

    assert b"1 problem in the file" in preview.content
    assert b"line 4: unknown customer &#x27;NOBODY&#x27;" in preview.content


def test_a_small_file_is_still_previewed_and_imported_in_the_request(admin_client_, acme):
    token = mapped_upload(admin_client_, csv_of(3))

    preview = admin_client_.get(reverse("import:preview", args=[token]))
    confirmed = admin_client_.post(reverse("import:confirm", args=[token]))

    assert b"3 new" in preview.content
    assert confirmed.url == reverse("import:result", args=[ImportBatch.objects.get().pk])
    assert not Job.objects.exists()


def test_changing_the_mapping_previews_the_file_again(
    admin_client_, acme, worker_from_three_rows, django_capture_on_commit_callbacks
):
    token = mapped_upload(admin_client_, csv_of(3))
    in_worker(
        django_capture_on_commit_callbacks,
        lambda: admin_client_.get(reverse("import:preview", args=[token])),
    )

    same = admin_client_.get(reverse("import:preview", args=[token]))
    admin_client_.post(reverse("import:map", args=[token]), {**MAPPING, "column_4": ""})
    again = admin_client_.get(reverse("import:preview", args=[token]))

    assert same.status_code == 200  # the preview already made
    assert Job.objects.count() == 2
    assert again.url == reverse("jobs:detail", args=[Job.objects.first().pk])


def test_the_import_reports_rows_read_then_writing(acme, tmp_path):
    from invoices.importing import import_run
    from jobs.progress import Progress

    job = Job.objects.create(kind=JobKind.IMPORT, title="Import", total=3000)
    with (
        Progress(job.pk, total=3000, every=3600) as progress,
        open(_write(tmp_path, csv_of(3000)), "rb") as stream,
    ):
        import_run(kind="invoices", file=stream, filename="big.csv")

    assert progress.done == 3000
    assert progress.phase == "writing"
    assert Invoice.objects.count() == 3000


def _write(tmp_path, content: bytes):
    path = tmp_path / "rows.csv"
    path.write_bytes(content)
    return path


def test_a_job_whose_upload_is_gone_fails_saying_so(admin_client_, acme, worker_from_three_rows):
    token = mapped_upload(admin_client_, csv_of(3))
    admin_client_.post(reverse("import:confirm", args=[token]))  # queued, the worker busy
    job = Job.objects.get()
    Path(job.params["path"]).unlink()  # swept as abandoned meanwhile

    import_tasks.import_task(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("The uploaded file is gone")
    assert not Invoice.objects.exists()


def test_a_preview_that_stopped_can_be_asked_for_again(admin_client_, acme, worker_from_three_rows):
    token = mapped_upload(admin_client_, csv_of(3))
    first = admin_client_.get(reverse("import:preview", args=[token]))
    Job.objects.update(status=JobStatus.RUNNING, progress_at=timezone.now() - timedelta(hours=1))
    stopped = admin_client_.get(first.url)

    again = admin_client_.get(reverse("import:preview", args=[token]) + "?again=1")

    assert b"Stopped" in stopped.content
    assert b"?again=1" in stopped.content
    assert again.url != first.url
    assert Job.objects.count() == 2
