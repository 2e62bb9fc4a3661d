"""The patient's side of questionnaires: reads for the portal (their own requests only).

``portal_view`` has already resolved the signed-in patient; every function here takes that
patient and never a patient id from the URL. Reads of a questionnaire page are logged against
the patient (``DataCategory.MEASURES``); writes are logged by ``services``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from kapflow.accounts.models import User
from kapflow.core import audit
from kapflow.core.models import AuditAction, AuditOutcome, DataCategory
from kapflow.measures import registry
from kapflow.measures.instruments.model import Instrument
from kapflow.measures.models import MeasureRequest, MeasureResponse, RequestStatus
from kapflow.measures.selectors import due_requests
from kapflow.patients.models import Patient


class QuestionnaireClosed(Http404):
    """The patient's own request, cancelled or replaced by a newer one: nothing to answer."""


@dataclass(frozen=True)
class DueQuestionnaire:
    """One line of the portal home's list: "PHQ-9: due since 3 Nov"."""

    name: str
    due_at: datetime
    url: str
    due_now: bool  # False: due on a later day (a one-off set to start later)
    started: bool  # some answers are saved already


def instrument_of(request: MeasureRequest) -> Instrument:
    """The instrument a request asks for (404 if the clinic no longer has it)."""
    try:
        return registry.instrument_for(request.clinic, request.instrument_key)
    except registry.UnknownInstrument:
        raise Http404("No such instrument.") from None


def questionnaire_url(request: MeasureRequest) -> str:
    return reverse("portal_measures:answer", kwargs={"request_id": request.public_id})


def due_questionnaires(patient: Patient) -> list[DueQuestionnaire]:
    """What the patient has to fill in now, the longest due first (the caller logs the page)."""
    found = []
    now = timezone.now()
    for request in due_requests(patient):
        try:
            name = registry.instrument_for(patient.clinic, request.instrument_key).short_name
        except registry.UnknownInstrument:
            continue  # an uploaded instrument the clinic switched off: nothing to answer
        found.append(
            DueQuestionnaire(
                name, request.due_at, questionnaire_url(request), request.due_at <= now, bool(request.draft)
            )
        )
    return found


def own_request(*, patient: Patient, user: User, request_id: uuid.UUID) -> MeasureRequest:
    """The patient's own request with this id; 404 for anyone else's (logged as denied) and for
    one that was cancelled or replaced by a newer one (a completed one is returned)."""
    found = (
        MeasureRequest.objects.select_related("clinic", "patient__clinic")
        .filter(public_id=request_id)
        .first()
    )
    if found is None:
        raise Http404("No such questionnaire.")
    if found.patient_id != patient.pk:
        audit.record(
            user=user,
            clinic=found.clinic,
            patient=found.patient,
            action=AuditAction.VIEW,
            category=DataCategory.MEASURES,
            outcome=AuditOutcome.DENIED,
            detail=f"portal: questionnaire {found.public_id} of another patient",
        )
        raise Http404("No such questionnaire.")
    if found.status not in (RequestStatus.DUE, RequestStatus.COMPLETED):
        raise QuestionnaireClosed("This questionnaire is no longer open.")
    return found


def response_to(request: MeasureRequest) -> MeasureResponse | None:
    """The response that answered a completed request."""
    return MeasureResponse.objects.filter(request=request).first()


def raised_safety_flag(response: MeasureResponse | None) -> bool:
    return response is not None and (bool(response.flags) or response.alerts.exists())


def page_viewed(*, user: User, request: MeasureRequest, what: str) -> None:
    """Log that the patient read a page of their questionnaire."""
    audit.record(
        user=user,
        clinic=request.clinic,
        patient=request.patient,
        action=AuditAction.VIEW,
        category=DataCategory.MEASURES,
        detail=f"portal: {request.instrument_key} questionnaire {request.public_id}, {what}",
    )
