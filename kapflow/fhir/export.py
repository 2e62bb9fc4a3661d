"""The bulk export writer: one NDJSON file per resource type, written a line at a time.

Resources come from ``kapflow.fhir.mapping.patient_resources``, which streams them from the
database; each is written as one compact JSON line and dropped, so memory stays flat however
large the clinic. A type is written to ``<Type>.ndjson.part`` and renamed when complete, so a
half-written file is never handed out. Every ``PROGRESS_EVERY`` lines the job row is updated;
that update also notices a cancellation (the DELETE of the status URL) and stops the writer.
Psychotherapy notes are not mapped, so they cannot be exported.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kapflow.fhir import mapping
from kapflow.fhir.export_services import remove_files
from kapflow.fhir.models import ExportJob, ExportKind, ExportStatus
from kapflow.patients.models import Patient

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 500


class Cancelled(Exception):
    """The job was cancelled while it ran."""


def job_patients(job: ExportJob) -> QuerySet[Patient]:
    """The patients a job covers, as a query (never loaded all at once)."""
    if job.kind == ExportKind.PATIENT:
        assert job.patient_id is not None
        return Patient.objects.filter(pk=job.patient_id)
    if job.kind == ExportKind.GROUP:
        return mapping.group_patients(job.clinic, job.group_id)
    return Patient.objects.filter(clinic=job.clinic, voided_at__isnull=True)


def run(job: ExportJob) -> str:
    """Write every file of a queued job; returns what happened (the task's return value)."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=now, transaction_time=now, progress=0
    )
    if not claimed:
        return f"skipped: the export is {ExportJob.objects.get(pk=job.pk).status}"
    job.refresh_from_db()
    # What the process held before the export is none of its garbage: frozen, it is left out of
    # the collections ``write_type`` asks for, which then cost what the export allocated.
    gc.freeze()
    try:
        _write_all(job)
    except Cancelled:
        remove_files(job)
        return "cancelled"
    except Exception as exc:
        logger.exception("FHIR export %s failed", job.public_id)
        ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.FAILED,
            error=f"The export stopped with an internal error ({type(exc).__name__}); start it again.",
            finished_at=timezone.now(),
        )
        remove_files(job)
        return "failed"
    finally:
        gc.unfreeze()
    finished = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE, progress=100, current_type="", counts=job.counts, finished_at=timezone.now()
    )
    if not finished:  # cancelled after the last line
        remove_files(job)
        return "cancelled"
    return "done: " + ", ".join(f"{name} {count}" for name, count in job.counts.items())


def _write_all(job: ExportJob) -> None:
    job.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    patients = job_patients(job)
    job.counts = {}
    for index, resource_type in enumerate(job.types):
        _progress(job, resource_type, index)
        count = write_type(job, resource_type, patients)
        if count:
            job.counts[resource_type] = count
    _progress(job, "", len(job.types))


def write_type(job: ExportJob, resource_type: str, patients: QuerySet[Patient]) -> int:
    """Write one type's file a line at a time; returns the number of lines (no file for 0)."""
    path = job.file_path(resource_type)
    part = path.with_name(path.name + ".part")
    count = 0
    with part.open("w", encoding="utf-8", newline="\n") as out:
        for resource in _changed(mapping.patient_resources(resource_type, job.clinic, patients), job.since):
            out.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False))
            out.write("\n")
            count += 1
            if count % PROGRESS_EVERY == 0:
                _progress(job, resource_type, job.types.index(resource_type), written=count)
                # Rows with prefetched relations hold reference cycles that only the cycle
                # collector frees; collecting here keeps the worker's memory flat.
                gc.collect()
    if count:
        part.replace(path)
        path.chmod(0o600)
    else:
        part.unlink()
    return count


def _changed(resources: Iterator[dict[str, Any]], since: datetime | None) -> Iterator[dict[str, Any]]:
    """Only resources changed after ``since`` (by ``meta.lastUpdated``; one without it is kept)."""
    for resource in resources:
        changed = _last_updated(resource) if since is not None else None
        if changed is None or since is None or changed > since:
            yield resource


def _last_updated(resource: dict[str, Any]) -> datetime | None:
    value = (resource.get("meta") or {}).get("lastUpdated")
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _progress(job: ExportJob, resource_type: str, done_types: int, *, written: int = 0) -> None:
    """Store how far the job got; stop when it was cancelled meanwhile."""
    total = max(len(job.types), 1)
    counts = dict(job.counts)
    if resource_type and written:
        counts[resource_type] = written
    updated = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        progress=min(99, done_types * 100 // total), current_type=resource_type, counts=counts
    )
    if not updated:
        raise Cancelled()
