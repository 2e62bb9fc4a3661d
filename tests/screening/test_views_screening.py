"""Medical screening by medical professionals: verified facts, vitals in range, findings."""

from decimal import Decimal

import pytest

from kapflow.core.models import AccessLogEntry
from kapflow.screening import services
from kapflow.screening.models import MedicalScreening

FORM = {
    "adequate_trials": "3",
    "psychotherapy_tried": "on",
    "systolic": "128",
    "diastolic": "82",
    "heart_rate": "70",
    "weight_kg": "70.0",
    "height_cm": "175.0",
    "medications": "Sertraline 100 mg",
}


def url(world, tail=""):
    return f"/c/demo/screening/patients/{world.patient.public_id}/{tail}"


@pytest.mark.parametrize("persona", ["prescriber"])
def test_a_medical_professional_records_a_screening_with_bmi_and_findings(world, login, persona):
    response = login(world.member(persona)).post(url(world, "new/"), {**FORM, "systolic": "142"})
    assert response.status_code == 302
    screening = MedicalScreening.objects.get()
    assert screening.bmi == Decimal("22.9")
    assert [f["rule"] for f in screening.findings if f["level"] == "caution"] == ["bp_caution"]
    assert screening.rules_version == services.rules_for(world.demo).version
    page = login(world.member(persona)).get(url(world)).content.decode()
    assert "caution" in page and "142/82" in page


def test_a_nurse_on_the_care_team_records_a_screening_too(world, login):
    from kapflow.patients.services import care_team_add

    care_team_add(member=world.frontdesk, patient=world.patient, membership_id=world.nurse.pk)
    assert login(world.nurse).post(url(world, "new/"), FORM).status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("systolic", "300", "Systolic blood pressure must be between 60 and 260 mmHg."),
        ("diastolic", "20", "Diastolic blood pressure must be between 30 and 160 mmHg."),
        ("weight_kg", "0", "Weight must be between 20 and 350 kg."),
        ("height_cm", "tall", "Height must be between 100 and 250 cm."),
        ("heart_rate", "", "This field is required."),
    ],
)
def test_implausible_vitals_are_refused_with_the_plausible_range(world, login, field, value, message):
    response = login(world.prescriber).post(url(world, "new/"), {**FORM, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Sertraline 100 mg" in response.content.decode()  # what was typed is kept
    assert not MedicalScreening.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("therapist", 403), ("frontdesk", 403), ("admin", 403), ("other_therapist", 404)]
)
def test_others_cannot_record_a_screening(world, login, persona, status):
    clinic = "other" if persona == "other_therapist" else "demo"
    response = login(world.member(persona)).post(
        url(world, "new/").replace("/c/demo/", f"/c/{clinic}/"), FORM
    )
    assert response.status_code == status
    assert not MedicalScreening.objects.exists()


def test_the_form_is_prefilled_from_the_patients_own_report(world, login):
    services.questionnaire_submit(
        user=world.patient.created_by,
        patient=world.patient,
        data={
            "conditions": ["hepatic_impairment"]
            if "hepatic_impairment" in {c.key for c in services.rules_for(world.demo).conditions}
            else [],
            "other_conditions": "",
            "medications": "Bupropion 150 mg",
            "substance_use": "",
            "pregnant_or_breastfeeding": "no",
            "psychiatric_history": "",
            "psychosis": "no",
            "bipolar": "yes",
            "antidepressant_trials": 4,
            "psychotherapy": True,
            "ect": False,
            "tms": True,
            "prior_ketamine": False,
        },
    )
    page = login(world.prescriber).get(url(world, "new/")).content.decode()
    assert "Bupropion 150 mg" in page
    assert 'name="bipolar" id="id_bipolar" checked' in page
    assert "verify each item" in page


def test_the_screening_page_is_clinical_and_audited(world, login):
    login(world.therapist).get(url(world))
    assert AccessLogEntry.objects.filter(
        user=world.therapist.user, detail="screening and eligibility"
    ).exists()
    assert login(world.frontdesk).get(url(world)).status_code == 403
