"""Starting, reading and cancelling FHIR bulk exports (``$export``), with the access rules.

A whole-clinic or group export needs ``Action.BULK_EXPORT`` (the clinic admin); a patient's
export needs ``Action.CLINICAL_VIEW`` on that patient (their care team). A job belongs to the
person who started it: anyone else, even in the same clinic, is told it does not exist. The
kick-off and every file handed out are written to the access log (``AuditAction.EXPORT``).
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.fhir import mapping
from kapflow.fhir.models import ACTIVE, ExportJob, ExportKind, ExportStatus
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient

OUTPUT_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
SUPPORTED = frozenset({"_type", "_since", "_outputFormat"})
# FHIR ``instant``: a date, a time to the second (fractions allowed) and a zone.
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
MAX_ACTIVE_JOBS = 3  # per person: more waiting exports are refused with 429


class ExportParameterError(ApplicationError):
    """A kick-off parameter we cannot honour (answered 400 with an OperationOutcome)."""


class TooManyExports(ApplicationError):
    status = 429


@dataclass(frozen=True)
class ExportParameters:
    types: tuple[str, ...]
    since: datetime | None


def parse_parameters(params: Mapping[str, Iterable[str]], *, strict: bool = False) -> ExportParameters:
    """The kick-off's query parameters; ``strict`` (``Prefer: handling=strict``) refuses any
    parameter we do not support instead of ignoring it."""
    unsupported = sorted(set(params) - SUPPORTED)
    if strict and unsupported:
        raise ExportParameterError(
            _("This server does not support the parameter(s): %(names)s.") % {"names": ", ".join(unsupported)}
        )
    return ExportParameters(types=_types(params.get("_type", [])), since=_since(params.get("_since", [])))


def check_output_format(values: Iterable[str]) -> None:
    for value in values:
        if value.strip() not in OUTPUT_FORMATS:
            raise ExportParameterError(
                _("_outputFormat %(value)s is not supported: use application/fhir+ndjson.") % {"value": value}
            )


def _types(values: Iterable[str]) -> tuple[str, ...]:
    asked = [name.strip() for value in values for name in value.split(",")]
    if not asked:
        return tuple(mapping.RESOURCE_TYPES)
    unknown = [name for name in asked if name not in mapping.RESOURCE_TYPES]
    if unknown:
        raise ExportParameterError(
            _("_type names resource types this server does not export: %(unknown)s (it exports %(known)s).")
            % {
                "unknown": ", ".join(name or "(empty)" for name in unknown),
                "known": ", ".join(mapping.RESOURCE_TYPES),
            }
        )
    return tuple(name for name in mapping.RESOURCE_TYPES if name in asked)


def _since(values: Iterable[str]) -> datetime | None:
    given = [value for value in values]
    if not given:
        return None
    if len(given) > 1:
        raise ExportParameterError(_("Send _since once."))
    # An unencoded "+" of a zone offset arrives as a space.
    text = given[0].strip().replace(" ", "+")
    if not INSTANT.match(text):
        raise ExportParameterError(
            _("_since must be a FHIR instant with a time zone, such as 2026-01-31T09:30:00Z; got %(value)s.")
            % {"value": given[0][:40]}
        )
    try:
        since = datetime.fromisoformat(text)
        since.astimezone(UTC)  # stored in UTC: 0001-01-01T00:00:00+14:00 has no UTC time
    except (ValueError, OverflowError):
        raise ExportParameterError(
            _("_since is not a real date and time: %(value)s.") % {"value": text}
        ) from None
    return since


def export_start(
    *,
    member: Membership,
    kind: ExportKind,
    parameters: ExportParameters,
    request_url: str,
    patient_id: str = "",
    group_id: str = "",
) -> ExportJob:
    """Check access, store a queued job, log the kick-off and hand the job to the worker."""
    from kapflow.fhir.tasks import run_export

    patient: Patient | None = None
    with transaction.atomic():
        if kind == ExportKind.PATIENT:
            patient = access_patient(
                member=member, public_id=_uuid(patient_id), action=Action.CLINICAL_VIEW, log_view=False
            )
        else:
            require(member, Action.BULK_EXPORT)
            if kind == ExportKind.GROUP:
                group_patients(member.clinic, group_id)  # an unknown group is not found
        active = ExportJob.objects.filter(clinic=member.clinic, requested_by=member.user, status__in=ACTIVE)
        if active.count() >= MAX_ACTIVE_JOBS:
            raise TooManyExports(
                _("You have %(n)d exports waiting or running: wait for one to finish, or cancel one.")
                % {"n": MAX_ACTIVE_JOBS}
            )
        job = ExportJob.objects.create(
            clinic=member.clinic,
            requested_by=member.user,
            kind=kind,
            patient=patient,
            group_id=group_id if kind == ExportKind.GROUP else "",
            types=list(parameters.types),
            since=parameters.since,
            request_url=request_url,
        )
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=patient,
            action=AuditAction.EXPORT,
            category=DataCategory.EXPORT,
            detail=f"FHIR $export {job.public_id} started: {_scope(job)}; types {','.join(job.types)}"
            + (f"; since {parameters.since.isoformat()}" if parameters.since else ""),
        )
        run_export.enqueue(str(job.public_id))
    return job


def group_patients(clinic: Clinic, group_id: str) -> QuerySet[Patient]:
    """The cohort's patients; 404 for an id that names no cohort (or a month with no course)."""
    try:
        patients = mapping.group_patients(clinic, group_id)
    except mapping.NotFound:
        raise Http404(_("No group with that id.")) from None
    if not patients.exists():
        raise Http404(_("No group with that id."))
    return patients


