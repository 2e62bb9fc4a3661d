"""The C-SSRS screener in the portal: skip logic decides which questions come, and the count."""

from __future__ import annotations

import pytest

from kapflow.measures.models import MeasureRequest, MeasureResponse
from tests.measures.portal.conftest import answer, answer_url, done_url, progress, shown_item, submit_url

pytestmark = pytest.mark.django_db

NO, YES = 0, 1


def test_no_to_question_2_skips_questions_3_to_5(world, patient_client, assign):
    request = assign("cssrs")
    page = patient_client.get(answer_url(request)).content.decode()
    assert (shown_item(page), progress(page)) == ("q1", "Question 1 of 3")
    answer(patient_client, request, "q1", YES)
    page = patient_client.get(answer_url(request)).content.decode()
    assert (shown_item(page), progress(page)) == ("q2", "Question 2 of 3")
    answer(patient_client, request, "q2", NO)
    page = patient_client.get(answer_url(request)).content.decode()
    assert (shown_item(page), progress(page)) == ("q6", "Question 3 of 3")
    answer(patient_client, request, "q6", NO)

    review = patient_client.get(answer_url(request)).content.decode()
    assert "You have answered all 3 questions." in review
    assert "Have you been thinking about how you might do this?" not in review  # q3 was not asked
    patient_client.post(submit_url(request))
    assert MeasureResponse.objects.get().answers == {"q1": YES, "q2": NO, "q6": NO}


def test_yes_to_question_2_asks_questions_3_to_5_and_the_count_grows(world, patient_client, assign):
    request = assign("cssrs")
    answer(patient_client, request, "q1", YES)
    answer(patient_client, request, "q2", YES)
    page = patient_client.get(answer_url(request)).content.decode()
    assert (shown_item(page), progress(page)) == ("q3", "Question 3 of 6")
    assert '<progress value="3" max="6"' in page
    for item in ("q3", "q4", "q5"):
        answer(patient_client, request, item, NO)
    page = patient_client.get(answer_url(request)).content.decode()
    assert (shown_item(page), progress(page)) == ("q6", "Question 6 of 6")
    answer(patient_client, request, "q6", YES)  # behaviour: then "within the past 3 months?"
    page = patient_client.get(answer_url(request)).content.decode()
    assert (shown_item(page), progress(page)) == ("q6b", "Question 7 of 7")


def test_changing_question_2_to_no_drops_the_answers_no_longer_asked(world, patient_client, assign):
    request = assign("cssrs")
    for item, value in (("q1", YES), ("q2", YES), ("q3", NO), ("q4", NO), ("q5", NO), ("q6", NO)):
        answer(patient_client, request, item, value)
    assert "You have answered all 6 questions." in patient_client.get(answer_url(request)).content.decode()

    assert answer(patient_client, request, "q2", NO).status_code == 302
    assert MeasureRequest.objects.get(pk=request.pk).draft == {"q1": YES, "q2": NO, "q6": NO}
    assert "You have answered all 3 questions." in patient_client.get(answer_url(request)).content.decode()
    # a question hidden by skip logic cannot be opened, nor answered
    assert patient_client.get(answer_url(request, "q4"))["Location"] == answer_url(request)
    refused = answer(patient_client, request, "q4", YES)
    assert refused.status_code == 400
    assert "not part of this questionnaire now" in refused.content.decode()
    assert MeasureRequest.objects.get(pk=request.pk).draft == {"q1": YES, "q2": NO, "q6": NO}


def test_the_patient_never_sees_their_cssrs_risk_level(world, patient_client, assign):
    request = assign("cssrs")
    for item, value in (("q1", YES), ("q2", NO), ("q6", NO)):
        answer(patient_client, request, item, value)
    patient_client.post(submit_url(request))
    assert MeasureResponse.objects.get().risk == "low"
    page = patient_client.get(done_url(request)).content.decode()
    assert "Your care team will look at your answers." in page
    for wording in ("risk", "Risk", "low", "Low"):
        assert wording not in page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
