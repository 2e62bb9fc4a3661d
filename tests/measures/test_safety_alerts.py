"""A suicide-risk answer becomes an alert for the care team, with a deadline, until acted on."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kapflow.core.models import AccessLogEntry
from kapflow.measures import services
from kapflow.measures.models import SafetyAlert
from tests.measures.conftest import PHQ9_ALL_ONE, PHQ9_CALM

CSSRS_HIGH = {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 0}
CSSRS_MODERATE = {"q1": 1, "q2": 1, "q3": 1, "q4": 0, "q5": 0, "q6": 0}
CSSRS_LOW = {"q1": 1, "q2": 0, "q6": 0}


def record(world, key, answers):
    return services.response_record_paper(
        member=world.therapist,
        patient=world.patient,
        instrument_key=key,
        answers=answers,
        answered_at=timezone.now() - timedelta(minutes=5),
    )


def test_phq9_item_9_above_zero_raises_a_moderate_alert_due_within_the_clinic_setting(world):
    world.demo.alert_hours_moderate = 12
    world.demo.save()
    response = record(world, "phq9", PHQ9_ALL_ONE)
    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.response, alert.severity, alert.status) == (
        world.patient,
        response,
        "moderate",
        "open",
    )
    assert timedelta(hours=11, minutes=59) < alert.due_by - alert.created_at <= timedelta(hours=12, minutes=1)
    assert AccessLogEntry.objects.filter(detail__contains=f"safety alert {alert.public_id}").exists()


def test_phq9_item_9_of_two_or_more_is_high_and_due_sooner(world):
    record(world, "phq9", PHQ9_ALL_ONE | {"q9": 3})
    alert = SafetyAlert.objects.get()
    assert alert.severity == "high"
    assert alert.due_by - alert.created_at <= timedelta(hours=4, minutes=1)


@pytest.mark.parametrize(
    ("answers", "severity"), [(CSSRS_HIGH, "high"), (CSSRS_MODERATE, "moderate"), (CSSRS_LOW, None)]
)
def test_cssrs_moderate_or_high_risk_raises_an_alert(world, answers, severity):
    record(world, "cssrs", answers)
    assert list(SafetyAlert.objects.values_list("severity", flat=True)) == ([severity] if severity else [])


def test_open_alerts_stand_on_every_care_team_members_home_page_until_acted_on(world, login):
    record(world, "phq9", PHQ9_ALL_ONE)
    alert = SafetyAlert.objects.get()
    for member in (world.therapist, world.prescriber):
        client = Client()
        client.force_login(member.user)
        assert "open safety alert" in client.get("/c/demo/").content.decode()
    nurse = Client()
    nurse.force_login(world.nurse.user)  # not on Jordan's care team
    assert "open safety alert" not in nurse.get("/c/demo/").content.decode()
    theo = login(world.therapist)
    refused = theo.post(f"/c/demo/measures/alerts/{alert.public_id}/", {"action_taken": ""})
    assert refused.status_code == 400
    done = theo.post(
        f"/c/demo/measures/alerts/{alert.public_id}/",
        {"action_taken": "Called Jordan; safety plan reviewed."},
    )
    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by, alert.action_taken) == (
        "acknowledged",
        world.therapist.user,
        "Called Jordan; safety plan reviewed.",
    )
    assert "open safety alert" not in theo.get("/c/demo/").content.decode()
    assert AccessLogEntry.objects.filter(
        detail=f"safety alert {alert.public_id} acknowledged", user=world.therapist.user
    ).exists()


def test_an_alert_is_acted_on_once(world):
    record(world, "phq9", PHQ9_ALL_ONE)
    alert = SafetyAlert.objects.get()
    services.alert_acknowledge(member=world.therapist, alert=alert, action_taken="Called")
    with pytest.raises(services.Conflict):
        services.alert_acknowledge(member=world.prescriber, alert=alert, action_taken="Also called")


@pytest.mark.parametrize(
    ("persona", "status"), [("frontdesk", 403), ("nurse", 403), ("other_therapist", 404)]
)
def test_those_outside_the_care_team_cannot_see_or_close_an_alert(world, login, persona, status):
    record(world, "phq9", PHQ9_ALL_ONE)
    alert = SafetyAlert.objects.get()
    clinic = "other" if persona == "other_therapist" else "demo"
    client = login(world.member(persona))
    assert client.get(f"/c/{clinic}/measures/alerts/{alert.public_id}/").status_code == status
    assert (
        client.post(f"/c/{clinic}/measures/alerts/{alert.public_id}/", {"action_taken": "x"}).status_code
        == status
    )
    alert.refresh_from_db()
    assert alert.status == "open"


def test_calm_answers_raise_nothing(world):
    record(world, "phq9", PHQ9_CALM)
    assert not SafetyAlert.objects.exists()
