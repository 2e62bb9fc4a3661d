"""FHIR Bulk Data ``$export`` (v2, asynchronous): kick-off, status, cancel and files.

* ``GET /fhir/$export``, ``/fhir/Patient/<id>/$export``, ``/fhir/Group/<id>/$export`` start a
  job: ``202 Accepted`` with ``Content-Location`` naming the status URL.
* ``GET /fhir/$export-status/<job>``: ``202`` with ``X-Progress`` and ``Retry-After`` while it
  runs, ``200`` with the manifest when done; ``DELETE`` cancels it (or removes its files).
* ``GET /fhir/$export-file/<job>/<Type>.ndjson``: one file, ``application/fhir+ndjson``.

Same callers as the API (a personal token or the browser's session); errors are
OperationOutcome resources. The rules live in ``export_services``.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.api.authentication import member_of
from kapflow.fhir import export_services as services
from kapflow.fhir.base import FHIR_JSON, FhirJsonRenderer, FhirView, operation_outcome
from kapflow.fhir.models import ACTIVE, ExportJob, ExportKind, ExportStatus

NDJSON = "application/fhir+ndjson"
RETRY_SECONDS = 3  # how soon to poll again while a job waits or runs
BUSY_SECONDS = 60  # how soon to try again when the person has too many exports waiting


class NdjsonRenderer(JSONRenderer):
    """Only so that ``Accept: application/fhir+ndjson`` is acceptable; files bypass rendering."""

    media_type = NDJSON


class PlainNdjsonRenderer(JSONRenderer):
    media_type = "application/ndjson"


class ExportKickOff(FhirView):
    """Start an export of the whole clinic, a group or one patient."""

    kind = ExportKind.SYSTEM

    def get(self, request: Request, patient_id: str = "", group_id: str = "") -> Response:
        prefer = request.headers.get("Prefer", "")
        preferences = {part.strip().lower() for part in prefer.split(",") if part.strip()}
        if prefer and "respond-async" not in preferences:
            raise services.ExportParameterError(_("Send Prefer: respond-async; exports are asynchronous."))
        params = {name: request.query_params.getlist(name) for name in request.query_params}
        services.check_output_format(params.get("_outputFormat", []))
        parameters = services.parse_parameters(params, strict="handling=strict" in preferences)
        try:
            job = services.export_start(
                member=member_of(request),
                kind=self.kind,
                parameters=parameters,
                request_url=request.build_absolute_uri(),
                patient_id=patient_id,
                group_id=group_id,
            )
        except services.TooManyExports as busy:
            raise exceptions.Throttled(wait=BUSY_SECONDS, detail=busy.message) from None
        status_url = request.build_absolute_uri(
            reverse("fhir:export_status", kwargs={"job_id": job.public_id})
        )
        return Response(status=202, headers={"Content-Location": status_url})


class PatientExportKickOff(ExportKickOff):
    kind = ExportKind.PATIENT


class GroupExportKickOff(ExportKickOff):
    kind = ExportKind.GROUP


class ExportStatusView(FhirView):
    """Poll a job (202 while it runs, the manifest when done) or cancel it (DELETE)."""

    def get(self, request: Request, job_id: str) -> Response:
        job = services.access_job(member=member_of(request), public_id=job_id)
        if job.status in ACTIVE:
            return Response(
                status=202, headers={"X-Progress": progress_text(job), "Retry-After": str(RETRY_SECONDS)}
            )
        if job.status == ExportStatus.CANCELLED:
            raise Http404(_("This export was cancelled."))
        if job.status == ExportStatus.FAILED:
            return Response(
                operation_outcome(job.error or _("The export failed."), "exception"),
                status=500,
                content_type=FHIR_JSON,
            )
        return Response(manifest(request, job), content_type="application/json")

    def delete(self, request: Request, job_id: str) -> Response:
        member = member_of(request)
        job = services.access_job(member=member, public_id=job_id)
        services.export_cancel(member=member, job=job)
        return Response(
            operation_outcome(
                _("The export was cancelled and its files removed."), "informational", "information"
            ),
            status=202,
            content_type=FHIR_JSON,
        )


class ExportFileView(FhirView):
    """One NDJSON file of a finished job, streamed from disk."""

    renderer_classes = [NdjsonRenderer, PlainNdjsonRenderer, FhirJsonRenderer, JSONRenderer]

    def get(self, request: Request, job_id: str, resource_type: str) -> FileResponse:
        member = member_of(request)
        job = services.access_job(member=member, public_id=job_id)
        path = services.export_file(member=member, job=job, resource_type=resource_type)
        return FileResponse(path.open("rb"), content_type=NDJSON)


def progress_text(job: ExportJob) -> str:
    if job.status == ExportStatus.QUEUED:
        return _("queued: waiting for the worker")
    text = _("running: %(percent)d%%") % {"percent": job.progress}
    if job.current_type:
        written = job.counts.get(job.current_type, 0)
        text += _(", writing %(type)s (%(n)d so far)") % {"type": job.current_type, "n": written}
    return text[:100]


def manifest(request: Request, job: ExportJob) -> dict[str, Any]:
    """The completion manifest (Bulk Data v2): one output entry per non-empty file."""
    assert job.transaction_time is not None
    return {
        "transactionTime": job.transaction_time.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": resource_type,
                "url": request.build_absolute_uri(
                    reverse(
                        "fhir:export_file", kwargs={"job_id": job.public_id, "resource_type": resource_type}
                    )
                ),
                "count": job.counts[resource_type],
            }
            for resource_type in job.types
            if job.counts.get(resource_type)
        ],
        "error": [],
    }
