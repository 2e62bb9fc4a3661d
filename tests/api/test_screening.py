"""``/api/v1/screening-decisions/``: eligibility decisions, read only, for the care team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kapflow.screening import services
from kapflow.screening.demo import BASE
from kapflow.screening.models import EligibilityDecision
from tests.api.helpers import api
from tests.api.rest_helpers import PROBLEM, assert_shaped_as, fields_in_error

pytestmark = pytest.mark.django_db
DECISIONS = "/api/v1/screening-decisions/"


def decide(world, outcome: str = "eligible") -> EligibilityDecision:
    screening = services.screening_record(member=world.prescriber, patient=world.patient, data=dict(BASE))
    extra = {"valid_until": timezone.localdate() + timedelta(days=90), "routes": ["sublingual"]}
    return services.decision_record(
        member=world.prescriber,
        screening=screening,
        outcome=outcome,
        **(extra if outcome == "eligible" else {"reason": "Needs a cardiology letter."}),
    )


def test_the_care_team_lists_and_reads_decisions_and_sees_which_is_current(world):
    first = decide(world, "more_info")
    second = decide(world)
    client = api(world.therapist)
    listed = client.get(DECISIONS, {"patient": str(world.patient.public_id)})
    assert listed.status_code == 200
    results = listed.json()["results"]
    assert [(d["id"], d["is_current"]) for d in results] == [
        (str(second.public_id), True),
        (str(first.public_id), False),
    ]
    assert_shaped_as(results[0], "DecisionOut")
    assert (results[0]["outcome"], results[0]["routes"], results[0]["decided_by"]["email"]) == (
        "eligible",
        ["sublingual"],
        world.prescriber.user.email,
    )
    assert client.get(DECISIONS, {"outcome": "not_eligible"}).json()["count"] == 0
    today = timezone.localdate().isoformat()
    assert client.get(DECISIONS, {"since": today, "until": today}).json()["count"] == 2
    assert client.get(DECISIONS, {"since": "0001-01-01", "until": "9999-12-31"}).json()["count"] == 2

    read = client.get(f"{DECISIONS}{first.public_id}/")
    assert read.status_code == 200
    assert (read.json()["reason"], read.json()["is_current"]) == ("Needs a cardiology letter.", False)


def test_decisions_are_refused_to_front_desk_clinicians_off_the_team_and_other_clinics(world):
    decision = decide(world)
    assert api(world.frontdesk).get(DECISIONS).status_code == 403
    assert api(world.frontdesk).get(f"{DECISIONS}{decision.public_id}/").status_code == 403
    assert api(world.nurse).get(f"{DECISIONS}{decision.public_id}/").status_code == 403
    assert api(world.nurse).get(DECISIONS).json()["count"] == 0
    response = api(world.other_therapist).get(f"{DECISIONS}{decision.public_id}/")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert api(world.other_admin).get(DECISIONS, {"patient": str(world.patient.public_id)}).status_code == 404


def test_bad_filters_are_400_and_decisions_cannot_be_written_here(world):
    client = api(world.prescriber)
    assert fields_in_error(client.get(DECISIONS, {"outcome": "maybe", "since": "yesterday"})) == {
        "outcome",
        "since",
    }
    body = {"outcome": "eligible"}
    assert api(world.prescriber, read_only=True).post(DECISIONS, body, format="json").status_code == 403
    assert client.post(DECISIONS, body, format="json").status_code == 405
    assert not EligibilityDecision.objects.exists()
