"""What the portal questionnaire pages refuse: other people's requests, replays, bad answers."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from kapflow.core.models import AccessLogEntry
from kapflow.measures import services
from kapflow.measures.models import MeasureRequest, MeasureResponse, RequestStatus
from kapflow.patients.services import care_team_add, patient_create
from kapflow.portal.models import PortalAccount
from tests.measures.portal.conftest import answer, answer_url, done_url, submit_url

pytestmark = pytest.mark.django_db


def all_answered(client: Client, request: MeasureRequest) -> None:
    for n in range(1, 10):
        answer(client, request, f"q{n}", 0)


def test_a_second_submit_is_refused_with_409_and_only_one_response_is_stored(world, patient_client, assign):
    request = assign("phq9")
    all_answered(patient_client, request)
    assert patient_client.post(submit_url(request)).status_code == 302
    again = patient_client.post(submit_url(request))
    assert again.status_code == 409
    assert str(services.ALREADY_SUBMITTED) in again.content.decode()
    assert MeasureResponse.objects.filter(request=request).count() == 1


def test_a_replayed_submit_that_raced_past_the_status_check_is_refused_by_the_service(
    world, portal_user, patient_client, assign
):
    """The view reads a request still due; the service, holding the row lock, refuses it."""
    request = assign("phq9")
    all_answered(patient_client, request)
    stale = MeasureRequest.objects.get(pk=request.pk)
    services.response_submit(request=stale, answers=dict(stale.draft), by=portal_user)
    with pytest.raises(services.AlreadySubmitted):
        services.response_submit(request=stale, answers={f"q{n}": 0 for n in range(1, 10)}, by=portal_user)
    assert MeasureResponse.objects.filter(request=request).count() == 1


def test_answering_a_submitted_questionnaire_shows_already_submitted(world, patient_client, assign):
    request = assign("phq9")
    all_answered(patient_client, request)
    patient_client.post(submit_url(request))
    late = answer(patient_client, request, "q1", 3)
    assert late.status_code == 409
    assert "already submitted" in late.content.decode()
    assert patient_client.get(answer_url(request)).status_code == 409
    assert MeasureResponse.objects.get().answers["q1"] == 0


def test_another_patients_request_is_404_and_the_attempt_is_logged(
    world, portal_user, patient_client, assign
):
    casey = patient_create(
        member=world.frontdesk,
        data={"legal_given_name": "Casey", "legal_family_name": "Lee", "date_of_birth": date(1990, 5, 5)},
    )
    care_team_add(member=world.frontdesk, patient=casey, membership_id=world.therapist.pk)
    theirs = assign("phq9", patient=casey)
    for url in (answer_url(theirs), done_url(theirs)):
        assert patient_client.get(url).status_code == 404
    assert answer(patient_client, theirs, "q1", 1).status_code == 404
    assert patient_client.post(submit_url(theirs)).status_code == 404
    assert MeasureRequest.objects.get(pk=theirs.pk).draft == {}
    denied = AccessLogEntry.objects.filter(user=portal_user, outcome="denied")
    assert denied.count() == 4
    assert {entry.patient_id for entry in denied} == {casey.pk}


def test_a_request_of_another_clinics_patient_is_404(world, patient_client, assign):
    care_team_add(
        member=world.other_admin, patient=world.other_patient, membership_id=world.other_therapist.pk
    )
    theirs = assign("phq9", patient=world.other_patient)
    assert patient_client.get(answer_url(theirs)).status_code == 404


@pytest.mark.parametrize("persona", ["admin", "frontdesk", "therapist", "prescriber", "other_admin"])
def test_staff_get_404_on_portal_questionnaire_pages(world, login, assign, persona):
    request = assign("phq9")
    client = login(world.member(persona))
    for url in (answer_url(request), done_url(request)):
        assert client.get(url).status_code == 404
    assert answer(client, request, "q1", 1).status_code == 404
    assert client.post(submit_url(request)).status_code == 404
    assert MeasureRequest.objects.get(pk=request.pk).draft == {}


def test_anonymous_visitors_are_sent_to_sign_in(world, client, assign):
    request = assign("phq9")
    response = client.get(answer_url(request))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("7", "Choose one of the answers offered."),
        ("-1", "Choose one of the answers offered."),
        ("several", "Choose one of the answers offered."),
        ("", "Choose an answer, then press Next."),
    ],
)
def test_an_answer_outside_the_options_is_400_and_nothing_is_saved(
    world, patient_client, assign, value, message
):
    request = assign("phq9")
    refused = answer(patient_client, request, "q1", value)
    assert refused.status_code == 400
    page = refused.content.decode()
    assert '<p class="errors" id="answer-error">' + message in page
    assert 'aria-describedby="question-intro answer-error"' in page  # the error is tied to the question
    assert 'aria-invalid="true"' in page
    assert MeasureRequest.objects.get(pk=request.pk).draft == {}


def test_a_missing_answer_field_is_400(world, patient_client, assign):
    request = assign("phq9")
    refused = patient_client.post(answer_url(request), {"item": "q1"})
    assert refused.status_code == 400
    assert "Choose an answer, then press Next." in refused.content.decode()


def test_submitting_before_every_question_is_answered_is_400_and_stores_nothing(
    world, patient_client, assign
):
    request = assign("phq9")
    for n in range(1, 6):
        answer(patient_client, request, f"q{n}", 1)
    refused = patient_client.post(submit_url(request))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Some questions are not answered yet." in page
    assert 'name="item" value="q6"' in page  # straight to the first missing question
    assert not MeasureResponse.objects.exists()
    assert MeasureRequest.objects.get(pk=request.pk).status == RequestStatus.DUE


def test_a_cancelled_questionnaire_is_closed(world, patient_client, assign):
    request = assign("phq9")
    services.assignment_stop(member=world.therapist, assignment=request.assignment)
    closed = patient_client.get(answer_url(request))
    assert closed.status_code == 404
    assert "This questionnaire is closed" in closed.content.decode()
    assert answer(patient_client, request, "q1", 1).status_code == 404
    assert patient_client.post(submit_url(request)).status_code == 404


def test_the_thank_you_page_of_an_unfinished_questionnaire_goes_back_to_the_questions(
    world, patient_client, assign
):
    request = assign("phq9")
    assert patient_client.get(done_url(request))["Location"] == answer_url(request)


def test_submit_is_post_only(world, patient_client, assign):
    request = assign("phq9")
    assert patient_client.get(submit_url(request)).status_code == 405


def test_a_switched_off_portal_account_gets_404(world, patient_client, assign):
    request = assign("phq9")
    PortalAccount.objects.update(is_active=False)
    client = patient_client
    assert client.get(answer_url(request)).status_code == 404
