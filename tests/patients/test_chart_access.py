from django.urls import reverse

from kapflow.core.models import AccessLogEntry, AuditOutcome


def chart_url(world, patient=None):
    patient = patient or world.patient
    return reverse("patients:chart", kwargs={"clinic": "demo", "patient_id": patient.public_id})


def test_therapist_on_the_care_team_sees_the_clinical_summary(world, login):
    response = login(world.therapist).get(chart_url(world))
    assert response.status_code == 200
    assert "Clinical summary" in response.content.decode()


def test_front_desk_sees_demographics_but_not_clinical_sections(world, login):
    client = login(world.frontdesk)
    response = client.get(chart_url(world))
    assert response.status_code == 200
    assert "Rivera" in response.content.decode()
    assert "Clinical summary" not in response.content.decode()
    clinical = reverse("patients:clinical", kwargs={"clinic": "demo", "patient_id": world.patient.public_id})
    assert client.get(clinical).status_code == 403


def test_therapist_of_another_clinic_gets_404_and_the_attempt_is_logged(world, login):
    client = login(world.other_therapist)
    url = reverse("patients:chart", kwargs={"clinic": "other", "patient_id": world.patient.public_id})
    assert client.get(url).status_code == 404
    assert client.get(chart_url(world)).status_code == 404  # not a member of demo
    denied = AccessLogEntry.objects.filter(patient=world.patient, outcome=AuditOutcome.DENIED)
    assert denied.filter(user=world.other_therapist.user).exists()
