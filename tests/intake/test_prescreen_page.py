"""The anonymous self-check page: answers in, plain words out, nothing stored."""

from kapflow.core.models import AccessLogEntry
from kapflow.intake.models import AppointmentRequest
from tests.intake.conftest import PRESCREEN


def test_answers_worth_discussing_show_the_way_to_ask_and_store_nothing(world, client):
    before = AccessLogEntry.objects.count()
    response = client.post("/is-kap-for-me/", PRESCREEN)
    text = response.content.decode()
    assert response.status_code == 200
    assert "may be worth discussing" in text
    assert "eligible" not in text.lower()
    assert 'name="prescreen_token"' in text
    assert AppointmentRequest.objects.count() == 0
    assert AccessLogEntry.objects.count() == before


def test_a_flagged_answer_says_a_clinician_must_review_it_and_why(world, client):
    text = client.post("/is-kap-for-me/", {**PRESCREEN, "pregnancy": "unsure"}).content.decode()
    assert "need a clinician&#x27;s review first" in text or "need a clinician's review first" in text
    assert "pregnancy or breastfeeding" in text
    assert "eligible" not in text.lower()


def test_missing_answers_are_pointed_out_and_the_given_ones_kept(world, client):
    response = client.post("/is-kap-for-me/", {"treatments": "one"})
    text = response.content.decode()
    assert response.status_code == 400
    assert "Please choose an answer." in text
    assert 'value="one" id="id_treatments_1" required checked' in text


def test_an_answer_we_did_not_offer_is_refused(world, client):
    response = client.post("/is-kap-for-me/", {**PRESCREEN, "psychosis": "definitely"})
    assert response.status_code == 400
