"""Creating a patient: record numbers, validation that keeps what was typed, and the log."""

from __future__ import annotations

import pytest

from kapflow.core.models import AccessLogEntry, AuditAction, AuditOutcome, DataCategory
from kapflow.patients.models import Patient
from tests.html import field_error, field_value
from tests.patients.forms import new_patient, url


def test_a_blank_record_number_is_filled_in_automatically(world, login):
    client = login(world.frontdesk)
    first = client.post(url("create"), new_patient())
    second = client.post(url("create"), new_patient(legal_given_name="Kim"))
    sam = Patient.objects.get(clinic=world.demo, legal_given_name="Sam")
    kim = Patient.objects.get(clinic=world.demo, legal_given_name="Kim")
    assert (sam.record_number, kim.record_number) == ("KAP-000001", "KAP-000002")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == url("chart", sam)
    chart = client.get(first["Location"])
    assert "Patient Sam Lee created." in chart.content.decode()
    assert "KAP-000001" in chart.content.decode()


def test_a_record_number_typed_in_is_kept(world, login):
    response = login(world.admin).post(url("create"), new_patient(record_number="AB-77/2"))
    assert response.status_code == 302
    assert Patient.objects.get(clinic=world.demo, legal_given_name="Sam").record_number == "AB-77/2"


def test_a_record_number_used_in_the_clinic_is_refused_next_to_the_field(world, login):
    before = Patient.objects.count()
    response = login(world.frontdesk).post(
        url("create"), new_patient(record_number="r-1", legal_family_name="Typed-Family")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert field_error(page, "record_number") == "Record number r-1 is already used in this clinic."
    assert field_value(page, "record_number") == "r-1"
    assert field_value(page, "legal_family_name") == "Typed-Family"
    assert Patient.objects.count() == before
    assert not AccessLogEntry.objects.filter(action=AuditAction.CREATE, user=world.frontdesk.user).exclude(
        patient=world.patient
    )


def test_the_same_record_number_in_another_clinic_is_fine(world, login):
    response = login(world.other_admin).post(url("create", clinic="other"), new_patient(record_number="R-1"))
    assert response.status_code == 302
    assert Patient.objects.filter(record_number="R-1").count() == 2
    assert Patient.objects.get(clinic=world.other, record_number="R-1").legal_given_name == "Sam"


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("date_of_birth", "2999-01-01", "The date of birth cannot be in the future."),
        ("date_of_birth", "1850-01-01", "Enter a date of birth after 1900."),
        ("date_of_birth", "31/31/1990", "Enter a valid date."),
        ("phone", "call me maybe", "Enter a phone number of digits, spaces and + ( ) - only"),
        ("emergency_contact_phone", "555-CALL-NOW", "Enter a phone number of digits"),
        ("email", "jordan@", "Enter a valid email address."),
        ("legal_given_name", "", "This field is required."),
        ("legal_family_name", "", "This field is required."),
        ("record_number", "has space", "Use letters, digits, and . _ / - only."),
    ],
)
def test_invalid_input_is_refused_next_to_the_field_and_keeps_what_was_typed(
    world, login, field, typed, message
):
    before = Patient.objects.count()
    typed_elsewhere = {
        "preferred_name": "Sammy Typed",
        "address": "12 Typed Street\nDenver",
        "email": "typed@example.org",
        "phone": "+1 303 555 0199",
        "emergency_contact_phone": "+1 303 555 0198",
    }
    data = new_patient(**dict(typed_elsewhere, **{field: typed}))
    response = login(world.frontdesk).post(url("create"), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in field_error(page, field)
    assert "Please correct the problems below; nothing has been saved yet." in page
    assert field_value(page, field) == typed
    for name, value in typed_elsewhere.items():
        if name != field:
            assert field_value(page, name) == value
    assert Patient.objects.count() == before


def test_the_date_of_birth_error_is_tied_to_the_field_for_screen_readers(world, login):
    page = login(world.frontdesk).post(url("create"), new_patient(date_of_birth="2999-01-01")).content
    html = page.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_date_of_birth_error"' in html


def test_creating_a_patient_writes_a_create_entry_to_the_access_log(world, login):
    login(world.frontdesk).post(url("create"), new_patient())
    patient = Patient.objects.get(clinic=world.demo, legal_given_name="Sam")
    entry = AccessLogEntry.objects.get(patient=patient, action=AuditAction.CREATE)
    assert entry.category == DataCategory.DEMOGRAPHICS
    assert entry.outcome == AuditOutcome.ALLOWED
    assert entry.user == world.frontdesk.user
    assert entry.clinic == world.demo
    assert patient.created_by == world.frontdesk.user


def test_clinicians_cannot_create_patients_and_the_refusal_is_logged(world, login):
    response = login(world.therapist).post(url("create"), new_patient())
    assert response.status_code == 403
    assert not Patient.objects.filter(legal_given_name="Sam").exists()
    assert AccessLogEntry.objects.filter(user=world.therapist.user, outcome=AuditOutcome.DENIED).exists()


def test_patients_cannot_be_hard_deleted(world):
    with pytest.raises(TypeError, match="void them"):
        world.patient.delete()
    assert Patient.objects.filter(pk=world.patient.pk).exists()
