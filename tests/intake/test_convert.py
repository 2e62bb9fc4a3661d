"""Converting a request into a patient record, warning of a possible existing patient."""

from datetime import date

from kapflow.intake.models import ActivityKind
from kapflow.patients.models import Patient
from tests.intake.test_triage import make_request, url

PATIENT = {
    "record_number": "",
    "legal_given_name": "Casey",
    "legal_family_name": "Morgan",
    "date_of_birth": "1990-05-06",
    "sex_at_birth": "unknown",
    "email": "casey@example.org",
}


def test_the_form_is_filled_in_from_the_request(world, login):
    request = make_request(world.demo, "Casey Ann Morgan", phone="+1 303 555 0101")
    text = login(world.frontdesk).get(url(request, "convert/")).content.decode()
    assert 'value="Casey Ann"' in text and 'value="Morgan"' in text and 'value="+1 303 555 0101"' in text


def test_converting_creates_the_patient_and_links_the_request(world, login):
    request = make_request(world.demo)
    response = login(world.frontdesk).post(url(request, "convert/"), PATIENT)
    patient = Patient.objects.get(legal_given_name="Casey")
    assert response.status_code == 302
    assert response["Location"] == f"/c/demo/patients/{patient.public_id}/"
    request.refresh_from_db()
    assert request.patient == patient
    assert request.activities.filter(kind=ActivityKind.CONVERTED).exists()
    assert patient.date_of_birth == date(1990, 5, 6)


def test_a_possible_existing_patient_is_shown_and_must_be_confirmed(world, login):
    request = make_request(world.demo, "Jordan Rivera", email="jordan@example.org")
    same = {
        **PATIENT,
        "legal_given_name": "Jordan",
        "legal_family_name": "Rivera",
        "date_of_birth": "1986-04-12",
    }
    desk = login(world.frontdesk)
    response = desk.post(url(request, "convert/"), same)
    assert response.status_code == 409
    assert "may be someone who already has a record" in response.content.decode()
    assert str(world.patient.public_id) in response.content.decode()
    assert Patient.objects.filter(legal_given_name="Jordan", clinic=world.demo).count() == 1
    response = desk.post(url(request, "convert/"), {**same, "confirm_new": "1"})
    assert response.status_code == 302
    assert Patient.objects.filter(legal_given_name="Jordan", clinic=world.demo).count() == 2


def test_the_same_email_alone_is_enough_to_warn(world, login):
    request = make_request(world.demo)
    response = login(world.frontdesk).post(
        url(request, "convert/"), {**PATIENT, "email": "JORDAN@example.org"}
    )
    assert response.status_code == 409


def test_a_request_is_converted_once(world, login):
    request = make_request(world.demo)
    desk = login(world.frontdesk)
    desk.post(url(request, "convert/"), PATIENT)
    response = desk.get(url(request, "convert/"))
    assert response.status_code == 302
    assert Patient.objects.filter(legal_given_name="Casey").count() == 1


def test_a_missing_date_of_birth_is_refused_and_nothing_is_created(world, login):
    request = make_request(world.demo)
    response = login(world.frontdesk).post(url(request, "convert/"), {**PATIENT, "date_of_birth": ""})
    assert response.status_code == 400
    assert not Patient.objects.filter(legal_given_name="Casey").exists()
