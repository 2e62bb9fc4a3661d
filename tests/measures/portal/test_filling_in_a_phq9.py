"""Jordan fills in a PHQ-9 in the portal: one question per page, kept as they go, then submitted."""

from __future__ import annotations

import pytest

from kapflow.core.models import AccessLogEntry
from kapflow.measures.models import MeasureRequest, MeasureResponse, RequestStatus, SafetyAlert
from tests.measures.portal.conftest import answer, answer_url, done_url, progress, shown_item, submit_url

pytestmark = pytest.mark.django_db

ANSWERS = {"q1": 2, "q2": 1, "q3": 3, "q4": 0, "q5": 1, "q6": 2, "q7": 0, "q8": 1, "q9": 0}


def test_a_phq9_is_answered_one_question_at_a_time_and_stored_with_its_total(
    world, portal_user, patient_client, assign
):
    request = assign("phq9")
    first = patient_client.get(answer_url(request))
    assert first.status_code == 200
    page = first.content.decode()
    assert shown_item(page) == "q1"
    assert progress(page) == "Question 1 of 9"
    assert '<progress value="1" max="9"' in page
    assert "Over the last 2 weeks, how often have you been bothered" in page  # the intro
    assert "<legend>Little interest or pleasure in doing things</legend>" in page
    assert page.count('type="radio" name="answer"') == 4

    for number, (item, value) in enumerate(ANSWERS.items(), start=1):
        page = patient_client.get(answer_url(request)).content.decode()
        assert shown_item(page) == item
        assert progress(page) == f"Question {number} of 9"
        response = answer(patient_client, request, item, value)
        assert response.status_code == 302
        assert response["Location"] == answer_url(request)

    review = patient_client.get(answer_url(request)).content.decode()
    assert "Check your answers" in review
    assert "Nearly every day" in review and "More than half the days" in review
    assert f'action="{submit_url(request)}"' in review
    assert MeasureResponse.objects.count() == 0  # nothing stored before Submit

    submitted = patient_client.post(submit_url(request))
    assert submitted.status_code == 302
    assert submitted["Location"] == done_url(request)
    stored = MeasureResponse.objects.get()
    assert stored.answers == ANSWERS
    assert stored.total == sum(ANSWERS.values()) == 10
    assert (stored.patient, stored.request, stored.source) == (world.patient, request, "portal")
    assert stored.created_by == portal_user
    request.refresh_from_db()
    assert (request.status, request.draft) == (RequestStatus.COMPLETED, {})
    assert not SafetyAlert.objects.exists()

    thanks = patient_client.get(done_url(request))
    assert thanks.status_code == 200
    page = thanks.content.decode()
    assert "Your care team will look at your answers." in page
    assert "you do not have to wait" not in page  # no safety flag, no crisis box
    assert "Mild" not in page and "score" not in page.lower()  # no score shown


def test_answers_are_kept_when_the_patient_leaves_and_comes_back(world, portal_user, patient_client, assign):
    request = assign("phq9")
    answer(patient_client, request, "q1", 3)
    answer(patient_client, request, "q2", 2)
    patient_client.logout()

    patient_client.force_login(portal_user)  # a new session: the draft is stored, not in the session
    page = patient_client.get(answer_url(request)).content.decode()
    assert shown_item(page) == "q3"
    assert progress(page) == "Question 3 of 9"
    back = patient_client.get(answer_url(request, "q2")).content.decode()
    assert shown_item(back) == "q2"
    assert 'value="2" checked' in back  # their answer is still chosen
    assert MeasureRequest.objects.get(pk=request.pk).draft == {"q1": 3, "q2": 2}


def test_back_goes_to_the_previous_question_and_the_first_back_goes_home(world, patient_client, assign):
    request = assign("phq9")
    first = patient_client.get(answer_url(request)).content.decode()
    assert 'class="button button-secondary" href="/portal/"' in first
    answer(patient_client, request, "q1", 0)
    second = patient_client.get(answer_url(request)).content.decode()
    assert f'href="{answer_url(request, "q1")}"' in second


def test_an_answer_can_be_changed_from_the_review_and_the_total_follows(world, patient_client, assign):
    request = assign("phq9")
    for item, value in ANSWERS.items():
        answer(patient_client, request, item, value)
    review = patient_client.get(answer_url(request)).content.decode()
    change = answer_url(request, "q3")
    assert f'href="{change}"' in review
    assert "your answer to question 3" in review  # the link says which question to screen readers

    page = patient_client.get(change).content.decode()
    assert shown_item(page) == "q3" and progress(page) == "Question 3 of 9"
    assert answer(patient_client, request, "q3", 0)["Location"] == answer_url(request)
    assert "Check your answers" in patient_client.get(answer_url(request)).content.decode()

    patient_client.post(submit_url(request))
    assert MeasureResponse.objects.get().total == sum(ANSWERS.values()) - 3


def test_each_page_read_is_logged_against_the_patient(world, portal_user, patient_client, assign):
    request = assign("phq9")
    before = AccessLogEntry.objects.filter(user=portal_user, category="measures", action="view").count()
    patient_client.get(answer_url(request))
    entries = AccessLogEntry.objects.filter(user=portal_user, category="measures", action="view")
    assert entries.count() == before + 1
    entry = entries.latest("id")
    assert (entry.clinic_id, entry.patient_id, entry.outcome) == (world.demo.pk, world.patient.pk, "allowed")
    assert "question q1" in entry.detail


def test_the_question_page_is_accessible(world, patient_client, assign):
    request = assign("phq9")
    page = patient_client.get(answer_url(request)).content.decode()
    assert '<fieldset class="answer-group" aria-describedby="question-intro">' in page
    for n in range(1, 5):
        assert (
            f'<label class="answer-option" for="answer-{n}"><input type="radio" name="answer" id="answer-{n}"'
            in page
        )
    assert 'aria-labelledby="progress-text"' in page
    assert "style=" not in page and "<script>" not in page  # the CSP allows neither


def test_the_thank_you_page_leads_to_the_next_questionnaire_due(world, patient_client, assign):
    phq9 = assign("phq9")
    gad7 = assign("gad7")
    for item, value in ANSWERS.items():
        answer(patient_client, phq9, item, value)
    page = patient_client.post(submit_url(phq9), follow=True).content.decode()
    assert f'<a href="{answer_url(gad7)}">Next questionnaire: GAD-7</a>' in page
