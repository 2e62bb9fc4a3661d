"""The background task that writes a bulk export, run by ``kapflow worker`` (django-tasks)."""

from __future__ import annotations

import uuid

from django_tasks import task

from kapflow.fhir.models import ExportJob


@task()
def run_export(job_id: str) -> str:
    """Write the files of one queued export job; say what happened."""
    from kapflow.fhir import export

    job = ExportJob.objects.select_related("clinic").filter(public_id=uuid.UUID(job_id)).first()
    if job is None:
        return "skipped: no such export"
    return export.run(job)
