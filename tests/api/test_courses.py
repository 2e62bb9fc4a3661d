"""``/api/v1/courses/`` and ``/api/v1/visits/``: read only, for the care team."""

from __future__ import annotations

from datetime import date

import pytest

from kapflow.core.models import AccessLogEntry
from kapflow.courses.models import TreatmentCourse
from tests.api.helpers import api
from tests.api.rest_helpers import PROBLEM, assert_shaped_as, fields_in_error
from tests.courses.course_helpers import make_course, make_note

pytestmark = pytest.mark.django_db


def test_a_clinician_lists_and_reads_the_courses_of_their_patients(world):
    course = make_course(world, status="active")
    client = api(world.therapist)
    listed = client.get("/api/v1/courses/", {"patient": str(world.patient.public_id)})
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 1
    item = body["results"][0]
    assert_shaped_as(item, "CourseOut")
    assert (item["id"], item["patient"], item["status"]) == (
        str(course.public_id),
        str(world.patient.public_id),
        "active",
    )
    assert [t["email"] for t in item["therapists"]] == [world.therapist.user.email]

    read = client.get(f"/api/v1/courses/{course.public_id}/")
    assert read.status_code == 200
    assert read["ETag"] == f'"{course.public_id}.{course.version}"'
    assert_shaped_as(read.json(), "CourseDetailOut")
    assert read.json()["next_step"]
    assert AccessLogEntry.objects.filter(
        patient=world.patient, detail__contains=str(course.public_id)
    ).exists()


def test_courses_are_filtered_by_status_and_start_day(world):
    make_course(world, starts_on=date(2026, 1, 5))
    client = api(world.prescriber)
    assert client.get("/api/v1/courses/", {"status": "planned"}).json()["count"] == 1
    assert client.get("/api/v1/courses/", {"status": "active"}).json()["count"] == 0
    assert client.get("/api/v1/courses/", {"since": "2026-01-05", "until": "2026-01-05"}).json()["count"] == 1
    assert client.get("/api/v1/courses/", {"since": "2026-01-06"}).json()["count"] == 0
    assert client.get("/api/v1/courses/", {"since": "0001-01-01", "until": "9999-12-31"}).status_code == 200


def test_bad_course_filters_are_400_with_the_fields_named(world):
    client = api(world.therapist)
    response = client.get("/api/v1/courses/", {"status": "finished", "patient": "nope"})
    assert response.status_code == 400 and fields_in_error(response) == {"status", "patient"}
    response = client.get("/api/v1/courses/", {"colour": "red"})
    assert response.status_code == 400 and fields_in_error(response) == {"colour"}
    response = client.get("/api/v1/courses/", {"since": "2026-02-01", "until": "2026-01-01"})
    assert response.status_code == 400 and fields_in_error(response) == {"until"}


def test_another_clinics_course_is_404(world):
    course = make_course(world)
    for member in (world.other_admin, world.other_therapist):
        response = api(member).get(f"/api/v1/courses/{course.public_id}/")
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    response = api(world.other_therapist).get("/api/v1/courses/", {"patient": str(world.patient.public_id)})
    assert response.status_code == 404


def test_front_desk_and_clinicians_off_the_care_team_cannot_read_courses(world):
    course = make_course(world)
    desk = api(world.frontdesk)
    assert desk.get("/api/v1/courses/").status_code == 403
    assert desk.get(f"/api/v1/courses/{course.public_id}/").status_code == 403
    nurse = api(world.nurse)  # not on Jordan's care team
    assert nurse.get(f"/api/v1/courses/{course.public_id}/").status_code == 403
    assert nurse.get("/api/v1/courses/").json()["count"] == 0


def test_courses_cannot_be_written_through_the_api(world):
    course = make_course(world)
    body = {"route": "nasal"}
    assert (
        api(world.therapist, read_only=True).post("/api/v1/courses/", body, format="json").status_code == 403
    )
    assert api(world.therapist).post("/api/v1/courses/", body, format="json").status_code == 405
    assert (
        api(world.therapist).patch(f"/api/v1/courses/{course.public_id}/", body, format="json").status_code
        == 405
    )
    assert TreatmentCourse.objects.get().route == course.route


def test_visits_are_listed_by_course_and_day_and_read_one_by_one(world):
    course = make_course(world)
    note = make_note(world, course)  # a preparation visit on 2026-01-06
    visit = note.visit
    client = api(world.therapist)
    listed = client.get("/api/v1/visits/", {"course": str(course.public_id)})
    assert listed.status_code == 200 and listed.json()["count"] == 1
    item = listed.json()["results"][0]
    assert_shaped_as(item, "VisitOut")
    assert (item["id"], item["course"], item["note"], item["note_status"]) == (
        str(visit.public_id),
        str(course.public_id),
        str(note.public_id),
        "draft",
    )
    assert client.get("/api/v1/visits/", {"until": "2026-01-05"}).json()["count"] == 0
    assert client.get("/api/v1/visits/", {"kind": "integration"}).json()["count"] == 0

    read = client.get(f"/api/v1/visits/{visit.public_id}/")
    assert read.status_code == 200 and read["ETag"] == f'"{visit.public_id}.{visit.version}"'
    assert read.json()["staff"]["email"] == world.therapist.user.email


def test_visits_are_refused_to_those_outside_the_care_team_and_other_clinics(world):
    course = make_course(world)
    visit = make_note(world, course).visit
    assert api(world.frontdesk).get(f"/api/v1/visits/{visit.public_id}/").status_code == 403
    assert api(world.nurse).get(f"/api/v1/visits/{visit.public_id}/").status_code == 403
    assert api(world.nurse).get("/api/v1/visits/", {"course": str(course.public_id)}).status_code == 403
    assert api(world.other_admin).get(f"/api/v1/visits/{visit.public_id}/").status_code == 404
    assert (
        api(world.other_therapist).get("/api/v1/visits/", {"course": str(course.public_id)}).status_code
        == 404
    )
    response = api(world.therapist).get("/api/v1/visits/", {"course": "not-a-uuid", "kind": "party"})
    assert response.status_code == 400 and fields_in_error(response) == {"course", "kind"}
    assert api(world.therapist).get("/api/v1/visits/00000000-0000-0000-0000-000000000000/").status_code == 404
