"""Helpers for the course tests: a course for Jordan with Theo and Priya, a visit and its note."""

from __future__ import annotations

from datetime import date

from kapflow.courses import services
from kapflow.courses.models import ClinicalNote, TreatmentCourse
from kapflow.screening.models import Route


def make_course(world, *, status: str | None = None, starts_on: date | None = None) -> TreatmentCourse:
    course = services.course_create(
        member=world.therapist,
        patient=world.patient,
        route=Route.SUBLINGUAL,
        planned_dosing_sessions=6,
        therapist_ids=[world.therapist.user_id],
        medical_ids=[world.prescriber.user_id],
        starts_on=starts_on or date(2026, 1, 5),
    )
    if status is not None:
        course = services.course_set_status(member=world.therapist, course=course, status=status)
    return course


def make_note(
    world, course: TreatmentCourse | None = None, kind: str = "preparation", member=None
) -> ClinicalNote:
    course = course or make_course(world)
    visit = services.visit_create(
        member=member or world.therapist, course=course, kind=kind, happened_on=date(2026, 1, 6)
    )
    return visit.note


def signed_note(world, course: TreatmentCourse | None = None, kind: str = "preparation") -> ClinicalNote:
    note = make_note(world, course, kind)
    note = services.note_save_draft(
        member=world.therapist,
        note=note,
        content={"readiness": "Ready."} if kind == "preparation" else {},
        base_version=note.version,
    )
    return services.note_sign(member=world.therapist, note=note, base_version=note.version)
