import uuid

import pytest
from django.urls import reverse

from kapflow.core.models import AccessLogEntry, AuditAction, AuditOutcome, DataCategory
from kapflow.patients import services


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


def test_opening_the_chart_is_logged_with_the_categories_shown(world, login):
    login(world.frontdesk).get(chart_url(world))
    desk = AccessLogEntry.objects.filter(patient=world.patient, user=world.frontdesk.user, action="view")
    assert list(desk.values_list("category", flat=True)) == [DataCategory.DEMOGRAPHICS]

    login(world.therapist).get(chart_url(world))
    theo = AccessLogEntry.objects.filter(patient=world.patient, user=world.therapist.user, action="view")
    assert set(theo.values_list("category", flat=True)) == {
        DataCategory.DEMOGRAPHICS,
        DataCategory.CLINICAL,
        DataCategory.MEASURES,
    }


def print_url(world):
    return reverse("patients:print", kwargs={"clinic": "demo", "patient_id": world.patient.public_id})


def test_the_print_view_is_logged_as_a_print(world, login):
    response = login(world.frontdesk).get(print_url(world))
    assert response.status_code == 200
    assert "Confidential health information." in response.content.decode()
    entry = AccessLogEntry.objects.filter(patient=world.patient).latest("id")
    assert (entry.action, entry.category, entry.user) == (
        AuditAction.PRINT,
        DataCategory.DEMOGRAPHICS,
        world.frontdesk.user,
    )


def test_the_print_view_includes_the_clinical_summary_only_for_the_care_team(world, login):
    services.clinical_background_save(
        member=world.therapist, patient=world.patient, data={"allergies": "Sulfa drugs"}, base_version=None
    )
    assert "Sulfa drugs" in login(world.therapist).get(print_url(world)).content.decode()
    assert AccessLogEntry.objects.filter(patient=world.patient).latest("id").category == DataCategory.CLINICAL
    assert "Sulfa drugs" not in login(world.nurse).get(print_url(world)).content.decode()
    assert "Sulfa drugs" not in login(world.frontdesk).get(print_url(world)).content.decode()


@pytest.mark.parametrize("page", ["chart", "edit", "print", "clinical"])
def test_another_clinics_patient_by_uuid_is_404_and_the_attempt_is_logged(world, login, page):
    url = reverse(f"patients:{page}", kwargs={"clinic": "demo", "patient_id": world.other_patient.public_id})
    assert login(world.admin).get(url).status_code == 404
    denied = AccessLogEntry.objects.get(patient=world.other_patient, outcome=AuditOutcome.DENIED)
    assert denied.user == world.admin.user
    assert denied.clinic == world.demo


@pytest.mark.parametrize(
    "path",
    [
        "/c/demo/patients/not-a-uuid/",
        "/c/demo/patients/12345/edit/",
        "/c/demo/patients/%27%20OR%201=1--/",
        f"/c/demo/patients/{uuid.UUID(int=0)}/",
        "/c/demo/patients/09b9b9fe-6600-4db2-9b4f-d2736131748d/print/",
    ],
)
def test_a_garbage_or_unknown_patient_id_in_the_url_is_404_not_500(world, login, path):
    response = login(world.admin).get(path)
    assert response.status_code == 404


def test_an_unknown_patient_id_is_logged_as_a_denied_attempt(world, login):
    login(world.admin).get(f"/c/demo/patients/{uuid.uuid4()}/")
    denied = AccessLogEntry.objects.filter(user=world.admin.user, outcome=AuditOutcome.DENIED).get()
    assert denied.patient is None
    assert "no patient with that id" in denied.detail
