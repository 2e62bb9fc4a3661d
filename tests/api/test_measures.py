"""Measures over the API: assignments (list, assign), responses (scores, bands, answers,
corrections) and safety alerts (record the action taken), for the care team only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kapflow.measures import services
from kapflow.measures.models import MeasureAssignment, SafetyAlert
from tests.api.helpers import api
from tests.api.rest_helpers import PROBLEM, assert_shaped_as, fields_in_error
from tests.measures.conftest import PHQ9_ALL_ONE, PHQ9_CALM

pytestmark = pytest.mark.django_db
ASSIGNMENTS = "/api/v1/measure-assignments/"
RESPONSES = "/api/v1/measure-responses/"
ALERTS = "/api/v1/safety-alerts/"


def assignment(world, **changes):
    body = {
        "patient": str(world.patient.public_id),
        "instrument": "phq9",
        "schedule": "every_n_days",
        "interval_days": 14,
        "starts_on": timezone.localdate().isoformat(),
    }
    return {**body, **changes}


def record(world, answers, key="phq9"):
    return services.response_record_paper(
        member=world.therapist,
        patient=world.patient,
        instrument_key=key,
        answers=answers,
        answered_at=timezone.now() - timedelta(minutes=5),
    )


def test_a_clinician_on_the_care_team_assigns_and_lists_questionnaires(world):
    client = api(world.therapist)
    made = client.post(ASSIGNMENTS, assignment(world), format="json")
    assert made.status_code == 201, made.json()
    assert_shaped_as(made.json(), "AssignmentOut")
    row = MeasureAssignment.objects.get()
    assert (row.instrument_key, row.schedule, row.interval_days) == ("phq9", "every_n_days", 14)
    assert row.requests.count() == 1  # the first occurrence is due at once
    listed = client.get(ASSIGNMENTS, {"patient": str(world.patient.public_id), "instrument": "phq9"}).json()
    assert [a["id"] for a in listed["results"]] == [str(row.public_id)]
    assert client.get(ASSIGNMENTS, {"instrument": "gad7"}).json()["count"] == 0
    assert client.get(ASSIGNMENTS, {"since": "0001-01-01", "until": "9999-12-31"}).json()["count"] == 1


def test_bad_assignments_are_400_with_the_fields_named_and_nothing_is_saved(world):
    client = api(world.therapist)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"instrument": "madrs"}, {"instrument"}),
        ({"instrument": "moaas"}, {"instrument"}),  # rated by staff in a session, not assigned
        ({"interval_days": None}, {"interval_days"}),
        ({"interval_days": 400}, {"interval_days"}),
        ({"schedule": "after_dosing"}, {"hours_after"}),
        ({"schedule": "hourly"}, {"schedule"}),
        ({"starts_on": "9999-12-31"}, {"starts_on"}),
        ({"ends_on": "2000-01-01"}, {"ends_on"}),
        ({"patient": "x", "colour": "red"}, {"colour"}),
    ]
    for changes, fields in cases:
        response = client.post(ASSIGNMENTS, assignment(world, **changes), format="json")
        assert response.status_code == 400, changes
        assert fields_in_error(response) == fields, changes
    assert not MeasureAssignment.objects.exists()


def test_assigning_is_refused_off_the_care_team_in_another_clinic_and_with_a_read_only_token(world):
    assert api(world.frontdesk).post(ASSIGNMENTS, assignment(world), format="json").status_code == 403
    assert api(world.nurse).post(ASSIGNMENTS, assignment(world), format="json").status_code == 403
    assert (
        api(world.therapist, read_only=True).post(ASSIGNMENTS, assignment(world), format="json").status_code
        == 403
    )
    response = api(world.other_therapist).post(ASSIGNMENTS, assignment(world), format="json")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert not MeasureAssignment.objects.exists()
    assert api(world.frontdesk).get(ASSIGNMENTS).status_code == 403
    assert api(world.nurse).get(ASSIGNMENTS).json()["count"] == 0


def test_responses_show_scores_bands_answers_and_corrections(world):
    original = record(world, PHQ9_CALM)
    correction = services.response_correct(
        member=world.therapist, original=original, answers={**PHQ9_CALM, "q1": 3}, reason="Misread item 1."
    )
    client = api(world.prescriber)
    listed = client.get(RESPONSES, {"patient": str(world.patient.public_id), "instrument": "phq9"})
    assert listed.status_code == 200
    by_id = {r["id"]: r for r in listed.json()["results"]}
    assert set(by_id) == {str(original.public_id), str(correction.public_id)}
    assert by_id[str(original.public_id)]["replaced_by"] == str(correction.public_id)
    assert by_id[str(correction.public_id)]["replaces"] == str(original.public_id)
    assert by_id[str(correction.public_id)]["correction_reason"] == "Misread item 1."
    current = client.get(RESPONSES, {"current": "true"}).json()["results"]
    assert [r["id"] for r in current] == [str(correction.public_id)]

    read = client.get(f"{RESPONSES}{original.public_id}/")
    assert read.status_code == 200 and read["ETag"]
    body = read.json()
    assert_shaped_as(body, "ResponseOut")
    assert (body["total"], body["answers"]["q9"], body["band"]) == (8, 0, original.band)
    assert client.get(RESPONSES, {"instrument": "gad7"}).json()["count"] == 0
    assert client.get(RESPONSES, {"since": "0001-01-01", "until": "9999-12-31"}).json()["count"] == 2
    assert fields_in_error(client.get(RESPONSES, {"current": "perhaps"})) == {"current"}


def test_responses_are_refused_to_front_desk_clinicians_off_the_team_and_other_clinics(world):
    response = record(world, PHQ9_CALM)
    assert api(world.frontdesk).get(f"{RESPONSES}{response.public_id}/").status_code == 403
    assert api(world.frontdesk).get(RESPONSES).status_code == 403
    assert api(world.nurse).get(f"{RESPONSES}{response.public_id}/").status_code == 403
    assert api(world.nurse).get(RESPONSES, {"patient": str(world.patient.public_id)}).status_code == 403
    assert api(world.other_admin).get(f"{RESPONSES}{response.public_id}/").status_code == 404
    assert api(world.other_therapist).get(RESPONSES).json()["count"] == 0


def test_the_care_team_reads_an_alert_and_records_the_action_taken_once(world):
    record(world, PHQ9_ALL_ONE)  # item 9 above zero: a moderate alert
    alert = SafetyAlert.objects.get()
    client = api(world.prescriber)
    listed = client.get(ALERTS, {"status": "open", "patient": str(world.patient.public_id)}).json()
    assert [a["id"] for a in listed["results"]] == [str(alert.public_id)]
    assert_shaped_as(listed["results"][0], "AlertOut")
    assert listed["results"][0]["severity"] == "moderate" and listed["results"][0]["instrument"] == "phq9"
    assert client.get(ALERTS, {"severity": "high"}).json()["count"] == 0
    assert client.get(f"{ALERTS}{alert.public_id}/").json()["status"] == "open"

    path = f"{ALERTS}{alert.public_id}/acknowledge/"
    done = client.post(path, {"action_taken": "Called Jordan; safety plan reviewed."}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["acknowledged_by"]["email"]) == (
        "acknowledged",
        world.prescriber.user.email,
    )
    again = api(world.therapist).post(path, {"action_taken": "Me too."}, format="json")
    assert again.status_code == 409 and again["Content-Type"] == PROBLEM
    alert.refresh_from_db()
    assert alert.action_taken == "Called Jordan; safety plan reviewed."


def test_acknowledging_is_refused_without_an_action_off_the_team_and_to_read_only_tokens(world):
    record(world, PHQ9_ALL_ONE)
    alert = SafetyAlert.objects.get()
    path = f"{ALERTS}{alert.public_id}/acknowledge/"
    body = {"action_taken": "Called."}
    assert fields_in_error(api(world.therapist).post(path, {"action_taken": "   "}, format="json")) == {
        "action_taken"
    }
    assert fields_in_error(api(world.therapist).post(path, {"action_taken": "x" * 3001}, format="json")) == {
        "action_taken"
    }
    assert api(world.therapist, read_only=True).post(path, body, format="json").status_code == 403
    assert api(world.nurse).post(path, body, format="json").status_code == 403
    assert api(world.frontdesk).post(path, body, format="json").status_code == 403
    assert api(world.frontdesk).get(f"{ALERTS}{alert.public_id}/").status_code == 403
    assert api(world.other_therapist).post(path, body, format="json").status_code == 404
    assert api(world.other_therapist).get(f"{ALERTS}{alert.public_id}/").status_code == 404
    alert.refresh_from_db()
    assert (alert.status, alert.action_taken) == ("open", "")
