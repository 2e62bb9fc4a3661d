"""Answers are scored and stored, never changed; corrections are new responses."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from kapflow.core.errors import ApplicationError
from kapflow.core.models import AccessLogEntry
from kapflow.measures import services
from kapflow.measures.models import MeasureResponse, SafetyAlert
from tests.measures.conftest import PHQ9_ALL_ONE, PHQ9_CALM


def base(world):
    return f"/c/demo/measures/patients/{world.patient.public_id}/"


def test_staff_enter_a_due_questionnaire_on_the_patients_behalf(world, login, due_phq9):
    data = {key: str(value) for key, value in PHQ9_CALM.items()}
    response = login(world.therapist).post(base(world) + f"due/{due_phq9.public_id}/enter/", data)
    assert response.status_code == 302
    stored = MeasureResponse.objects.get()
    assert (stored.total, stored.band, stored.source, stored.created_by) == (
        8,
        "Mild",
        "staff",
        world.therapist.user,
    )
    assert stored.answers == PHQ9_CALM
    due_phq9.refresh_from_db()
    assert due_phq9.status == "completed"


def test_a_missing_answer_is_refused_and_nothing_is_saved(world, login, due_phq9):
    data = {key: str(value) for key, value in PHQ9_CALM.items() if key != "q4"}
    response = login(world.therapist).post(base(world) + f"due/{due_phq9.public_id}/enter/", data)
    assert response.status_code == 400
    assert "q4" in response.content.decode()
    assert not MeasureResponse.objects.exists()


def test_a_value_outside_the_options_is_refused(world, login, due_phq9):
    data = {**{key: str(value) for key, value in PHQ9_CALM.items()}, "q2": "7"}
    response = login(world.therapist).post(base(world) + f"due/{due_phq9.public_id}/enter/", data)
    assert response.status_code == 400
    assert not MeasureResponse.objects.exists()


def test_a_second_submission_of_the_same_questionnaire_is_refused(world, due_phq9):
    services.response_submit(request=due_phq9, answers=PHQ9_CALM, by=world.therapist.user)
    with pytest.raises(services.AlreadySubmitted):
        services.response_submit(request=due_phq9, answers=PHQ9_ALL_ONE, by=world.therapist.user)
    assert MeasureResponse.objects.count() == 1
    assert MeasureResponse.objects.get().total == 8


def test_the_database_itself_holds_one_response_per_questionnaire(world, due_phq9):
    first = services.response_submit(request=due_phq9, answers=PHQ9_CALM, by=world.therapist.user)
    with pytest.raises(IntegrityError):
        MeasureResponse.objects.create(
            clinic=world.demo,
            patient=world.patient,
            request=due_phq9,
            instrument_key="phq9",
            instrument_version="1",
            instrument_name="x",
            answers={},
            answered_at=timezone.now(),
            source="staff",
        )
    assert first.pk


def test_a_stored_response_cannot_be_changed(world, due_phq9):
    response = services.response_submit(request=due_phq9, answers=PHQ9_CALM, by=world.therapist.user)
    response.total = 0
    with pytest.raises(TypeError):
        response.save()


def test_a_correction_is_a_new_response_pointing_to_the_one_it_replaces(world, login, due_phq9):
    original = services.response_submit(request=due_phq9, answers=PHQ9_CALM, by=world.therapist.user)
    data = {
        **{key: str(value) for key, value in PHQ9_CALM.items()},
        "q1": "3",
        "reason": "Patient misread item 1",
    }
    response = login(world.therapist).post(base(world) + f"responses/{original.public_id}/correct/", data)
    assert response.status_code == 302
    correction = MeasureResponse.objects.get(replaces=original)
    assert (correction.total, correction.correction_reason) == (10, "Patient misread item 1")
    original.refresh_from_db()
    assert original.total == 8  # the original stays as it was, still readable
    page = login(world.therapist).get(base(world) + f"responses/{original.public_id}/").content.decode()
    assert "This response was corrected" in page
    with pytest.raises(Exception, match="already corrected"):
        services.response_correct(
            member=world.therapist, original=original, answers=PHQ9_CALM, reason="again"
        )


def test_opening_the_correction_form_is_audited_as_a_read(world, login, due_phq9):
    original = services.response_submit(request=due_phq9, answers=PHQ9_CALM, by=world.therapist.user)
    before = AccessLogEntry.objects.filter(patient=world.patient, action="view", category="measures").count()
    response = login(world.therapist).get(base(world) + f"responses/{original.public_id}/correct/")
    assert response.status_code == 200
    after = AccessLogEntry.objects.filter(patient=world.patient, action="view", category="measures").count()
    assert after == before + 1


def test_a_correction_needs_a_reason(world, due_phq9):
    original = services.response_submit(request=due_phq9, answers=PHQ9_CALM, by=world.therapist.user)
    with pytest.raises(ApplicationError, match="why"):
        services.response_correct(member=world.therapist, original=original, answers=PHQ9_CALM, reason=" ")


def test_a_paper_questionnaire_cannot_be_dated_in_the_future(world):
    with pytest.raises(ApplicationError, match="future"):
        services.response_record_paper(
            member=world.therapist,
            patient=world.patient,
            instrument_key="phq9",
            answers=PHQ9_CALM,
            answered_at=timezone.now() + timedelta(days=1),
        )


def test_the_chart_shows_the_latest_score_with_band_and_date(world, login):
    for days, answers in [(30, PHQ9_ALL_ONE | {"q9": 0, "q1": 3}), (2, PHQ9_CALM)]:
        services.response_record_paper(
            member=world.therapist,
            patient=world.patient,
            instrument_key="phq9",
            answers=answers,
            answered_at=timezone.now() - timedelta(days=days),
        )
    page = login(world.therapist).get(f"/c/demo/patients/{world.patient.public_id}/").content.decode()
    assert "<strong>8</strong>" in page and "Mild" in page
    assert (timezone.localdate() - timedelta(days=2)).isoformat() in page


@pytest.mark.parametrize("persona", ["frontdesk", "admin"])
def test_front_desk_and_admin_cannot_read_responses(world, login, due_phq9, persona):
    response = services.response_submit(request=due_phq9, answers=PHQ9_CALM, by=world.therapist.user)
    client = login(world.member(persona))
    assert client.get(base(world)).status_code == 403
    assert client.get(base(world) + f"responses/{response.public_id}/").status_code == 403
    assert client.get(base(world) + "trend/phq9/").status_code == 403
    assert "Latest scores" not in client.get(f"/c/demo/patients/{world.patient.public_id}/").content.decode()
    assert AccessLogEntry.objects.filter(user=world.member(persona).user, outcome="denied").exists()


def test_another_clinic_gets_404_for_our_patients_measures(world, login):
    assert login(world.other_therapist).get(base(world).replace("/c/demo/", "/c/other/")).status_code == 404


def test_no_alert_without_a_flag(world, due_phq9):
    services.response_submit(request=due_phq9, answers=PHQ9_CALM, by=world.therapist.user)
    assert not SafetyAlert.objects.exists()
