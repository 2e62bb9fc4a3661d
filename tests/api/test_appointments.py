"""``/api/v1/appointments/``: the clinic's calendar for every staff role, booking through the
scheduler's conflict check (409 naming each conflict), and cancelling with If-Match."""

from __future__ import annotations

import pytest

from kapflow.scheduling.models import Appointment
from tests.api.helpers import api
from tests.api.rest_helpers import PROBLEM, assert_shaped_as, fields_in_error
from tests.scheduling.helpers import at, book, weekday_ahead

pytestmark = pytest.mark.django_db
APPOINTMENTS = "/api/v1/appointments/"


def booking(world, **changes):
    body = {
        "patient": str(world.patient.public_id),
        "kind": "preparation",
        "start": at(weekday_ahead(), 10).isoformat(),
        "staff": [world.therapist.user.email],
        "room": "dosing room 1",
    }
    return {**body, **changes}


def test_the_front_desk_books_an_appointment(world):
    response = api(world.frontdesk).post(APPOINTMENTS, booking(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert_shaped_as(body, "AppointmentOut")
    appointment = Appointment.objects.get()
    assert body["id"] == str(appointment.public_id) and response["ETag"] == f'"{appointment.public_id}.1"'
    assert (body["kind"], body["status"], body["room"]) == ("preparation", "booked", "Dosing room 1")
    assert [(s["email"], s["role"]) for s in body["staff"]] == [(world.therapist.user.email, "therapist")]
    assert appointment.starts_at == at(weekday_ahead(), 10)
    assert (appointment.ends_at - appointment.starts_at).total_seconds() == 60 * 60  # the type's length


def test_a_clash_is_409_naming_every_conflict_and_nothing_is_booked(world):
    book(world, start=at(weekday_ahead(), 10), room=world.room)
    response = api(world.frontdesk).post(APPOINTMENTS, booking(world), format="json")
    assert response.status_code == 409 and response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"room_busy", "staff_busy", "patient_busy"} <= {c["code"] for c in body["conflicts"]}
    assert len(body["errors"]) == len(body["conflicts"])
    assert Appointment.objects.count() == 1


def test_bad_bookings_are_400_with_the_fields_named_and_nothing_is_booked(world):
    client = api(world.frontdesk)
    response = client.post(
        APPOINTMENTS, booking(world, kind="party", start="soon", staff=["x"], colour="red"), format="json"
    )
    assert response.status_code == 400 and fields_in_error(response) == {"colour"}
    response = client.post(
        APPOINTMENTS, booking(world, kind="party", start="soon", staff=["x"]), format="json"
    )
    assert fields_in_error(response) == {"kind", "start", "staff.0"}
    response = client.post(APPOINTMENTS, booking(world, staff=["nobody@demo.test"]), format="json")
    assert response.status_code == 400 and fields_in_error(response) == {"staff.0"}
    response = client.post(APPOINTMENTS, booking(world, room="Ballroom"), format="json")
    assert response.status_code == 400 and fields_in_error(response) == {"room"}
    response = client.post(APPOINTMENTS, booking(world, start="3500-01-03T10:00:00-07:00"), format="json")
    assert response.status_code == 400 and fields_in_error(response) == {"start"}
    response = client.post(APPOINTMENTS, booking(world, start="9999-12-31T23:59:59-12:00"), format="json")
    assert response.status_code == 400
    response = client.post(APPOINTMENTS, booking(world, kind="dosing"), format="json")
    assert response.status_code == 400  # no treatment course to book it in (the scheduler's rule)
    assert not Appointment.objects.exists()


def test_another_clinics_patient_or_appointment_is_404(world):
    response = api(world.frontdesk).post(
        APPOINTMENTS, booking(world, patient=str(world.other_patient.public_id)), format="json"
    )
    assert response.status_code == 404 and not Appointment.objects.exists()
    appointment = book(world, start=at(weekday_ahead(), 10))
    assert api(world.other_admin).get(f"{APPOINTMENTS}{appointment.public_id}/").status_code == 404
    assert (
        api(world.other_admin).get(APPOINTMENTS, {"patient": str(world.patient.public_id)}).status_code == 404
    )
    assert api(world.other_admin).get(APPOINTMENTS).json()["count"] == 0
    etag = f'"{appointment.public_id}.{appointment.version}"'
    cancel = api(world.other_admin).post(
        f"{APPOINTMENTS}{appointment.public_id}/cancel/", {"reason": "x"}, format="json", HTTP_IF_MATCH=etag
    )
    assert cancel.status_code == 404
    assert Appointment.objects.get().status == "booked"


def test_every_staff_role_lists_the_clinics_appointments_filtered_by_patient_day_and_status(world):
    first = book(world, start=at(weekday_ahead(7), 10))
    book(world, start=at(weekday_ahead(14), 10))
    day = weekday_ahead(7).isoformat()
    for member in (world.frontdesk, world.nurse, world.admin):
        listed = api(member).get(APPOINTMENTS)
        assert listed.status_code == 200 and listed.json()["count"] == 2
    client = api(world.nurse)  # not on Jordan's care team: the calendar is clinic-wide
    only = client.get(
        APPOINTMENTS, {"patient": str(world.patient.public_id), "since": day, "until": day}
    ).json()
    assert [a["id"] for a in only["results"]] == [str(first.public_id)]
    assert_shaped_as(only["results"][0], "AppointmentOut")
    assert client.get(APPOINTMENTS, {"status": "cancelled"}).json()["count"] == 0
    assert client.get(APPOINTMENTS, {"since": "0001-01-01", "until": "9999-12-31"}).json()["count"] == 2
    assert fields_in_error(client.get(APPOINTMENTS, {"status": "late", "kind": "x"})) == {"status", "kind"}
    read = client.get(f"{APPOINTMENTS}{first.public_id}/")
    assert read.status_code == 200 and read["ETag"] == f'"{first.public_id}.{first.version}"'


def test_cancelling_needs_the_current_etag_and_a_reason(world):
    appointment = book(world, start=at(weekday_ahead(), 10))
    path = f"{APPOINTMENTS}{appointment.public_id}/cancel/"
    client = api(world.frontdesk)
    etag = client.get(f"{APPOINTMENTS}{appointment.public_id}/")["ETag"]
    assert fields_in_error(client.post(path, {}, format="json", HTTP_IF_MATCH=etag)) == {"reason"}
    assert fields_in_error(client.post(path, {"reason": "x" * 301}, format="json", HTTP_IF_MATCH=etag)) == {
        "reason"
    }
    assert client.post(path, {"reason": "Ill."}, format="json").status_code == 428
    assert (
        api(world.frontdesk, read_only=True)
        .post(path, {"reason": "Ill."}, format="json", HTTP_IF_MATCH=etag)
        .status_code
        == 403
    )
    assert Appointment.objects.get().status == "booked"

    done = client.post(path, {"reason": "Ill."}, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["cancel_reason"]) == ("cancelled", "Ill.")
    assert done["ETag"] != etag
    stale = client.post(path, {"reason": "Again."}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    again = client.post(path, {"reason": "Again."}, format="json", HTTP_IF_MATCH=done["ETag"])
    assert again.status_code == 400  # only a booked appointment is cancelled (the service's rule)
    assert Appointment.objects.get().cancel_reason == "Ill."


def test_a_read_only_token_cannot_book(world):
    response = api(world.frontdesk, read_only=True).post(APPOINTMENTS, booking(world), format="json")
    assert response.status_code == 403 and not Appointment.objects.exists()


def test_a_cancel_checked_against_a_version_that_changed_under_it_is_refused_by_the_service(world):
    """The view checks If-Match, then the service checks the version again under its lock:
    a change saved between the two (here: the version moved on) refuses the cancel."""
    from kapflow.core.errors import Conflict
    from kapflow.scheduling import services

    appointment = book(world, start=at(weekday_ahead(), 10))
    read_version = appointment.version
    Appointment.objects.filter(pk=appointment.pk).update(version=read_version + 1)
    with pytest.raises(Conflict):
        services.appointment_cancel(
            member=world.frontdesk, appointment=appointment, reason="Ill.", base_version=read_version
        )
    assert Appointment.objects.get().status == "booked"
