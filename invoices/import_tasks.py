"""A preview or an import of a file over WORKER_ROWS rows, run by the worker as a job
(jobs/) while the admin watches its progress page.

The job's params hold what the import screens keep in the session: the upload's path, kind,
mapping, date format, source and filename. An import that fails rolls back whole: the job
says why, the ledger is as it was."""

from pathlib import Path

from django.urls import reverse

from jobs.services import JobFailed, Outcome, job_run

from .importing import ImportRejected, ImportResult, import_run

# Over this many rows the screens hand a preview or an import to the worker.
WORKER_ROWS = 10_000
# A job keeps this many of a rejected file's problems to list; the count says how many more.
ERRORS_KEPT = 1_000
NUMERIC_COLUMNS = {"amount", "credit_limit", "late_interest_rate", "late_fee"}


def import_preview_task(job_id: int) -> None:
    job_run(job_id=job_id, work=_preview)


def import_task(job_id: int) -> None:
    job_run(job_id=job_id, work=_import)


def preview_rows(result: ImportResult) -> list[list]:
    """The preview table's rows: the line, then (value, is it a number) per column."""
    return [
        [row["line"]] + [(str(row[column]), column in NUMERIC_COLUMNS) for column in result.columns]
        for row in result.preview
    ]


def _run(job, *, dry_run: bool) -> ImportResult:
    params = job.params
    path = Path(params["path"])
    if not path.exists():
        raise JobFailed(
            "The uploaded file is gone (it was imported already, or expired): upload it again.",
            result=job.result,
        )
    return import_saved(path, params, actor=job.user, dry_run=dry_run)


def import_saved(path: Path, pending: dict, *, actor, dry_run: bool) -> ImportResult:
    """Import (or preview) an uploaded file as the screens describe it (kind, filename,
    mapping, date format, source): in the request or in the worker alike."""
    with open(path, "rb") as stream:
        return import_run(
            kind=pending["kind"],
            file=stream,
            filename=pending["filename"],
            actor=actor,
            mapping=pending["mapping"],
            date_format=pending["date_format"],
            source=pending["source"],
            dry_run=dry_run,
        )


def _problems(exc: ImportRejected) -> dict:
    return {"errors": exc.errors[:ERRORS_KEPT], "error_count": len(exc.errors)}


def _preview(job) -> Outcome:
    """A rejected file is a preview too: it lists the problems."""
    try:
        result = _run(job, dry_run=True)
    except ImportRejected as exc:
        return Outcome(job.params["result_url"], {**job.result, **_problems(exc)})
    summary = {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "notes": result.notes,
        "ignored": result.ignored,
        "columns": result.columns,
        "preview": preview_rows(result),
    }
    return Outcome(job.params["result_url"], {**job.result, "summary": summary})


def _import(job) -> Outcome:
    try:
        result = _run(job, dry_run=False)
    except ImportRejected as exc:
        raise JobFailed(
            f"Nothing was imported: {len(exc.errors)} problem(s) in the file.",
            result={**job.result, **_problems(exc)},
        ) from None
    Path(job.params["path"]).unlink(missing_ok=True)
    return Outcome(reverse("import:result", kwargs={"pk": result.batch.pk}))
