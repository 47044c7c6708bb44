from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.roles import COLLECTOR, role_required

from .models import Job, JobStatus
from .selectors import job_as_seen, may_follow
from .services import STOPPED, result_file_path

# How often the page asks for news; the heartbeat writes every half second.
POLL_SECONDS = 1


def _followed(request, pk) -> Job:
    job = get_object_or_404(Job.objects.select_related("user"), pk=pk)
    if not may_follow(request.user, job):
        raise PermissionDenied("Only whoever started this job, managers and admins follow it.")
    return job


@role_required(COLLECTOR)
def job_detail(request, pk):
    """A job's progress, polled in place until it ends; then on to its result."""
    job = _followed(request, pk)
    job = job_as_seen(job, now=timezone.now())
    context = {
        "job": job,
        "polling": not (job.finished or job.stopped),
        "poll_seconds": POLL_SECONDS,
        "stopped_message": STOPPED,
    }
    if not request.htmx:
        return render(request, "jobs/job_detail.html", context)
    response = render(request, "jobs/_progress.html", context)
    if job.status == JobStatus.DONE and job.result_url and not job.result_is_a_file:
        response["HX-Redirect"] = job.result_url
    return response


@role_required(COLLECTOR)
def job_file(request, pk):
    """The file a finished job made (a print batch's PDF)."""
    job = _followed(request, pk)
    path = result_file_path(job.pk)
    if job.status != JobStatus.DONE or not job.result_is_a_file or not path.exists():
        raise Http404("This job has no file.")
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 - the response closes it
        as_attachment=True,
        filename=job.result.get("filename", f"job-{job.pk}"),
        content_type=job.result.get("content_type", "application/octet-stream"),
    )
