"""Clinicians on the care team assign questionnaires once or on a schedule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kapflow.core.errors import ApplicationError
from kapflow.measures import services
from kapflow.measures.models import MeasureRequest, RequestStatus


def url(world, tail=""):
    return f"/c/demo/measures/patients/{world.patient.public_id}/{tail}"


def test_assigning_once_makes_one_questionnaire_due(world, login):
    response = login(world.therapist).post(
        url(world, "assign/"),
        {"instrument": "gad7", "schedule": "once", "starts_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    request = MeasureRequest.objects.get(patient=world.patient)
    assert (request.instrument_key, request.status) == ("gad7", RequestStatus.DUE)


def test_every_n_days_makes_the_current_occurrence_due_and_the_missed_one_missed(world):
    start = timezone.localdate() - timedelta(days=15)
    assignment = services.assignment_create(
        member=world.therapist,
        patient=world.patient,
        instrument_key="phq9",
        schedule="every_n_days",
        interval_days=7,
        starts_on=start,
    )
    services.ensure_requests(world.patient)
    requests = list(assignment.requests.order_by("due_at"))
    assert [r.status for r in requests] == ["missed", "due"]
    assert (requests[1].due_at.date() - start).days == 14


def test_dosing_relative_schedules_wait_for_dosing_sessions(world, login):
    response = login(world.therapist).post(
        url(world, "assign/"),
        {
            "instrument": "phq9",
            "schedule": "after_dosing",
            "hours_after": 24,
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert not MeasureRequest.objects.filter(patient=world.patient).exists()
    assert (
        "takes effect once dosing sessions are scheduled"
        in login(world.therapist).get(url(world)).content.decode()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"schedule": "every_n_days"}, "Give the number of days between questionnaires."),
        ({"schedule": "after_dosing"}, "Give the number of hours after each dosing session."),
        ({"instrument": "moaas"}, "Select a valid choice"),
        ({"instrument": "nope"}, "Select a valid choice"),
        ({"ends_on": "2000-01-01"}, "The end date is before the start date."),
        ({"interval_days": "0", "schedule": "every_n_days"}, "greater than or equal to 1"),
    ],
)
def test_bad_assignments_are_refused_with_the_reason(world, login, data, message):
    form = {"instrument": "phq9", "schedule": "once", "starts_on": timezone.localdate().isoformat(), **data}
    response = login(world.therapist).post(url(world, "assign/"), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MeasureRequest.objects.exists()


def test_observer_rated_scales_cannot_be_assigned_to_the_patient(world):
    with pytest.raises(ApplicationError, match="rated by staff"):
        services.assignment_create(
            member=world.therapist,
            patient=world.patient,
            instrument_key="moaas",
            schedule="once",
            starts_on=timezone.localdate(),
        )


def test_stopping_an_assignment_cancels_what_is_due(world, login, due_phq9):
    assignment = due_phq9.assignment
    response = login(world.therapist).post(url(world, f"assignments/{assignment.public_id}/stop/"))
    assert response.status_code == 302
    due_phq9.refresh_from_db()
    assert due_phq9.status == "cancelled"


@pytest.mark.parametrize("persona", ["frontdesk", "admin", "nurse"])
def test_only_the_care_team_clinicians_assign(world, login, persona):
    response = login(world.member(persona)).post(
        url(world, "assign/"),
        {"instrument": "phq9", "schedule": "once", "starts_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 403
    assert not MeasureRequest.objects.exists()
