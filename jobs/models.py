from django.conf import settings
from django.db import models

from accounts.roles import ADMIN, MANAGER


class JobKind(models.TextChoices):
    IMPORT_PREVIEW = "import_preview", "Import preview"
    IMPORT = "import", "Import"
    PRINT_BATCH = "print_batch", "Print batch"
    EXPORT = "export", "Export"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Phase(models.TextChoices):
    READING = "reading", "Reading"
    CHECKING = "checking", "Checking"
    WRITING = "writing", "Writing"


# The least role that may see a job of each kind: the role of the screens that start it.
MINIMUM_ROLE = {
    JobKind.IMPORT_PREVIEW: ADMIN,
    JobKind.IMPORT: ADMIN,
    JobKind.PRINT_BATCH: MANAGER,
    JobKind.EXPORT: MANAGER,
}
RESULT_LABEL = {
    JobKind.IMPORT_PREVIEW: "See the preview",
    JobKind.IMPORT: "See the import",
    JobKind.PRINT_BATCH: "Download the letters (PDF)",
    JobKind.EXPORT: "Download the CSV",
}
# What the count counts, as "400 of 1,000 …".
UNIT = {JobKind.PRINT_BATCH: "letters put together", JobKind.EXPORT: "rows written"}
# Kinds whose result is a file: the page offers it rather than going to it.
FILE_RESULT = {JobKind.PRINT_BATCH, JobKind.EXPORT}


class Job(models.Model):
    """Long work handed to the worker, and how far it got: the page that polls reads this."""

    kind = models.CharField(max_length=20, choices=JobKind.choices)
    title = models.CharField(max_length=300)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField(max_length=10, choices=Phase.choices, blank=True)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    # What the task needs (the upload, the mapping): plain JSON, never objects.
    params = models.JSONField(default=dict, blank=True)
    # What the result page shows when it is not a record of its own (a preview's summary),
    # and on failure the problems to list and the links to go on from.
    result = models.JSONField(default=dict, blank=True)
    result_url = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # The last progress written: a running job silent for too long lost its worker.
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=JobStatus.values), name="jobs_job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="jobs_job_done_within_total"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def minimum_role(self) -> str:
        return MINIMUM_ROLE.get(self.kind, ADMIN)

    @property
    def result_label(self) -> str:
        return RESULT_LABEL.get(self.kind, "See the result")

    @property
    def unit(self) -> str:
        return UNIT.get(self.kind, "rows read")

    @property
    def result_is_a_file(self) -> bool:
        return self.kind in FILE_RESULT
