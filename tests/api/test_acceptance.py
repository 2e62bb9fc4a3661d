"""Issue #10's acceptance, end to end: a therapist's token cannot record a dose (403); a
nurse's can, and the dose then shows on the dosing session page and in FHIR."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kapflow.dosing.models import Administration
from kapflow.patients.services import care_team_add
from tests.api.helpers import api
from tests.dosing.helpers import checked_in, make_lot, make_ready

pytestmark = pytest.mark.django_db


def test_a_nurses_token_records_a_dose_the_session_page_and_fhir_show(world, login):
    care_team_add(member=world.frontdesk, patient=world.patient, membership_id=world.nurse.pk)
    course = make_ready(world)
    make_lot(world, lot_number="KT-2026-07")
    session = checked_in(world, course)
    path = f"/api/v1/dosing-sessions/{session.public_id}/"
    dose = {"dose_mg": "150", "lot_number": "KT-2026-07", "witness": world.prescriber.user.email}

    therapist = api(world.therapist)
    refused = therapist.post(
        path + "administrations/", dose, format="json", HTTP_IF_MATCH=therapist.get(path)["ETag"]
    )
    assert refused.status_code == 403
    assert refused.json()["status"] == 403
    assert not Administration.objects.exists()

    nurse = api(world.nurse)
    recorded = nurse.post(
        path + "administrations/", dose, format="json", HTTP_IF_MATCH=nurse.get(path)["ETag"]
    )
    assert recorded.status_code == 201, recorded.json()
    given = Administration.objects.get()
    assert given.administered_by == world.nurse.user and str(given.dose_mg) == "150.00"

    page = login(world.nurse).get(
        reverse("dosing:session", kwargs={"clinic": "demo", "session_id": session.public_id})
    )
    text = page.content.decode()
    assert "150" in text and "KT-2026-07" in text and "Nico Nurse" in text

    bundle = nurse.get("/fhir/MedicationAdministration", {"patient": str(world.patient.public_id)})
    assert bundle.status_code == 200
    resources = [entry["resource"] for entry in bundle.json()["entry"]]
    assert [r["id"] for r in resources] == [str(given.public_id)]
    fhir = resources[0]
    assert fhir["status"] == "completed"
    assert fhir["dosage"]["dose"]["value"] == 150
    assert fhir["dosage"]["route"]["coding"][0]["code"] == "37839007"  # sublingual, SNOMED CT
    assert fhir["performer"][0]["actor"]["display"] == "Nico Nurse"
    assert fhir["context"]["reference"] == f"Encounter/{session.public_id}"
