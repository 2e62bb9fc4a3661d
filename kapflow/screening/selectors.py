"""Reads of screening data and the patient's readiness for dosing (the gate)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.screening import gate
from kapflow.screening.models import EligibilityDecision, HealthQuestionnaire, MedicalScreening
from kapflow.screening.services import current_screening


def current_decision(patient: Patient) -> EligibilityDecision | None:
    """The latest decision, if it was made on the current screening (a newer screening
    without a decision leaves the patient with no current decision)."""
    screening = current_screening(patient)
    if screening is None:
        return None
    return EligibilityDecision.objects.filter(screening=screening).order_by("-decided_at", "-id").first()


def gate_facts(patient: Patient, *, on: date | None = None, route: str | None = None) -> gate.GateFacts:
    from kapflow.consent.selectors import consent_facts

    decision = current_decision(patient)
    decision_facts = (
        gate.DecisionFacts(
            outcome=gate.Outcome(decision.outcome),
            valid_until=decision.valid_until,
            routes=frozenset(decision.routes),
        )
        if decision is not None
        else None
    )
    return gate.GateFacts(
        decision=decision_facts,
        consent=consent_facts(patient),
        on=on or timezone.localdate(),
        route=route,
        preparation_done=preparation_done(patient),
        preparation_required=patient.clinic.preparation_visits_required,
    )


def preparation_done(patient: Patient) -> int | None:
    """Signed preparation notes of the patient's active course (else its newest planned one);
    None when the patient has no such course (the gate then does not count preparation)."""
    from kapflow.courses.models import ClinicalNote, CourseStatus, NoteStatus, TreatmentCourse, VisitKind

    courses = TreatmentCourse.objects.filter(patient=patient, voided_at__isnull=True)
    course = (
        courses.filter(status=CourseStatus.ACTIVE).first()
        or courses.filter(status=CourseStatus.PLANNED).order_by("-starts_on", "-id").first()
    )
    if course is None:
        return None
    return ClinicalNote.objects.filter(
        visit__course=course,
        visit__kind=VisitKind.PREPARATION,
        visit__voided_at__isnull=True,
        status=NoteStatus.SIGNED,
    ).count()


def readiness(patient: Patient, *, route: str | None = None) -> gate.GateResult:
    """May the patient be booked for, or start, a dosing session? Every reason if not."""
    return gate.check(gate_facts(patient, route=route))


def screening_overview(*, member: Membership, patient: Patient) -> dict[str, object]:
    require(member, Action.CLINICAL_VIEW, patient)
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.CLINICAL,
        detail="screening and eligibility",
    )
    screenings = list(
        MedicalScreening.objects.filter(patient=patient)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    return {
        "report": HealthQuestionnaire.objects.filter(patient=patient).order_by("-created_at").first(),
        "screenings": screenings,
        "current": screenings[0] if screenings else None,
        "decisions": list(
            EligibilityDecision.objects.filter(patient=patient).select_related("decided_by", "screening")
        ),
        "decision": current_decision(patient),
        "readiness": readiness(patient),
    }
