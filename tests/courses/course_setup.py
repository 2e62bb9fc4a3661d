"""Plain helpers for the psychotherapy, portal and marker tests (no fixtures, so they do not
collide with the staff side's conftest)."""

from __future__ import annotations

from django.utils import timezone

from kapflow.core.roles import Role
from kapflow.courses.models import CourseStatus, TreatmentCourse
from kapflow.patients import services as patient_services
from tests.conftest import World, make_member


def make_course(world: World, status: str = CourseStatus.ACTIVE) -> TreatmentCourse:
    """Jordan's course, written directly (the staff side's services are built in parallel)."""
    course = TreatmentCourse.objects.create(
        clinic=world.demo,
        patient=world.patient,
        route="sublingual",
        planned_dosing_sessions=4,
        status=status,
        starts_on=timezone.localdate(),
        created_by=world.therapist.user,
    )
    course.therapists.add(world.therapist.user)
    course.medical_staff.add(world.prescriber.user)
    return course


def second_therapist(world: World):
    """Tess: another Demo therapist, on Jordan's care team too."""
    tess = make_member(world.demo, "tess@demo.test", "Tess Second", Role.THERAPIST)
    patient_services.care_team_add(member=world.frontdesk, patient=world.patient, membership_id=tess.pk)
    return tess