def access_job(*, member: Membership, public_id: str) -> ExportJob:
    """The member's own job in this clinic (404 for anyone else's), still within their rights."""
    job = (
        ExportJob.objects.select_related("patient")
        .filter(public_id=_uuid(public_id), clinic=member.clinic, requested_by=member.user)
        .first()
    )
    if job is None:
        raise Http404(_("No export with that id."))
    if job.kind == ExportKind.PATIENT:
        assert job.patient is not None
        require(member, Action.CLINICAL_VIEW, job.patient)
    else:
        require(member, Action.BULK_EXPORT)
    return job


def export_cancel(*, member: Membership, job: ExportJob) -> None:
    """Stop a waiting or running job, or remove a finished one's files (the spec's DELETE)."""
    if job.status == ExportStatus.CANCELLED:
        raise Http404(_("This export was cancelled."))
    with transaction.atomic():
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED, finished_at=timezone.now())
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=job.patient,
            action=AuditAction.UPDATE,
            category=DataCategory.EXPORT,
            detail=f"FHIR $export {job.public_id} cancelled ({job.status}; its files removed): {_scope(job)}",
        )
    job.status = ExportStatus.CANCELLED
    remove_files(job)


def export_file(*, member: Membership, job: ExportJob, resource_type: str) -> Path:
    """The path of one finished file of the member's job; the hand-out is logged."""
    if job.status != ExportStatus.DONE or resource_type not in job.counts:
        raise Http404(_("No such file in this export."))
    path = job.file_path(resource_type)
    if not path.is_file():
        raise Http404(_("No such file in this export."))
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=job.patient,
        action=AuditAction.EXPORT,
        category=DataCategory.EXPORT,
        detail=f"FHIR $export {job.public_id}: {resource_type}.ndjson downloaded "
        f"({job.counts[resource_type]} resource(s); {_scope(job)})",
    )
    return path


def remove_files(job: ExportJob) -> None:
    shutil.rmtree(job.directory, ignore_errors=True)


def _scope(job: ExportJob) -> str:
    if job.kind == ExportKind.PATIENT:
        return "one patient"
    if job.kind == ExportKind.GROUP:
        return f"group {job.group_id}"
    return "the whole clinic"


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404(_("No record with that id.")) from None
