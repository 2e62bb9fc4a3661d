"""Starting a course and changing its status: care team, one active course, reasons, audit."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from kapflow.core.errors import ApplicationError
from kapflow.core.models import AccessLogEntry
from kapflow.core.roles import Role
from kapflow.courses import services
from kapflow.courses.models import CourseStatus, TreatmentCourse
from tests.conftest import make_member
from tests.courses.course_helpers import make_course


def create(world, member=None, **kw):
    args = dict(
        member=member or world.therapist,
        patient=world.patient,
        route="sublingual",
        planned_dosing_sessions=6,
        therapist_ids=[world.therapist.user_id],
        medical_ids=[world.prescriber.user_id],
        starts_on=date(2026, 1, 5),
    )
    return services.course_create(**{**args, **kw})


def test_a_clinician_on_the_care_team_plans_a_course_and_it_is_audited(world):
    course = create(world)
    assert course.status == CourseStatus.PLANNED
    assert list(course.therapists.all()) == [world.therapist.user]
    assert list(course.medical_staff.all()) == [world.prescriber.user]
    entry = AccessLogEntry.objects.filter(patient=world.patient).order_by("-id")[0]
    assert entry.action == "create" and entry.category == "clinical" and entry.outcome == "allowed"


def test_a_nurse_may_be_the_medical_professional(world):
    assert list(create(world, medical_ids=[world.nurse.user_id]).medical_staff.all()) == [world.nurse.user]


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"therapist_ids": []}, "at least one therapist"),
        ({"medical_ids": []}, "at least one medical professional"),
        ({"therapist_ids": ["prescriber"]}, "at least one therapist"),
        ({"medical_ids": ["therapist"]}, "at least one medical professional"),
        ({"therapist_ids": ["other_therapist"]}, "at least one therapist"),
        ({"route": "oral-spray"}, "route"),
        ({"planned_dosing_sessions": 0}, "between 1 and 50"),
        ({"planned_dosing_sessions": 51}, "between 1 and 50"),
    ],
)
def test_a_course_without_a_proper_care_team_or_plan_is_refused(world, kw, words):
    kw = {k: [world.member(v).user_id for v in val] if k.endswith("_ids") else val for k, val in kw.items()}
    with pytest.raises(ApplicationError, match=words):
        create(world, **kw)
    assert TreatmentCourse.objects.count() == 0


def test_an_inactive_therapist_is_refused(world):
    world.therapist.is_active = False
    world.therapist.save()
    with pytest.raises(ApplicationError, match="at least one therapist"):
        create(world, member=world.prescriber)


@pytest.mark.parametrize("persona", ["frontdesk", "admin", "nurse"])
def test_front_desk_admin_and_clinicians_off_the_team_may_not_plan_a_course(world, persona):
    with pytest.raises(PermissionDenied):
        create(world, member=world.member(persona))
    assert AccessLogEntry.objects.filter(outcome="denied", patient=world.patient).exists()


def test_the_other_clinic_gets_404_not_403(world):
    from django.http import Http404

    with pytest.raises(Http404):
        create(world, member=world.other_therapist)


def test_starting_a_course_makes_it_active(world):
    course = services.course_set_status(member=world.prescriber, course=make_course(world), status="active")
    assert course.status == "active" and course.ended_on is None and course.version == 2


def test_a_second_active_course_is_refused(world):
    make_course(world, status="active")
    second = make_course(world)
    with pytest.raises(ApplicationError, match="already has an active course"):
        services.course_set_status(member=world.therapist, course=second, status="active")
    second.refresh_from_db()
    assert second.status == "planned"


def test_the_database_refuses_a_second_active_course_too(world):
    make_course(world, status="active")
    second = make_course(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentCourse.objects.filter(pk=second.pk).update(status="active")


def test_a_race_to_a_second_active_course_is_refused_with_the_message(world, monkeypatch):
    """The check passed (another request had not committed yet); the constraint catches it."""
    make_course(world, status="active")
    second = make_course(world)
    real_filter = TreatmentCourse.objects.filter

    class NoneActive:
        def exclude(self, *a, **k):
            return self

        def exists(self):
            return False

    def fake_filter(*args, **kwargs):
        return NoneActive() if kwargs.get("status") == CourseStatus.ACTIVE else real_filter(*args, **kwargs)

    monkeypatch.setattr(TreatmentCourse.objects, "filter", fake_filter)
    with pytest.raises(ApplicationError, match="already has an active course"):
        services.course_set_status(member=world.therapist, course=second, status="active")


def test_discontinuing_needs_a_reason(world):
    course = make_course(world, status="active")
    with pytest.raises(ApplicationError, match="reason"):
        services.course_set_status(member=world.therapist, course=course, status="discontinued", reason="  ")
    course = services.course_set_status(
        member=world.therapist, course=course, status="discontinued", reason="Moved away"
    )
    assert course.status_reason == "Moved away" and course.ended_on == timezone.localdate()


def test_completing_sets_the_end_date_and_closes_the_course(world):
    course = services.course_set_status(
        member=world.therapist, course=make_course(world, status="active"), status="completed"
    )
    assert course.ended_on == timezone.localdate()
    with pytest.raises(ApplicationError, match="closed"):
        services.course_set_status(member=world.therapist, course=course, status="active")


def test_pausing_and_resuming(world):
    course = make_course(world, status="active")
    course = services.course_set_status(member=world.therapist, course=course, status="paused")
    course = services.course_set_status(member=world.therapist, course=course, status="active")
    assert course.status == "active"


def test_an_unknown_or_unchanged_status_is_refused(world):
    course = make_course(world)
    with pytest.raises(ApplicationError):
        services.course_set_status(member=world.therapist, course=course, status="finished")
    with pytest.raises(ApplicationError, match="already has that status"):
        services.course_set_status(member=world.therapist, course=course, status="planned")


def test_a_second_clinic_membership_of_another_role_does_not_count(world):
    make_member(world.other, "olive2@other.test", "Olive Two", Role.PRESCRIBER)
    with pytest.raises(ApplicationError):
        create(world, medical_ids=[world.other_therapist.user_id])
