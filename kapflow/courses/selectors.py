"""Reads of treatment courses: a patient's courses, one course's timeline and next step, a
note, and the overdue integration visits of a therapist. Scoped to the member's clinic,
checked with ``require`` (through ``access_patient``) and audited."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import deny
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.courses import rules
from kapflow.courses.models import (
    OPEN_STATUSES,
    ClinicalNote,
    CourseStatus,
    NoteStatus,
    TreatmentCourse,
    Visit,
    VisitKind,
)
from kapflow.measures.models import MeasureResponse
from kapflow.measures.selectors import effective_responses
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient
from kapflow.screening import gate
from kapflow.screening.selectors import readiness


def _log(member: Membership, patient: Patient, detail: str) -> None:
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.CLINICAL,
        detail=detail,
    )


def access_course(
    *, member: Membership, course_id: uuid.UUID | str, action: Action = Action.CLINICAL_VIEW
) -> TreatmentCourse:
    """The course, if the member may take ``action`` on its patient; 404 or 403 (logged)."""
    course = (
        TreatmentCourse.objects.filter(clinic=member.clinic, public_id=course_id, voided_at__isnull=True)
        .select_related("patient")
        .first()
    )
    if course is None:
        elsewhere = TreatmentCourse.objects.filter(public_id=course_id).select_related("patient").first()
        deny(
            member,
            action,
            "no course with that id in this clinic",
            elsewhere.patient if elsewhere else None,
            hide=True,
        )
        raise AssertionError("deny() always raises")
    access_patient(member=member, public_id=course.patient.public_id, action=action, log_view=False)
    return course


def access_note(
    *, member: Membership, note_id: uuid.UUID | str, action: Action = Action.CLINICAL_VIEW
) -> ClinicalNote:
    note = (
        ClinicalNote.objects.filter(clinic=member.clinic, public_id=note_id, voided_at__isnull=True)
        .select_related("patient", "visit__course", "author")
        .first()
    )
    if note is None:
        elsewhere = ClinicalNote.objects.filter(public_id=note_id).select_related("patient").first()
        deny(
            member,
            action,
            "no note with that id in this clinic",
            elsewhere.patient if elsewhere else None,
            hide=True,
        )
        raise AssertionError("deny() always raises")
    access_patient(member=member, public_id=note.patient.public_id, action=action, log_view=False)
    return note


def patient_courses(*, member: Membership, patient: Patient) -> list[TreatmentCourse]:
    """The patient's courses, newest first (clinical: checked and audited)."""
    access_patient(member=member, public_id=patient.public_id, action=Action.CLINICAL_VIEW, log_view=False)
    _log(member, patient, "treatment courses")
    return list(
        TreatmentCourse.objects.filter(patient=patient, voided_at__isnull=True).prefetch_related(
            "therapists", "medical_staff"
        )
    )


def note_view(*, member: Membership, note: ClinicalNote) -> ClinicalNote:
    _log(member, note.patient, f"note {note.public_id}")
    return note


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    kind: str  # "visit" or "measure"
    visit: Visit | None = None
    response: MeasureResponse | None = None


def signed_preparation_count(course: TreatmentCourse) -> int:
    return ClinicalNote.objects.filter(
        visit__course=course,
        visit__kind=VisitKind.PREPARATION,
        visit__voided_at__isnull=True,
        status=NoteStatus.SIGNED,
    ).count()


def next_step(course: TreatmentCourse) -> str:
    result = readiness(course.patient, route=course.route)
    facts = rules.CourseFacts(
        status=course.status,
        preparation_done=signed_preparation_count(course),
        preparation_required=course.patient.clinic.preparation_visits_required,
        planned_sessions=course.planned_dosing_sessions,
        blockers=tuple(b.message for b in result.blockers if b.reason != gate.Reason.PREPARATION_INCOMPLETE),
    )
    return rules.next_step(facts)


def course_timeline(*, member: Membership, course: TreatmentCourse) -> dict[str, Any]:
    """Every visit (with its note and addenda) and every measure response of the course's
    patient from the course's start, in date order, and the next step in plain words."""
    patient = course.patient
    _log(member, patient, f"course timeline {course.public_id}")
    visits = list(
        Visit.objects.filter(course=course, voided_at__isnull=True)
        .select_related("staff", "note__author")
        .prefetch_related("note__addenda__author")
    )
    entries = [TimelineEntry(on=v.happened_on, kind="visit", visit=v) for v in visits]
    tz = timezone.get_current_timezone()
    for response in effective_responses(patient):
        entries.append(
            TimelineEntry(
                on=timezone.localtime(response.answered_at, tz).date(), kind="measure", response=response
            )
        )
    entries.sort(key=lambda e: (e.on, e.kind != "visit"))
    return {
        "entries": entries,
        "next_step": next_step(course),
        "therapists": list(course.therapists.all()),
        "medical_staff": list(course.medical_staff.all()),
    }


def active_course(patient: Patient) -> TreatmentCourse | None:
    return TreatmentCourse.objects.filter(
        patient=patient, status=CourseStatus.ACTIVE, voided_at__isnull=True
    ).first()


@dataclass(frozen=True)
class OverdueIntegration:
    course: TreatmentCourse
    session_on: date
    due_on: date


def overdue_integrations(member: Membership) -> list[OverdueIntegration]:
    """Dosing sessions of the member's courses (as a therapist) still without an integration
    visit ``clinic.integration_due_days`` after the session day.

    A session counts as integrated when an integration visit of its course falls on or after
    its day and before the course's next dosing session."""
    from kapflow.dosing.models import DosingSession, SessionStatus

    if not member.is_clinical:
        return []
    today = timezone.localdate()
    due_days = timedelta(days=member.clinic.integration_due_days)
    courses = TreatmentCourse.objects.filter(
        clinic=member.clinic, therapists=member.user, status__in=OPEN_STATUSES, voided_at__isnull=True
    ).select_related("patient")
    # Every course's sessions and integration visits in one query each, not two per course.
    days: dict[int, list[date]] = defaultdict(list)
    sessions = DosingSession.objects.filter(
        course__in=courses.values("pk"), status=SessionStatus.DISCHARGED, voided_at__isnull=True
    )
    for course_id, at in sessions.order_by("checked_in_at").values_list("course_id", "checked_in_at"):
        days[course_id].append(timezone.localdate(at))
    visits: dict[int, list[date]] = defaultdict(list)
    integrations = Visit.objects.filter(
        course__in=courses.values("pk"), kind=VisitKind.INTEGRATION, voided_at__isnull=True
    )
    for course_id, happened_on in integrations.values_list("course_id", "happened_on"):
        visits[course_id].append(happened_on)
    found = []
    for course in courses:
        held = days[course.pk]
        for i, day in enumerate(held):
            until = held[i + 1] if i + 1 < len(held) else None
            done = any(day <= v and (until is None or v < until) for v in visits[course.pk])
            if not done and today > day + due_days:
                found.append(OverdueIntegration(course=course, session_on=day, due_on=day + due_days))
    return found
