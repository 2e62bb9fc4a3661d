"""The prescriber decides; a hard stop needs a justification; no one else decides."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kapflow.core.models import AccessLogEntry
from kapflow.screening import services
from kapflow.screening.demo import BASE
from kapflow.screening.models import EligibilityDecision

VITALS = {**BASE, "systolic": 120, "diastolic": 80}


def screen(world, **changes):
    return services.screening_record(
        member=world.prescriber, patient=world.patient, data={**VITALS, **changes}
    )


def url(world):
    return f"/c/demo/screening/patients/{world.patient.public_id}/decide/"


def eligible(until=None, **extra):
    until = until or (timezone.localdate() + timedelta(days=90))
    return {"outcome": "eligible", "valid_until": until.isoformat(), "routes": ["sublingual"], **extra}


def test_the_prescriber_decides_eligible_until_a_date_for_routes(world, login):
    screening = screen(world)
    response = login(world.prescriber).post(url(world), {**eligible(), "screening": str(screening.public_id)})
    assert response.status_code == 302
    decision = EligibilityDecision.objects.get()
    assert (decision.outcome, decision.routes, decision.screening) == ("eligible", ["sublingual"], screening)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "eligible", "routes": ["sublingual"]}, "valid until"),
        ({"outcome": "eligible", "valid_until": "2001-01-01", "routes": ["sublingual"]}, "valid until"),
        ({"outcome": "eligible", "valid_until": "2099-01-01"}, "routes"),
        ({"outcome": "not_eligible"}, "reason"),
        ({"outcome": "maybe"}, "Select a valid choice"),
        (
            {"outcome": "eligible", "valid_until": "2099-01-01", "routes": ["teleport"]},
            "Select a valid choice",
        ),
    ],
)
def test_an_incomplete_decision_is_refused_and_nothing_saved(world, login, data, message):
    screen(world)
    response = login(world.prescriber).post(url(world), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not EligibilityDecision.objects.exists()


def test_eligible_despite_a_hard_stop_needs_a_justification_and_is_flagged(world, login):
    screen(world, systolic=190)
    client = login(world.prescriber)
    refused = client.post(url(world), eligible())
    assert refused.status_code == 400
    assert "hard-stop finding" in refused.content.decode()
    assert (
        client.post(
            url(world), eligible(justification="Repeat BP 150/92 after rest; cardiology agrees.")
        ).status_code
        == 302
    )
    decision = EligibilityDecision.objects.get()
    assert decision.overrides_hard_stop
    assert AccessLogEntry.objects.filter(detail__contains="DESPITE A HARD-STOP FINDING").exists()
    assert (
        "Eligible despite a hard-stop finding."
        in client.get(f"/c/demo/screening/patients/{world.patient.public_id}/").content.decode()
    )


@pytest.mark.parametrize("persona", ["therapist", "nurse"])
def test_a_therapist_or_nurse_cannot_decide_in_the_ui_or_by_posting(world, login, persona):
    from kapflow.patients.services import care_team_add

    if persona == "nurse":
        care_team_add(member=world.frontdesk, patient=world.patient, membership_id=world.nurse.pk)
    screen(world)
    client = login(world.member(persona))
    overview = client.get(f"/c/demo/screening/patients/{world.patient.public_id}/").content.decode()
    assert "Decide eligibility" not in overview
    assert client.get(url(world)).status_code == 403
    assert client.post(url(world), eligible()).status_code == 403
    assert not EligibilityDecision.objects.exists()
    assert AccessLogEntry.objects.filter(
        user=world.member(persona).user, outcome="denied", detail__startswith="eligibility.decide"
    ).exists()


def test_a_decision_on_a_superseded_screening_is_refused(world, login):
    old = screen(world)
    screen(world, systolic=130)
    response = login(world.prescriber).post(url(world), {**eligible(), "screening": str(old.public_id)})
    assert response.status_code == 400
    assert "newer screening" in response.content.decode()
    assert not EligibilityDecision.objects.exists()
    with pytest.raises(Exception, match="newer screening"):
        services.decision_record(member=world.prescriber, screening=old, outcome="not_eligible", reason="x")


def test_a_new_screening_leaves_no_current_decision(world):
    from kapflow.screening.selectors import current_decision

    first = screen(world)
    services.decision_record(
        member=world.prescriber, screening=first, outcome="more_info", reason="Need cardiology letter"
    )
    assert current_decision(world.patient) is not None
    screen(world)
    assert current_decision(world.patient) is None
