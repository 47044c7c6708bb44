"""The import screens for admins: upload, map columns, preview, confirm, result.

The uploaded file waits between steps under MEDIA_ROOT/imports/<uuid>.csv. The uuid is made
here, never taken from the client as a path, and a step only opens an upload listed in the
user's own session."""

import hashlib
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, role_required
from audit.models import AuditEvent
from jobs.models import Job, JobKind, JobStatus
from jobs.selectors import job_as_seen
from jobs.services import job_start

from . import import_tasks
from .import_forms import MappingForm, UploadForm
from .importing import ISO_DATE, ImportRejected
from .importing.columns import schema_for, suggested_mapping
from .importing.mappings import column_mapping_for, column_mapping_save
from .importing.reader import CsvSource
from .models import ImportBatch

SESSION_KEY = "pending_imports"
STALE_AFTER_S = 24 * 60 * 60


def _upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _upload_path(token) -> Path:
    return _upload_dir() / f"{uuid.UUID(str(token))}.csv"


def _sweep_stale_uploads() -> None:
    """Uploads abandoned before confirming are removed a day later."""
    cutoff = time.time() - STALE_AFTER_S
    for path in _upload_dir().glob("*.csv"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _pending(request, token) -> dict:
    pending = request.session.get(SESSION_KEY, {}).get(str(token))
    if pending is None or not _upload_path(token).exists():
        raise Http404("This upload has expired; please upload the file again.")
    return pending


def _save_pending(request, token, pending: dict) -> None:
    request.session[SESSION_KEY] = {**request.session.get(SESSION_KEY, {}), str(token): pending}


def _forget(request, token) -> None:
    uploads = dict(request.session.get(SESSION_KEY, {}))
    uploads.pop(str(token), None)
    request.session[SESSION_KEY] = uploads
    _upload_path(token).unlink(missing_ok=True)


@role_required(ADMIN)
def import_start(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        _upload_dir().mkdir(parents=True, exist_ok=True)
        _sweep_stale_uploads()
        token = uuid.uuid4()
        upload = form.cleaned_data["file"]
        lines, last = 0, b"\n"
        with open(_upload_path(token), "wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:] or last
        _save_pending(
            request,
            token,
            {
                "kind": form.cleaned_data["kind"],
                "source": form.cleaned_data["source"].strip(),
                "filename": Path(upload.name).name,
                # Data rows, counted as lines: what decides whether the worker runs it.
                "rows": max(lines + (last != b"\n") - 1, 0),
            },
        )
        return redirect("import:map", token=token)
    batches = ImportBatch.objects.select_related("user")[:50]
    return render(request, "invoices/import/start.html", {"form": form, "batches": batches})


def _read_start(token) -> tuple[list[str] | None, list[str], str]:
    """The header row and the first data row (shown as a sample), or a problem."""
    with open(_upload_path(token), "rb") as stream:
        records = CsvSource(stream).records()
        first = next(records, None)
        second = next(records, None)
    if first is None:
        return None, [], "The file is empty; it needs a header row."
    _, header, problem = first
    if problem:
        return None, [], f"The header row {problem}."
    sample = second[1] if second and second[1] else []
    return header, sample, ""


@role_required(ADMIN)
def import_map(request, token):
    pending = _pending(request, token)
    schema = schema_for(pending["kind"])
    header, sample, problem = _read_start(token)
    if header is None:
        _forget(request, token)
        messages.error(request, f"{pending['filename']}: {problem}")
        return redirect("import:start")
    saved = column_mapping_for(kind=schema.kind, source=pending["source"])
    form = MappingForm(
        request.POST or None,
        headers=header,
        schema=schema,
        suggestion=pending.get("mapping")
        or suggested_mapping(header, schema, saved.mapping if saved else {}),
        initial={
            "date_format": pending.get("date_format") or (saved.date_format if saved else ISO_DATE)
        },
    )
    if request.method == "POST" and form.is_valid():
        pending["mapping"] = form.cleaned_data["mapping"]
        pending["date_format"] = form.cleaned_data["date_format"]
        _save_pending(request, token, pending)
        if pending["source"]:
            column_mapping_save(
                kind=schema.kind,
                source=pending["source"],
                mapping=pending["mapping"],
                date_format=pending["date_format"],
            )
        return redirect("import:preview", token=token)
    return render(
        request,
        "invoices/import/map.html",
        {
            "form": form,
            "columns": [
                (form[name], sample[index] if index < len(sample) else "")
                for index, name in enumerate(form.column_fields)
            ],
            "pending": pending,
            "schema": schema,
            "token": token,
            "remembered": saved is not None,
        },
    )


def _run(request, token, pending: dict, *, dry_run: bool):
    return import_tasks.import_saved(
        _upload_path(token), pending, actor=request.user, dry_run=dry_run
    )


@role_required(ADMIN)
def import_preview(request, token):
    pending = _pending(request, token)
    if "mapping" not in pending:
        return redirect("import:map", token=token)
    if _rows(token, pending) > import_tasks.WORKER_ROWS:
        return _preview_in_worker(request, token, pending)
    context = {"pending": pending, "token": token}
    try:
        result = _run(request, token, pending, dry_run=True)
    except ImportRejected as exc:
        context["errors"] = exc.errors
        context["error_count"] = len(exc.errors)
    else:
        context["result"] = result
        context["rows"] = import_tasks.preview_rows(result)
    return render(request, "invoices/import/preview.html", context)


def _rows(token, pending: dict) -> int:
    """The upload's data rows, counted as lines (an upload from before the count was kept
    is counted now)."""
    if "rows" not in pending:
        with open(_upload_path(token), "rb") as stream:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
        pending["rows"] = max(lines - 1, 0)
    return pending["rows"]


def _job_params(token, pending: dict) -> dict:
    return {
        "key": _job_key(token, pending),
        "path": str(_upload_path(token)),
        "result_url": reverse("import:preview", kwargs={"token": token}),
        **{key: pending[key] for key in ("kind", "source", "filename", "mapping", "date_format")},
    }


def _job_key(token, pending: dict) -> str:
    """This upload read with this mapping: a new mapping makes a new preview."""
    read_as = json.dumps([str(token), pending["mapping"], pending["date_format"]], sort_keys=True)
    return hashlib.sha256(read_as.encode()).hexdigest()[:32]


def _latest_job(request, kind: str, token, pending: dict) -> Job | None:
    # Found by its key rather than kept in the session: the session is not written while a
    # job may hold SQLite's one write lock.
    key = _job_key(token, pending)
    return Job.objects.filter(user=request.user, kind=kind, params__key=key).first()


def _preview_in_worker(request, token, pending: dict):
    """A big file's preview is a job: start it (or again, asked after a failure), follow it
    on its page, and show what it found here once it is done."""
    job = _latest_job(request, JobKind.IMPORT_PREVIEW, token, pending)
    if job is None or "again" in request.GET:
        preview_url = reverse("import:preview", kwargs={"token": token})
        job = job_start(
            kind=JobKind.IMPORT_PREVIEW,
            title=f"Preview of {pending['filename']}",
            user=request.user,
            task="invoices.import_tasks.import_preview_task",
            params=_job_params(token, pending),
            total=_rows(token, pending),
            links=[
                ("Preview again", f"{preview_url}?again=1"),
                ("Change the column mapping", reverse("import:map", kwargs={"token": token})),
                ("Upload another file", reverse("import:start")),
            ],
        )
        return redirect("jobs:detail", pk=job.pk)
    if job.status != JobStatus.DONE:
        return redirect("jobs:detail", pk=job.pk)
    context = {"pending": pending, "token": token}
    if "errors" in job.result:
        context["errors"] = job.result["errors"]
        context["error_count"] = job.result["error_count"]
    else:
        context["result"] = job.result["summary"]
        context["rows"] = job.result["summary"]["preview"]
    return render(request, "invoices/import/preview.html", context)


@require_POST
@role_required(ADMIN)
def import_confirm(request, token):
    pending = _pending(request, token)
    if "mapping" not in pending:
        return redirect("import:map", token=token)
    if _rows(token, pending) > import_tasks.WORKER_ROWS:
        return _import_in_worker(request, token, pending)
    try:
        result = _run(request, token, pending, dry_run=False)
    except ImportRejected as exc:
        messages.error(request, f"Nothing was imported: {len(exc.errors)} problem(s).")
        return redirect("import:preview", token=token)
    _forget(request, token)
    messages.success(request, f"{result.filename} imported.")
    return redirect("import:result", pk=result.batch.pk)


def _import_in_worker(request, token, pending: dict):
    """A big file's import is a job; confirming twice follows the one already under way."""
    job = _latest_job(request, JobKind.IMPORT, token, pending)
    if job is None or job.finished or job_as_seen(job, now=timezone.now()).stopped:
        job = job_start(
            kind=JobKind.IMPORT,
            title=f"Import of {pending['filename']}",
            user=request.user,
            task="invoices.import_tasks.import_task",
            params=_job_params(token, pending),
            total=_rows(token, pending),
            links=[
                ("Back to the preview", reverse("import:preview", kwargs={"token": token})),
                ("Upload another file", reverse("import:start")),
            ],
        )
    return redirect("jobs:detail", pk=job.pk)


@role_required(ADMIN)
def import_result(request, pk):
    batch = get_object_or_404(ImportBatch.objects.select_related("user"), pk=pk)
    return render(request, "invoices/import/result.html", {"batch": batch, "notes": _notes(batch)})


def _notes(batch: ImportBatch) -> list[str]:
    """The notes the import wrote into its batch event (the batch has no column for them);
    the event is written in the batch's transaction, so look only around its time."""
    event = (
        AuditEvent.objects.filter(
            at__gte=batch.created_at - timedelta(minutes=5),
            at__lte=batch.created_at + timedelta(hours=1),
            action=f"import.{batch.kind}.applied",
            data__batch_id=batch.pk,
        )
        .only("data")
        .first()
    )
    return (event.data.get("notes") or []) if event else []
