"""``/api/v1/notes/``: clinical notes (never psychotherapy notes); the author saves and signs
the draft with If-Match, the care team adds addenda to signed notes."""

from __future__ import annotations

import pytest

from kapflow.courses.models import Addendum, ClinicalNote
from kapflow.courses.psychotherapy_services import note_create
from tests.api.helpers import api
from tests.api.rest_helpers import PROBLEM, assert_shaped_as, fields_in_error
from tests.courses.course_helpers import make_course, make_note, signed_note

pytestmark = pytest.mark.django_db


def path(note: ClinicalNote, action: str = "") -> str:
    return f"/api/v1/notes/{note.public_id}/" + (f"{action}/" if action else "")


def unchanged(note: ClinicalNote) -> bool:
    fresh = ClinicalNote.objects.get(pk=note.pk)
    return (fresh.content, fresh.status, fresh.version) == (note.content, note.status, note.version)


def test_the_author_saves_signs_and_the_care_team_adds_an_addendum(world):
    note = make_note(world)
    author = api(world.therapist)
    read = author.get(path(note))
    assert read.status_code == 200
    assert_shaped_as(read.json(), "NoteDetailOut")
    assert (read.json()["status"], read.json()["content"]) == ("draft", {})

    saved = author.patch(
        path(note),
        {"content": {"readiness": "Ready.", "explained": ["no_driving", "consent_to_touch"]}},
        format="json",
        HTTP_IF_MATCH=read["ETag"],
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["content"]["readiness"] == "Ready."
    assert saved.json()["content"]["explained"] == ["consent_to_touch", "no_driving"]  # the template's order
    assert saved["ETag"] != read["ETag"]

    again = author.patch(
        path(note), {"content": {"safety_plan": "Call Sam."}}, format="json", HTTP_IF_MATCH=saved["ETag"]
    )
    assert again.status_code == 200
    assert again.json()["content"]["readiness"] == "Ready."  # fields not sent keep their value

    signed = author.post(path(note, "sign"), format="json", HTTP_IF_MATCH=again["ETag"])
    assert signed.status_code == 200
    assert signed.json()["status"] == "signed" and signed.json()["signed_at"]

    added = api(world.prescriber).post(path(note, "addenda"), {"text": "BP re-checked: fine."}, format="json")
    assert added.status_code == 201
    assert_shaped_as(added.json(), "AddendumOut")
    addenda = author.get(path(note)).json()["addenda"]
    assert [(a["text"], a["author"]["email"]) for a in addenda] == [
        ("BP re-checked: fine.", world.prescriber.user.email)
    ]


def test_notes_are_listed_by_patient_and_visit_and_psychotherapy_notes_never_appear(world):
    course = make_course(world)
    note = make_note(world, course)
    other = make_note(world, course, kind="follow_up")
    secret = note_create(member=world.therapist, patient=world.patient, text="PSYCHOTHERAPY-MARKER")
    client = api(world.therapist)
    listed = client.get("/api/v1/notes/", {"patient": str(world.patient.public_id)})
    assert listed.status_code == 200
    assert {n["id"] for n in listed.json()["results"]} == {str(note.public_id), str(other.public_id)}
    assert_shaped_as(listed.json()["results"][0], "NoteOut")
    by_visit = client.get("/api/v1/notes/", {"visit": str(note.visit.public_id)}).json()
    assert [n["id"] for n in by_visit["results"]] == [str(note.public_id)]
    assert client.get("/api/v1/notes/", {"status": "signed"}).json()["count"] == 0
    assert client.get("/api/v1/notes/", {"since": "2026-01-07"}).json()["count"] == 0
    assert client.get(f"/api/v1/notes/{secret.public_id}/").status_code == 404
    assert "PSYCHOTHERAPY-MARKER" not in listed.content.decode()


def test_front_desk_clinicians_off_the_team_and_other_clinics_cannot_read_notes(world):
    note = make_note(world)
    assert api(world.frontdesk).get(path(note)).status_code == 403
    assert api(world.frontdesk).get("/api/v1/notes/").status_code == 403
    assert api(world.nurse).get(path(note)).status_code == 403
    assert api(world.nurse).get("/api/v1/notes/", {"visit": str(note.visit.public_id)}).status_code == 403
    for member in (world.other_admin, world.other_therapist):
        response = api(member).get(path(note))
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert (
        api(world.other_therapist).get("/api/v1/notes/", {"visit": str(note.visit.public_id)}).status_code
        == 404
    )


def test_only_the_author_saves_or_signs_a_draft(world):
    note = make_note(world)
    colleague = api(world.prescriber)  # on the care team, not the author
    etag = colleague.get(path(note))["ETag"]
    refused = colleague.patch(
        path(note), {"content": {"readiness": "No."}}, format="json", HTTP_IF_MATCH=etag
    )
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    assert colleague.post(path(note, "sign"), format="json", HTTP_IF_MATCH=etag).status_code == 403
    desk = api(world.frontdesk)
    assert (
        desk.patch(
            path(note), {"content": {"readiness": "No."}}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 403
    )
    assert unchanged(note)


def test_a_read_only_token_cannot_change_a_note(world):
    note = make_note(world)
    client = api(world.therapist, read_only=True)
    etag = client.get(path(note))["ETag"]
    assert (
        client.patch(
            path(note), {"content": {"readiness": "x"}}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 403
    )
    assert client.post(path(note, "sign"), format="json", HTTP_IF_MATCH=etag).status_code == 403
    signed = signed_note(world)
    assert client.post(path(signed, "addenda"), {"text": "x"}, format="json").status_code == 403
    assert unchanged(note) and not Addendum.objects.exists()


def test_a_stale_or_missing_if_match_changes_nothing(world):
    note = make_note(world)
    client = api(world.therapist)
    etag = client.get(path(note))["ETag"]
    assert (
        client.patch(
            path(note), {"content": {"readiness": "A"}}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 200
    )
    note.refresh_from_db()
    stale = client.patch(path(note), {"content": {"readiness": "B"}}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale["Content-Type"] == PROBLEM
    assert client.post(path(note, "sign"), format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert client.patch(path(note), {"content": {"readiness": "B"}}, format="json").status_code == 428
    assert unchanged(note) and note.content["readiness"] == "A"


def test_content_that_does_not_fit_the_template_is_400_with_each_field_named(world):
    note = make_note(world)
    client = api(world.therapist)
    etag = client.get(path(note))["ETag"]
    bad = {
        "colour": "red",
        "readiness": 5,
        "explained": ["hugs"],
        "fasting_and_escort_given": "maybe",
        "safety_plan": "x" * 10_001,
    }
    response = client.patch(path(note), {"content": bad}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert fields_in_error(response) == {f"content.{name}" for name in bad}
    assert (
        client.patch(
            path(note), {"content": {"readiness": "a\x00b"}}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 400
    )
    for body in ({"content": "text"}, {"content": {}, "status": "signed"}, {}, [1]):
        assert client.patch(path(note), body, format="json", HTTP_IF_MATCH=etag).status_code == 400, body
    assert (
        client.post(path(note, "sign"), {"when": "now"}, format="json", HTTP_IF_MATCH=etag).status_code == 400
    )
    assert unchanged(note)


def test_a_signed_note_never_changes_and_a_draft_takes_no_addendum(world):
    draft = make_note(world)
    client = api(world.therapist)
    response = client.post(path(draft, "addenda"), {"text": "Too early."}, format="json")
    assert response.status_code == 400 and not Addendum.objects.exists()
    assert fields_in_error(client.post(path(draft, "addenda"), {"text": "  "}, format="json")) == {"text"}

    note = signed_note(world)
    etag = client.get(path(note))["ETag"]
    changed = client.patch(
        path(note), {"content": {"readiness": "Changed."}}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 409 and changed["Content-Type"] == PROBLEM
    assert client.post(path(note, "sign"), format="json", HTTP_IF_MATCH=etag).status_code == 409
    assert unchanged(note)


def test_json_nested_deeper_than_python_parses_is_400_not_a_server_error(world):
    note = signed_note(world)
    body = '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api(world.therapist).post(path(note, "addenda"), body, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert not Addendum.objects.exists()
