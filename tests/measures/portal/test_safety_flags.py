"""An answer that raises a safety flag: the crisis resources at once, and the care team is told."""

from __future__ import annotations

import pytest

from kapflow.measures.models import MeasureResponse, SafetyAlert
from tests.measures.portal.conftest import answer, done_url, submit_url

pytestmark = pytest.mark.django_db

SEVERAL_DAYS = 1
CRISIS = "Call the Demo crisis line at 555-0199, day and night."


@pytest.fixture
def clinic_contacts(world):
    world.demo.crisis_line_text = CRISIS
    world.demo.phone = "+1 303 555 0100"
    world.demo.save()


def complete_phq9(client, request, item9: int):
    for n in range(1, 9):
        answer(client, request, f"q{n}", 0)
    answer(client, request, "q9", item9)
    return client.post(submit_url(request), follow=True)


def main_of(page: str) -> str:
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def test_several_days_on_item_9_shows_the_crisis_resources_and_raises_an_alert(
    world, clinic_contacts, patient_client, assign
):
    request = assign("phq9")
    thanks = complete_phq9(patient_client, request, SEVERAL_DAYS)
    assert thanks.status_code == 200
    assert thanks.redirect_chain == [(done_url(request), 302)]
    page = main_of(thanks.content.decode())
    assert "If you are thinking about hurting yourself, you do not have to wait:" in page
    assert CRISIS in page  # in the page itself, not only in the banner at the top
    assert 'href="tel:+13035550100"' in page and "+1 303 555 0100" in page
    assert "Your care team has been told about your answers." in page
    assert page.index("you do not have to wait") < page.index("Your care team will look at your answers.")

    response = MeasureResponse.objects.get()
    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.response, alert.severity, alert.status) == (
        world.patient,
        response,
        "moderate",
        "open",
    )
    assert response.flags and response.flags[0]["item"] == "q9"


def test_without_a_flag_there_is_no_crisis_box(world, clinic_contacts, patient_client, assign):
    request = assign("phq9")
    page = main_of(complete_phq9(patient_client, request, 0).content.decode())
    assert "you do not have to wait" not in page
    assert "Your care team will look at your answers." in page
    assert not SafetyAlert.objects.exists()


def test_a_cssrs_yes_to_recent_behaviour_shows_the_crisis_resources_without_the_risk_level(
    world, clinic_contacts, patient_client, assign
):
    request = assign("cssrs")
    for item, value in (("q1", 1), ("q2", 0), ("q6", 1), ("q6b", 1)):
        answer(patient_client, request, item, value)
    page = main_of(patient_client.post(submit_url(request), follow=True).content.decode())
    assert "you do not have to wait" in page and CRISIS in page
    assert SafetyAlert.objects.get().severity == "high"
    assert "high" not in page.lower().replace("you do not have to wait", "")
    assert "risk" not in page.lower()


def test_the_crisis_resources_stay_on_the_page_after_a_second_submit(
    world, clinic_contacts, patient_client, assign
):
    """A double click lands the patient on the second answer: it must not hide the resources."""
    request = assign("phq9")
    complete_phq9(patient_client, request, SEVERAL_DAYS)
    again = patient_client.post(submit_url(request))
    assert again.status_code == 409
    page = main_of(again.content.decode())
    assert "already submitted" in page
    assert "you do not have to wait" in page and CRISIS in page
