"""The course pages in the browser's shoes: list, start, timeline, status, visits, notes."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from kapflow.core.models import AccessLogEntry
from kapflow.courses import services
from kapflow.courses.models import Addendum, ClinicalNote, TreatmentCourse, Visit
from tests.courses.course_helpers import make_course, make_note, signed_note


def url(name: str, **kw) -> str:
    return reverse(f"courses:{name}", kwargs={"clinic": "demo", **kw})


def test_a_therapist_starts_a_course_from_the_form(world, login):
    client = login(world.therapist)
    page = client.get(url("new", patient_id=world.patient.public_id))
    assert page.status_code == 200 and "Theo Therapist" in page.content.decode()
    response = client.post(
        url("new", patient_id=world.patient.public_id),
        {
            "route": "sublingual",
            "planned_dosing_sessions": "6",
            "therapists": [str(world.therapist.user_id)],
            "medical": [str(world.prescriber.user_id)],
            "starts_on": "2026-02-01",
        },
    )
    course = TreatmentCourse.objects.get()
    assert response.status_code == 302 and response["Location"] == url("course", course_id=course.public_id)


def test_a_course_form_without_a_medical_professional_is_400_and_keeps_what_was_typed(world, login):
    client = login(world.therapist)
    response = client.post(
        url("new", patient_id=world.patient.public_id),
        {
            "route": "sublingual",
            "planned_dosing_sessions": "7",
            "therapists": [str(world.therapist.user_id)],
            "starts_on": "2026-02-01",
        },
    )
    assert response.status_code == 400
    assert 'value="7"' in response.content.decode()
    assert TreatmentCourse.objects.count() == 0


def test_the_timeline_shows_visits_notes_addenda_measures_and_the_next_step(world, login):
    from kapflow.measures import services as measures

    course = make_course(world)
    note = signed_note(world, course)
    services.addendum_add(member=world.prescriber, note=note, text="Addendum text")
    make_note(world, course, kind="integration")
    assignment = measures.assignment_create(
        member=world.therapist,
        patient=world.patient,
        instrument_key="gad7",
        schedule="once",
        starts_on=date(2026, 1, 5),
    )
    request = assignment.requests.get()
    measures.response_submit(
        request=request,
        answers={f"q{i}": 1 for i in range(1, 8)},
        by=world.therapist.user,
        member=world.therapist,
    )
    page = login(world.therapist).get(url("course", course_id=course.public_id))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Preparation visit" in text and "Integration visit" in text
    assert "signed" in text and "draft" in text and "Priya Prescriber" in text
    assert "GAD7" in text
    assert "Not ready:" in text  # no eligibility decision, no consent
    assert "1 of 2 preparation visits done: 1 more before the first dosing session" in text
    assert "In the patient&#x27;s words" in text or "In the patient's words" in text
    entry = AccessLogEntry.objects.filter(detail__startswith="course timeline").get()
    assert entry.action == "view" and entry.category == "clinical"


def test_the_chart_lists_the_courses_for_clinicians_only(world, login):
    course = make_course(world, status="active")
    chart = reverse("patients:chart", kwargs={"clinic": "demo", "patient_id": world.patient.public_id})
    therapist_page = login(world.therapist).get(chart).content.decode()
    assert (
        "Treatment courses" in therapist_page and url("course", course_id=course.public_id) in therapist_page
    )
    desk_page = login(world.frontdesk).get(chart).content.decode()
    assert url("course", course_id=course.public_id) not in desk_page


@pytest.mark.parametrize("persona", ["frontdesk", "admin", "nurse"])
def test_front_desk_admin_and_the_nurse_off_the_team_get_403_on_every_course_page(world, login, persona):
    course = make_course(world)
    note = signed_note(world, course)
    client = login(world.member(persona))
    for path in (
        url("patient", patient_id=world.patient.public_id),
        url("new", patient_id=world.patient.public_id),
        url("course", course_id=course.public_id),
        url("visit_new", course_id=course.public_id),
        url("note", note_id=note.public_id),
    ):
        assert client.get(path).status_code == 403, path
    assert client.post(url("addendum", note_id=note.public_id), {"text": "x"}).status_code == 403
    assert Addendum.objects.count() == 0


def test_another_clinics_staff_get_404_and_it_is_logged(world, login):
    course = make_course(world)
    client = login(world.other_therapist)
    response = client.get(
        reverse("courses:course", kwargs={"clinic": "other", "course_id": course.public_id})
    )
    assert response.status_code == 404
    assert AccessLogEntry.objects.filter(
        user_id=world.other_therapist.user_id, outcome="denied", patient=world.patient
    ).exists()


def test_status_change_by_form_and_a_second_active_course_refused(world, login):
    make_course(world, status="active")
    second = make_course(world)
    client = login(world.therapist)
    response = client.post(url("status", course_id=second.public_id), {"status": "active"})
    assert response.status_code == 400
    assert "already has an active course" in response.content.decode()
    response = client.post(
        url("status", course_id=second.public_id), {"status": "discontinued", "reason": "Other plan"}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == "discontinued"


def test_recording_a_visit_opens_its_note_editor_with_the_template_fields(world, login):
    course = make_course(world)
    client = login(world.therapist)
    response = client.post(
        url("visit_new", course_id=course.public_id), {"kind": "preparation", "happened_on": "2026-01-06"}
    )
    note = ClinicalNote.objects.get()
    assert response.status_code == 302 and response["Location"] == url("note", note_id=note.public_id)
    page = client.get(response["Location"]).content.decode()
    for words in (
        "Intentions and goals",
        "Consent to touch",
        "No driving until the next day",
        "Safety plan",
        "Readiness",
    ):
        assert words in page
    assert 'hx-post="' + url("autosave", note_id=note.public_id) in page
    assert 'hx-trigger="keyup changed delay:2s"' in page
    assert 'name="version"' in page and "style=" not in page


def test_a_visit_in_the_future_is_400_with_the_message(world, login):
    course = make_course(world)
    response = login(world.therapist).post(
        url("visit_new", course_id=course.public_id), {"kind": "preparation", "happened_on": "2999-01-01"}
    )
    assert response.status_code == 400 and "not before" in response.content.decode()
    assert Visit.objects.count() == 0


def test_save_autosave_and_sign_in_the_editor(world, login):
    note = make_note(world)
    client = login(world.therapist)
    saved = client.post(
        url("autosave", note_id=note.public_id),
        {"version": "1", "readiness": "Calm", "explained": ["no_driving"]},
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 200
    assert "Saved " in saved.content.decode() and 'value="2"' in saved.content.decode()
    # Both the editor's and the sign form's base version move on (htmx out-of-band swaps).
    assert 'id="id_version"' in saved.content.decode() and 'id="sign-version"' in saved.content.decode()
    response = client.post(
        url("note", note_id=note.public_id),
        {"version": "2", "readiness": "Calm, ready", "fasting_and_escort_given": "on"},
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.content["readiness"] == "Calm, ready" and note.content["fasting_and_escort_given"] is True
    assert client.post(url("sign", note_id=note.public_id), {"version": "3"}).status_code == 302
    note.refresh_from_db()
    assert note.status == "signed"
    page = client.get(url("note", note_id=note.public_id)).content.decode()
    assert "Calm, ready" in page and "Add the addendum" in page and 'name="readiness"' not in page


def test_editing_a_signed_note_by_form_or_direct_post_is_refused(world, login):
    note = signed_note(world)
    client = login(world.therapist)
    for name in ("note", "autosave"):
        response = client.post(
            url(name, note_id=note.public_id), {"version": str(note.version), "readiness": "Changed"}
        )
        assert response.status_code == 409, name
        assert "signed and can no longer be changed" in response.content.decode()
    response = client.post(url("note", note_id=note.public_id), {"readiness": "no version"})
    assert response.status_code == 409
    note.refresh_from_db()
    assert note.content == {"readiness": "Ready."}


def test_signing_someone_elses_draft_in_the_browser_is_refused(world, login):
    note = make_note(world)
    client = login(world.prescriber)
    page = client.get(url("note", note_id=note.public_id))
    assert page.status_code == 200 and "only its author edits and signs it" in page.content.decode()
    response = client.post(url("sign", note_id=note.public_id), {"version": "1"})
    assert response.status_code == 403 and "Only the author" in response.content.decode()
    response = client.post(url("note", note_id=note.public_id), {"version": "1", "readiness": "mine"})
    assert response.status_code == 403
    note.refresh_from_db()
    assert note.status == "draft" and note.content == {}


def test_an_addendum_to_a_draft_by_direct_post_is_refused(world, login):
    note = make_note(world)
    response = login(world.therapist).post(url("addendum", note_id=note.public_id), {"text": "x"})
    assert response.status_code == 400 and "addenda are for signed notes" in response.content.decode()
    assert Addendum.objects.count() == 0


def test_a_100000_character_field_in_the_editor_is_400_and_nothing_is_saved(world, login):
    note = make_note(world)
    response = login(world.therapist).post(
        url("note", note_id=note.public_id), {"version": "1", "readiness": "a" * 100_000}
    )
    assert response.status_code == 400
    note.refresh_from_db()
    assert note.content == {}


def test_a_bad_sign_version_is_400_not_500(world, login):
    note = make_note(world)
    assert (
        login(world.therapist).post(url("sign", note_id=note.public_id), {"version": "x"}).status_code == 400
    )


def test_the_therapists_home_page_shows_no_overdue_list_while_there_is_nothing_overdue(world, login):
    from kapflow.courses.selectors import overdue_integrations

    assert overdue_integrations(world.therapist) == []
    page = login(world.therapist).get(reverse("clinic_home", kwargs={"clinic": "demo"})).content.decode()
    assert "Integration visits overdue" not in page
