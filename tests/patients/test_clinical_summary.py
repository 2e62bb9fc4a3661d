"""The clinical summary: written by clinicians on the care team, and by no one else."""

from __future__ import annotations

from django.test import Client

from kapflow.core.models import AccessLogEntry, AuditAction, AuditOutcome, DataCategory
from kapflow.patients.models import ClinicalBackground
from kapflow.patients.services import STALE_EDIT
from tests.html import field_value
from tests.patients.forms import url

SUMMARY = {
    "presenting_concerns": "Treatment-resistant depression, two failed SSRIs.",
    "diagnoses": "F33.2 Major depressive disorder, recurrent, severe",
    "allergies": "Penicillin (rash)",
    "referral_source": "Dr. Okafor, primary care",
    "version": "",
}


def test_a_therapist_on_the_care_team_writes_the_summary_and_sees_it_on_the_chart(world, login):
    client = login(world.therapist)
    assert client.get(url("clinical", world.patient)).status_code == 200
    response = client.post(url("clinical", world.patient), SUMMARY)
    assert response.status_code == 302
    assert response["Location"] == url("chart", world.patient)
    chart = client.get(response["Location"]).content.decode()
    assert "Clinical summary saved." in chart
    assert "Treatment-resistant depression, two failed SSRIs." in chart
    assert "Penicillin (rash)" in chart
    background = ClinicalBackground.objects.get(patient=world.patient)
    assert background.updated_by == world.therapist.user
    assert background.clinic == world.demo


def test_writing_and_reading_the_summary_are_logged_as_clinical(world, login):
    client = login(world.prescriber)
    client.get(url("clinical", world.patient))
    client.post(url("clinical", world.patient), SUMMARY)
    client.post(url("clinical", world.patient), dict(SUMMARY, allergies="None known", version="1"))
    entries = AccessLogEntry.objects.filter(
        patient=world.patient, user=world.prescriber.user, category=DataCategory.CLINICAL
    ).order_by("id")
    assert [e.action for e in entries] == [AuditAction.VIEW, AuditAction.CREATE, AuditAction.UPDATE]


def test_a_stale_save_of_the_summary_is_refused_and_keeps_the_typed_text(world):
    theo, priya = Client(), Client()
    theo.force_login(world.therapist.user)
    priya.force_login(world.prescriber.user)
    theo.post(url("clinical", world.patient), SUMMARY)
    assert (
        priya.post(url("clinical", world.patient), dict(SUMMARY, allergies="Latex", version="1")).status_code
        == 302
    )

    stale = theo.post(url("clinical", world.patient), dict(SUMMARY, diagnoses="F32.1", version="1"))
    assert stale.status_code == 409
    page = stale.content.decode()
    assert STALE_EDIT in page
    assert field_value(page, "diagnoses") == "F32.1"
    assert field_value(page, "version") == "2"
    saved = ClinicalBackground.objects.get(patient=world.patient)
    assert (saved.allergies, saved.diagnoses) == ("Latex", SUMMARY["diagnoses"])


def test_a_nurse_not_on_the_care_team_gets_403_and_no_clinical_section(world, login):
    theo = login(world.therapist)
    theo.post(url("clinical", world.patient), SUMMARY)

    nurse = login(world.nurse)
    assert nurse.get(url("clinical", world.patient)).status_code == 403
    assert nurse.post(url("clinical", world.patient), dict(SUMMARY, allergies="None")).status_code == 403
    chart = nurse.get(url("chart", world.patient))
    assert chart.status_code == 200
    html = chart.content.decode()
    assert "Clinical summary" not in html
    assert "Penicillin" not in html
    assert "Rivera" in html  # demographics are still shown
    assert ClinicalBackground.objects.get(patient=world.patient).allergies == "Penicillin (rash)"
    denied = AccessLogEntry.objects.filter(
        user=world.nurse.user, outcome=AuditOutcome.DENIED, category=DataCategory.CLINICAL
    )
    assert denied.count() == 2


def test_admin_and_front_desk_cannot_write_the_summary(world, login):
    for member in (world.admin, world.frontdesk):
        response = login(member).post(url("clinical", world.patient), SUMMARY)
        assert response.status_code == 403
    assert not ClinicalBackground.objects.filter(patient=world.patient).exists()


def test_the_summary_history_keeps_each_version(world, login):
    client = login(world.therapist)
    client.post(url("clinical", world.patient), SUMMARY)
    client.post(url("clinical", world.patient), dict(SUMMARY, allergies="None known", version="1"))
    background = ClinicalBackground.objects.get(patient=world.patient)
    allergies = list(background.history.order_by("history_id").values_list("allergies", flat=True))
    assert allergies == ["Penicillin (rash)", "None known"]
