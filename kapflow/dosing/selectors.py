"""Reads of dosing sessions, checked and audited, and the facts the pure gate, monitoring
timeline and discharge checklist are computed from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import deny, require
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.dosing import discharge, gate, monitoring
from kapflow.dosing import protocol as rules
from kapflow.dosing.discharge import ITEM_LABELS
from kapflow.dosing.models import (
    OPEN_SESSION,
    Administration,
    DosingSession,
    Reading,
    ReadingKind,
    SessionStatus,
)
from kapflow.dosing.protocols import parsed
from kapflow.measures.models import AlertSeverity, AlertStatus, MeasureAssignment, SafetyAlert, Schedule
from kapflow.patients.models import Patient

PREDOSE_MEASURE_WINDOW = timedelta(hours=24)


def access_session(
    *,
    member: Membership,
    session_id: uuid.UUID | str,
    action: Action = Action.CLINICAL_VIEW,
    log: bool = True,
) -> DosingSession:
    """The session, if the member may take ``action`` on its patient (404 for other clinics)."""
    session = (
        DosingSession.objects.select_related("patient", "patient__clinic", "course", "protocol", "room")
        .filter(public_id=session_id, clinic=member.clinic, voided_at__isnull=True)
        .first()
    )
    if session is None:
        elsewhere = DosingSession.objects.filter(public_id=session_id).select_related("patient").first()
        deny(
            member,
            action,
            "no dosing session with that id in this clinic",
            elsewhere.patient if elsewhere else None,
            hide=True,
        )
        raise Http404("No such dosing session.")  # deny() always raises
    require(member, action, session.patient)
    if log and action == Action.CLINICAL_VIEW:
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=session.patient,
            action=AuditAction.VIEW,
            category=DataCategory.CLINICAL,
            detail=f"dosing session {session.public_id}",
        )
    return session


def patient_sessions(*, member: Membership, patient: Patient) -> list[DosingSession]:
    require(member, Action.CLINICAL_VIEW, patient)
    return list(
        DosingSession.objects.filter(patient=patient, voided_at__isnull=True).select_related("course")
    )


def given_mg(session: DosingSession) -> Decimal:
    total = Administration.objects.filter(session=session, voided_at__isnull=True).aggregate(
        t=Sum("dose_mg")
    )["t"]
    return total or Decimal(0)


@dataclass(frozen=True)
class Weight:
    kg: Decimal
    at: datetime
    source: str


def weight(session: DosingSession) -> Weight | None:
    """The weight recorded at check-in, else the latest medical screening's."""
    from kapflow.screening.models import MedicalScreening

    if session.weight_kg is not None and session.weight_at is not None:
        return Weight(session.weight_kg, session.weight_at, "check-in")
    screening = MedicalScreening.objects.filter(patient=session.patient).order_by("-created_at").first()
    if screening is None:
        return None
    return Weight(screening.weight_kg, screening.created_at, "medical screening")


def predose_reading(session: DosingSession) -> Reading | None:
    return (
        Reading.objects.filter(
            session=session, kind=ReadingKind.VITALS, before_dose=True, voided_at__isnull=True
        )
        .order_by("-taken_at", "-id")
        .first()
    )


def measures_outstanding(session: DosingSession) -> tuple[str, ...]:
    """Before-dosing questionnaires without an answer in the 24 hours before check-in or since."""
    from kapflow.measures.selectors import effective_responses

    keys = MeasureAssignment.objects.filter(
        patient=session.patient,
        schedule=Schedule.BEFORE_DOSING,
        stopped_at__isnull=True,
        voided_at__isnull=True,
    ).values_list("instrument_key", flat=True)
    since = session.checked_in_at - PREDOSE_MEASURE_WINDOW
    return tuple(
        sorted(
            key
            for key in set(keys)
            if not effective_responses(session.patient, key).filter(answered_at__gte=since).exists()
        )
    )


def predose_facts(session: DosingSession, *, now: datetime | None = None) -> gate.PredoseFacts:
    from kapflow.screening.selectors import readiness

    now = now or timezone.now()
    screening = readiness(session.patient, route=session.route)
    reading = predose_reading(session)
    found = weight(session)
    return gate.PredoseFacts(
        screening_blockers=tuple(b.message for b in screening.blockers),
        vitals=reading.vitals() if reading is not None else None,
        weight_kg=found.kg if found else None,
        weight_age_days=(now - found.at).days if found else None,
        measures_outstanding=measures_outstanding(session),
        open_high_alert=SafetyAlert.objects.filter(
            patient=session.patient, status=AlertStatus.OPEN, severity=AlertSeverity.HIGH
        ).exists(),
        fasting_confirmed=session.fasting_confirmed,
        escort_confirmed=session.escort_confirmed,
        intentions_reviewed=session.intentions_reviewed,
        pregnancy=gate.Pregnancy(session.pregnancy_test),
        overrides={check: entry.get("reason", "") for check, entry in session.overrides.items()},
    )


