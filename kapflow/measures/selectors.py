"""Reads of measures and safety alerts, checked for clinical access and audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.core.roles import CLINICAL_ROLES
from kapflow.measures.models import AlertStatus, MeasureRequest, MeasureResponse, RequestStatus, SafetyAlert
from kapflow.measures.services import ensure_requests
from kapflow.patients.models import Patient


def effective_responses(patient: Patient, instrument_key: str | None = None) -> QuerySet[MeasureResponse]:
    """Responses that no correction replaced, oldest first."""
    responses = MeasureResponse.objects.filter(patient=patient, replaced_by__isnull=True)
    if instrument_key is not None:
        responses = responses.filter(instrument_key=instrument_key)
    return responses.order_by("answered_at", "id")


@dataclass(frozen=True)
class LatestScore:
    instrument_key: str
    name: str
    total: int | None
    band: str
    risk: str
    answered_at: object
    count: int


def latest_scores(*, member: Membership, patient: Patient) -> list[LatestScore]:
    """Per instrument, the latest score with its band and date (clinical data: audited)."""
    require(member, Action.CLINICAL_VIEW, patient)
    latest: dict[str, MeasureResponse] = {}
    counts: dict[str, int] = {}
    for response in effective_responses(patient):
        latest[response.instrument_key] = response
        counts[response.instrument_key] = counts.get(response.instrument_key, 0) + 1
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.MEASURES,
        detail="latest scores",
    )
    return [
        LatestScore(key, r.instrument_name, r.total, r.band, r.risk, r.answered_at, counts[key])
        for key, r in sorted(latest.items())
    ]


def patient_responses(*, member: Membership, patient: Patient, instrument_key: str) -> list[MeasureResponse]:
    require(member, Action.CLINICAL_VIEW, patient)
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.MEASURES,
        detail=f"{instrument_key} responses",
    )
    return list(effective_responses(patient, instrument_key).select_related("created_by"))


def due_requests(patient: Patient) -> list[MeasureRequest]:
    """What the patient has to fill in now (creates repeating occurrences that fell due)."""
    now = timezone.now()
    ensure_requests(patient, now)
    return list(
        MeasureRequest.objects.filter(patient=patient, status=RequestStatus.DUE, due_at__lte=now).order_by(
            "due_at"
        )
    )


def open_alerts_for(member: Membership) -> list[SafetyAlert]:
    """Open alerts of the patients on this clinician's care team, the most urgent first."""
    if member.role not in CLINICAL_ROLES:
        return []
    alerts = list(
        SafetyAlert.objects.filter(
            clinic=member.clinic,
            status=AlertStatus.OPEN,
            patient__care_team__user=member.user,
            patient__care_team__removed_at__isnull=True,
        )
        .select_related("patient")
        .distinct()
        .order_by("due_by")
    )
    for alert in alerts:
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=alert.patient,
            action=AuditAction.VIEW,
            category=DataCategory.MEASURES,
            detail=f"safety alert {alert.public_id} on the home page",
        )
    return alerts


def patient_alerts(*, member: Membership, patient: Patient) -> list[SafetyAlert]:
    require(member, Action.CLINICAL_VIEW, patient)
    return list(
        SafetyAlert.objects.filter(patient=patient).select_related("acknowledged_by").order_by("-created_at")
    )


def access_response(*, member: Membership, patient: Patient, public_id: uuid.UUID | str) -> MeasureResponse:
    """One response of this patient (clinical data: checked and audited); 404 if not theirs."""
    require(member, Action.CLINICAL_VIEW, patient)
    response = (
        MeasureResponse.objects.filter(patient=patient, public_id=public_id)
        .select_related("replaces", "created_by")
        .first()
    )
    if response is None:
        raise Http404("No such response.")
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.MEASURES,
        detail=f"{response.instrument_key} response {response.public_id}",
    )
    return response
