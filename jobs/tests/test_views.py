"""The job page: progress polled in place, then the result; a failure said plainly."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN
from jobs.models import Job, JobKind, JobStatus
from jobs.selectors import stale_after
from jobs.services import STOPPED

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(admin_user):
    return Job.objects.create(
        kind=JobKind.IMPORT,
        title="Import of big.csv",
        user=admin_user,
        status=JobStatus.RUNNING,
        phase="reading",
        done=40_000,
        total=100_000,
        started_at=timezone.now(),
        progress_at=timezone.now(),
    )


def page(client, job, *, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.get(reverse("jobs:detail", args=[job.pk]), headers=headers)


def test_a_running_job_shows_rows_read_on_a_labelled_bar_that_polls(admin_client_, job):
    html = page(admin_client_, job).content.decode()

    assert f'<label for="job-{job.pk}-bar" style="display: block">Progress</label>' in html
    assert 'max="100000" value="40000"' in html
    assert "40,000 of 100,000 rows read." in html
    assert "Reading the file" in html
    assert 'hx-trigger="every 1s"' in html


def test_the_poll_gets_the_progress_alone(admin_client_, job):
    html = page(admin_client_, job, htmx=True).content.decode()

    assert html.lstrip().startswith('<section class="card" id="job-progress"')
    assert "<html" not in html


def test_while_checking_the_bar_shows_work_without_a_count(admin_client_, job):
    job.phase = "checking"
    job.save()

    html = page(admin_client_, job).content.decode()

    assert "All 100,000 rows read; checking them against the ledger." in html
    assert "value=" not in html.split("<progress", 1)[1].split(">", 1)[0]


def test_the_poll_that_finds_it_done_stops_and_goes_to_the_result(admin_client_, job):
    job.status, job.result_url = JobStatus.DONE, "/import/batches/7/"
    job.save()

    response = page(admin_client_, job, htmx=True)

    assert response["HX-Redirect"] == "/import/batches/7/"
    assert "hx-trigger" not in response.content.decode()


def test_a_done_job_keeps_a_page_leading_to_its_result(admin_client_, job):
    job.status, job.result_url = JobStatus.DONE, "/import/batches/7/"
    job.save()

    html = page(admin_client_, job).content.decode()

    assert '<a class="btn btn-primary" href="/import/batches/7/">See the import</a>' in html


def test_a_failed_job_says_why_and_stops_polling(admin_client_, job):
    job.status = JobStatus.FAILED
    job.error = "Nothing was imported: 1 problem(s) in the file."
    job.result = {
        "errors": ["line 9: unknown customer 'NOBODY'"],
        "error_count": 1,
        "links": [["Upload another file", "/import/"]],
    }
    job.save()

    html = page(admin_client_, job).content.decode()

    assert 'role="alert">Nothing was imported: 1 problem(s) in the file.</p>' in html
    assert "line 9: unknown customer &#x27;NOBODY&#x27;" in html
    assert '<a class="btn" href="/import/">Upload another file</a>' in html
    assert "hx-trigger" not in html


def test_a_job_whose_worker_went_silent_is_shown_stopped(admin_client_, job):
    job.progress_at = timezone.now() - stale_after() - timedelta(seconds=1)
    job.save()

    html = page(admin_client_, job).content.decode()

    assert "Stopped" in html
    assert STOPPED in html
    assert "hx-trigger" not in html


def test_another_admin_may_follow_the_job(client, job, django_user_model):
    other = django_user_model.objects.create_user(username="otto", password="pw-otto")
    other.groups.add(Group.objects.get(name=ADMIN))
    client.force_login(other)

    assert page(client, job).status_code == 200


def test_an_import_job_is_refused_to_roles_below_the_import_screens(
    manager_client, job, collector, client
):
    assert page(manager_client, job).status_code == 403
    client.force_login(collector)
    assert page(client, job).status_code == 403


def test_a_job_that_does_not_exist_is_not_found(admin_client_):
    assert admin_client_.get(reverse("jobs:detail", args=[987654])).status_code == 404
