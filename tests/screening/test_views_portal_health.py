"""The patient's health questionnaire in the portal: reported by the patient, kept as sent."""

from django.test import Client

from kapflow.core.models import AccessLogEntry
from kapflow.screening.models import HealthQuestionnaire

URL = "/portal/health/"
ANSWERS = {
    "other_conditions": "Migraine",
    "medications": "Sertraline 100 mg",
    "substance_use": "Wine at weekends",
    "pregnant_or_breastfeeding": "no",
    "psychiatric_history": "Depression since 2017",
    "psychosis": "no",
    "bipolar": "unsure",
    "antidepressant_trials": "3",
    "psychotherapy": "on",
}


def patient_client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_portal_home_asks_for_the_questionnaire_until_it_is_sent(world, portal_user):
    client = patient_client(portal_user)
    assert "Fill in your health questionnaire" in client.get("/portal/").content.decode()
    response = client.post(URL, ANSWERS)
    assert response.status_code == 302
    report = HealthQuestionnaire.objects.get()
    assert (report.patient, report.medications, report.bipolar, report.antidepressant_trials) == (
        world.patient,
        "Sertraline 100 mg",
        "unsure",
        3,
    )
    assert "Fill in your health questionnaire" not in client.get("/portal/").content.decode()
    assert AccessLogEntry.objects.filter(
        patient=world.patient, detail__contains="reported by the patient"
    ).exists()


def test_missing_answers_are_pointed_out_and_nothing_is_stored(world, portal_user):
    response = patient_client(portal_user).post(
        URL, {**ANSWERS, "psychosis": "", "antidepressant_trials": "-1"}
    )
    assert response.status_code == 400
    assert "Sertraline 100 mg" in response.content.decode()
    assert not HealthQuestionnaire.objects.exists()


def test_a_long_answer_is_refused(world, portal_user):
    response = patient_client(portal_user).post(URL, {**ANSWERS, "medications": "x" * 5000})
    assert response.status_code == 400
    assert not HealthQuestionnaire.objects.exists()


def test_staff_have_no_portal_questionnaire(world):
    client = patient_client(world.therapist.user)
    assert client.get(URL).status_code == 404


def test_the_prescriber_sees_the_report_marked_as_reported_by_the_patient(world, portal_user, login):
    patient_client(portal_user).post(URL, ANSWERS)
    page = (
        login(world.prescriber).get(f"/c/demo/screening/patients/{world.patient.public_id}/").content.decode()
    )
    assert "reported by the patient" in page and "Sertraline 100 mg" in page
