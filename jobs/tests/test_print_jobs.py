"""A print batch over the limit is put together by the worker; the job page offers the PDF.
(django-q2 runs in sync mode here: the job runs when the request commits.)"""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from invoice_copies.tests.pdfs import pdf_bytes
from invoices.tests.factories import CustomerFactory
from jobs.models import Job, JobKind, JobStatus
from jobs.services import result_file_path
from letters import print_tasks
from letters.models import Document, DocumentKind, PrintItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def three_letters_to_post():
    customer = CustomerFactory()
    for n in range(3):
        document = Document.objects.create(
            kind=DocumentKind.LETTER,
            customer=customer,
            filename=f"letter-{n}.pdf",
            content=pdf_bytes(f"letter {n}"),
        )
        PrintItem.objects.create(document=document)


@pytest.fixture
def worker_from_three_letters(monkeypatch):
    monkeypatch.setattr(print_tasks, "WORKER_LETTERS", 2)


def test_a_big_print_batch_is_put_together_by_the_worker_and_offered_for_download(
    manager_client,
    manager,
    three_letters_to_post,
    worker_from_three_letters,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        started = manager_client.get(reverse("letters:print_batch"), {"download": "1"})
    job = Job.objects.get()
    page = manager_client.get(started.url)
    poll = manager_client.get(started.url, headers={"HX-Request": "true"})
    download = manager_client.get(job.result_url)

    assert (job.kind, job.status, job.user, job.done) == (JobKind.PRINT_BATCH, "done", manager, 3)
    assert job.result_url == reverse("jobs:file", args=[job.pk])
    assert b"Download the letters (PDF)" in page.content
    assert "HX-Redirect" not in poll  # a file is offered, not gone to
    assert download["Content-Disposition"].startswith('attachment; filename="letters-')
    assert len(PdfReader(io.BytesIO(b"".join(download.streaming_content))).pages) == 3
    assert not PrintItem.objects.filter(printed_at__isnull=False).exists()


def test_a_small_print_batch_still_downloads_in_the_request(manager_client, three_letters_to_post):
    response = manager_client.get(reverse("letters:print_batch"), {"download": "1"})

    assert response["Content-Type"] == "application/pdf"
    assert not Job.objects.exists()


def test_a_print_job_that_fails_leaves_no_file(
    manager_client, three_letters_to_post, worker_from_three_letters
):
    damaged = Document.objects.create(
        kind=DocumentKind.LETTER,
        customer=CustomerFactory(),
        filename="damaged.pdf",
        content=b"%PDF-1.4 not really",
    )
    PrintItem.objects.create(document=damaged)
    manager_client.get(reverse("letters:print_batch"), {"download": "1"})  # queued
    job = Job.objects.get()

    print_tasks.print_batch_task(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped on an unexpected error" in job.error
    assert list(result_file_path(job.pk).parent.glob("*")) == []
    assert manager_client.get(reverse("jobs:file", args=[job.pk])).status_code == 404


def test_the_file_is_refused_to_a_collector(
    client, collector, manager_client, three_letters_to_post, worker_from_three_letters
):
    manager_client.get(reverse("letters:print_batch"), {"download": "1"})
    job = Job.objects.get()
    client.force_login(collector)

    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 403