def session_gate(session: DosingSession) -> gate.GateResult:
    return gate.check(parsed(session.protocol), predose_facts(session))


def _entries(session: DosingSession) -> dict[rules.CheckKind, list[datetime]]:
    entries: dict[rules.CheckKind, list[datetime]] = {kind: [] for kind in rules.CheckKind}
    readings = Reading.objects.filter(session=session, before_dose=False, voided_at__isnull=True)
    for kind, at in readings.values_list("kind", "taken_at"):
        if kind in rules.CheckKind.__members__.values():
            entries[rules.CheckKind(kind)].append(at)
    return entries


def session_timeline(session: DosingSession, *, now: datetime | None = None) -> list[monitoring.Due]:
    if session.first_administered_at is None:
        return []
    protocol = parsed(session.protocol)
    return monitoring.timeline(
        protocol.monitoring, session.first_administered_at, _entries(session), now or timezone.now()
    )


def _last(session: DosingSession, kind: ReadingKind) -> Reading | None:
    return (
        Reading.objects.filter(session=session, kind=kind, before_dose=False, voided_at__isnull=True)
        .order_by("-taken_at", "-id")
        .first()
    )


def discharge_facts(
    session: DosingSession, confirmed: frozenset[rules.DischargeItem], *, now: datetime | None = None
) -> discharge.DischargeFacts:
    assert session.first_administered_at is not None
    protocol = parsed(session.protocol)
    vitals = _last(session, ReadingKind.VITALS)
    moaas = _last(session, ReadingKind.MOAAS)
    return discharge.DischargeFacts(
        first_administered_at=session.first_administered_at,
        now=now or timezone.now(),
        min_observation_minutes=protocol.min_observation_minutes,
        last_vitals=vitals.vitals() if vitals else None,
        last_vitals_at=vitals.taken_at if vitals else None,
        last_moaas=moaas.moaas if moaas else None,
        last_moaas_at=moaas.taken_at if moaas else None,
        confirmed=confirmed,
    )


def discharge_checklist(
    session: DosingSession,
    confirmed: frozenset[rules.DischargeItem] = frozenset(),
    *,
    now: datetime | None = None,
) -> list[discharge.Item]:
    if session.first_administered_at is None:
        return []
    protocol = parsed(session.protocol)
    return discharge.checklist(
        protocol.discharge_criteria, discharge_facts(session, confirmed, now=now), protocol.during
    )


def my_open_sessions(member: Membership) -> list[DosingSession]:
    """Sessions in progress for patients on the member's care team (the clinic home page)."""
    if not member.is_clinical:
        return []
    return list(
        DosingSession.objects.filter(
            clinic=member.clinic,
            status__in=OPEN_SESSION,
            voided_at__isnull=True,
            patient__care_team__user=member.user,
            patient__care_team__removed_at__isnull=True,
        )
        .select_related("patient", "room")
        .order_by("checked_in_at")
    )


def session_record(session: DosingSession) -> dict[str, Any]:
    """Everything the session page and the printed record show (the caller has checked access)."""
    protocol = parsed(session.protocol)
    readings = list(
        Reading.objects.filter(session=session, voided_at__isnull=True).select_related("recorded_by")
    )
    minutes = None
    if session.first_administered_at and session.discharged_at:
        minutes = int((session.discharged_at - session.first_administered_at).total_seconds() // 60)
    return {
        "protocol": protocol,
        "administrations": list(
            session.administrations.filter(voided_at__isnull=True).select_related(
                "lot", "administered_by", "witnessed_by"
            )
        ),
        "readings": readings,
        "breaches": [r for r in readings if r.breaches],
        "events": list(session.events.filter(voided_at__isnull=True).select_related("recorded_by")),
        "addenda": list(session.addenda.select_related("author")),
        "total_mg": given_mg(session),
        "monitoring_minutes": minutes,
        "discharge_record": [
            {"label": ITEM_LABELS.get(rules.DischargeItem(i["item"]), i["item"]), "message": i["message"]}
            for i in session.discharge_checklist
            if i.get("item") in rules.DischargeItem.__members__.values()
        ],
        "is_open": session.status in OPEN_SESSION,
        "discharged": session.status == SessionStatus.DISCHARGED,
    }
