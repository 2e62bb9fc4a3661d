"""A FHIR bulk data export job (``$export``): what was asked, by whom, and how far it got.

The kick-off stores a queued job; the background worker (``kapflow worker``) writes one
NDJSON file per resource type under ``DATA_DIR/exports/<public_id>/`` and marks the job done.
Only the person who started a job may poll it or download its files.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportKind(models.TextChoices):
    PATIENT = "patient", _("one patient")
    GROUP = "group", _("a group of patients")
    SYSTEM = "system", _("the whole clinic")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)


class ExportJob(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField(max_length=16, choices=ExportKind.choices)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="export_jobs"
    )
    group_id = models.CharField(max_length=64, blank=True)
    # The resource types to write, in order (every type we map when ``_type`` was not given).
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.TextField()
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent of the types written
    current_type = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict)  # resource type -> lines written
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # The manifest's transactionTime: when the worker began reading.
    transaction_time = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="patient") | models.Q(patient__isnull=False),
                name="export_patient_job_names_its_patient",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="group") | ~models.Q(group_id=""),
                name="export_group_job_names_its_group",
            ),
        ]

    def __str__(self) -> str:
        return f"$export {self.kind} {self.public_id} ({self.status})"

    @property
    def directory(self) -> Path:
        return export_directory(self.public_id)

    def file_path(self, resource_type: str) -> Path:
        return self.directory / f"{resource_type}.ndjson"


def export_directory(public_id: uuid.UUID | str) -> Path:
    return Path(settings.DATA_DIR) / "exports" / str(public_id)
