"""The patient's appointments in the portal: the list (in the clinic's time zone, with what to
prepare), cancelling and asking for another time outside the notice period only, the calendar
file, the next appointment on the portal home, and nobody else's appointments."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from kapflow.core.models import AccessLogEntry
from kapflow.dosing.protocol import EXAMPLES
from kapflow.dosing.protocols import current, protocol_save
from kapflow.scheduling.models import Appointment, Kind, Status
from kapflow.scheduling.services import types_for

DENVER = ZoneInfo("America/Denver")  # the Demo clinic's zone
LIST = reverse("portal_appointments:list")
HOME = reverse("portal:home")


def local(days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` from today at ``hour:minute`` on the Demo clinic's clock."""
    day = timezone.now().astimezone(DENVER).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=DENVER)


def make(
    world,
    starts_at: datetime,
    *,
    kind: str = Kind.PREPARATION,
    status: str = Status.BOOKED,
    patient=None,
    route: str = "",
    minutes: int = 60,
) -> Appointment:
    patient = patient or world.patient
    return Appointment.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        route=route,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        room=world.room if patient.clinic_id == world.demo.pk else None,
        status=status,
    )


def url(name: str, appointment: Appointment) -> str:
    return reverse(f"portal_appointments:{name}", kwargs={"appointment_id": appointment.public_id})


@pytest.fixture
def patient_client(portal_user) -> Client:
    client = Client()
    client.force_login(portal_user)
    return client


def test_the_list_shows_upcoming_appointments_in_the_clinics_time_zone_with_instructions(
    world, patient_client, portal_user
):
    prep = types_for(world.demo)[Kind.PREPARATION]
    prep.instructions = "Bring your journal."
    prep.save()
    world.room.location.address = "12 Pine Street\nDenver"
    world.room.location.save()
    appointment = make(world, local(3, 10, 30))

    response = patient_client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    starts = appointment.starts_at.astimezone(DENVER)
    assert f"{starts:%A} {starts.day} {starts:%B} {starts.year}, 10:30\u201311:30" in page
    assert "MST" in page or "MDT" in page
    assert "Preparation" in page and "Dosing room 1, Main" in page and "12 Pine Street" in page
    assert "Bring your journal." in page
    assert url("ics", appointment) in page
    assert url("cancel", appointment) in page and url("change", appointment) in page
    logged = AccessLogEntry.objects.filter(user_id=portal_user.pk, patient=world.patient, category="portal")
    assert logged.filter(action="view", detail="appointments page").count() == 1


def test_a_dosing_appointment_lists_fasting_from_the_current_protocol_escort_and_no_driving(
    world, patient_client
):
    current(world.demo, "sublingual")  # version 1: the example (4 hours, 60 minutes)
    make(world, local(4, 9), kind=Kind.DOSING, route="sublingual", minutes=150)
    page = patient_client.get(LIST).content.decode()
    assert "Dosing session" in page and "Sublingual lozenge or tablet" in page
    assert "Do not eat for 4 hours before your session." in page
    assert "Do not drink anything for 1 hour before your session." in page
    assert "Come with someone who will take you home" in page
    assert "You must not drive until the next day." in page
    assert "Do not drive until the next day" not in page  # the reminder, not the example text
    assert "Arrange for someone to take you home" in page  # the type's instructions

    protocol_save(
        member=world.admin,
        route="sublingual",
        values={**EXAMPLES["sublingual"], "fasting_food_hours": 6, "fasting_liquid_minutes": 30},
        base_version=1,
        change_note="Longer fast",
    )
    page = patient_client.get(LIST).content.decode()
    assert "Do not eat for 6 hours before your session." in page
    assert "Do not drink anything for 30 minutes before your session." in page
    assert "for 4 hours before your session" not in page


def test_a_non_dosing_appointment_has_no_dosing_rules(world, patient_client):
    make(world, local(3, 10))
    page = patient_client.get(LIST).content.decode()
    assert "You must not drive" not in page and "Do not eat" not in page


def test_cancelled_appointments_are_left_out_and_past_ones_are_under_earlier(world, patient_client):
    upcoming = make(world, local(5, 11))
    make(world, local(6, 11), status=Status.CANCELLED, kind=Kind.INTEGRATION)
    past = make(world, local(-10, 9), status=Status.COMPLETED, kind=Kind.SCREENING)
    make(world, local(-3, 9), status=Status.NO_SHOW, kind=Kind.FOLLOW_UP)
    page = patient_client.get(LIST).content.decode()
    assert "Integration" not in page
    assert page.count('class="card portal-card appointment"') == 1
    assert url("cancel", upcoming) in page and url("cancel", past) not in page
    earlier = page[page.index("<details") :]
    assert "Screening" in earlier and "Follow-up" in earlier and "(missed)" in earlier
    assert earlier.index("Follow-up") < earlier.index("Screening")  # most recent first
    assert "Preparation" not in earlier


def test_without_appointments_the_page_says_so(world, patient_client):
    page = patient_client.get(LIST).content.decode()
    assert "You have no upcoming appointments." in page and "<details" not in page


def test_the_patient_cancels_after_a_confirmation_page(world, patient_client, portal_user):
    appointment = make(world, local(3, 10))
    confirm = patient_client.get(url("cancel", appointment))
    assert confirm.status_code == 200
    assert "Yes, cancel this appointment" in confirm.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED  # a GET changes nothing

    response = patient_client.post(url("cancel", appointment), {"reason": "Flu"}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (Status.CANCELLED, "Flu")
    page = response.content.decode()
    assert "is cancelled" in page and url("cancel", appointment) not in page
    assert AccessLogEntry.objects.filter(
        user_id=portal_user.pk,
        action="update",
        detail=f"patient cancelled appointment {appointment.public_id}",
    ).exists()


def test_the_patient_asks_for_another_time(world, patient_client):
    appointment = make(world, local(3, 10))
    assert patient_client.get(url("change", appointment)).status_code == 200
    empty = patient_client.post(url("change", appointment), {"text": "  "})
    assert empty.status_code == 400 and "Say which times suit you." in empty.content.decode()

    response = patient_client.post(url("change", appointment), {"text": "Any morning next week"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.change_request == "Any morning next week"
    assert appointment.status == Status.BOOKED
    assert "You asked for another time on" in patient_client.get(LIST).content.decode()


def test_within_the_notice_period_no_buttons_and_a_post_is_refused_with_a_message(world, patient_client):
    soon = make(world, timezone.now() + timedelta(hours=3))
    page = patient_client.get(LIST).content.decode()
    assert url("ics", soon) in page
    assert url("cancel", soon) not in page and url("change", soon) not in page
    assert "Less than 24 hours remain" in page

    confirm = patient_client.get(url("cancel", soon)).content.decode()
    assert "Less than 24 hours remain" in confirm
    assert f'action="{url("cancel", soon)}"' not in confirm and "Yes, cancel" not in confirm

    refused = patient_client.post(url("cancel", soon), {"reason": "Flu"})
    assert refused.status_code == 400
    assert "Less than 24 hours remain; please call the clinic to cancel." in refused.content.decode()
    refused = patient_client.post(url("change", soon), {"text": "Tomorrow"})
    assert refused.status_code == 400
    assert "please call the clinic" in refused.content.decode()
    soon.refresh_from_db()
    assert (soon.status, soon.change_request) == (Status.BOOKED, "")


def test_an_appointment_no_longer_booked_cannot_be_cancelled_again(world, patient_client):
    done = make(world, local(3, 10), status=Status.CANCELLED)
    page = patient_client.get(url("cancel", done)).content.decode()
    assert "it can no longer be changed here" in page
    assert patient_client.post(url("cancel", done), {}).status_code == 400


@pytest.mark.parametrize("name", ["cancel", "change", "ics"])
def test_another_patients_appointment_is_not_found(world, patient_client, name):
    from tests.dosing.helpers import second_patient

    morgans = make(world, local(3, 10), patient=second_patient(world))
    olivias = make(world, local(3, 10), patient=world.other_patient)
    for appointment in (morgans, olivias):
        assert patient_client.get(url(name, appointment)).status_code == 404
        before = Appointment.objects.get(pk=appointment.pk)
        response = patient_client.post(url(name, appointment), {"reason": "x", "text": "x"})
        assert response.status_code in (404, 405)
        after = Appointment.objects.get(pk=appointment.pk)
        assert (after.status, after.change_request, after.version) == (
            before.status,
            before.change_request,
            before.version,
        )
    page = patient_client.get(LIST).content.decode()
    assert str(morgans.public_id) not in page and str(olivias.public_id) not in page


def test_the_calendar_file_of_one_appointment(world, patient_client, portal_user):
    world.demo.phone = "+1 303 555 0100"
    world.demo.save()
    appointment = make(world, local(3, 10), kind=Kind.DOSING, route="sublingual", minutes=150)
    make(world, local(7, 10))
    response = patient_client.get(url("ics", appointment))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('.ics"')

    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    assert str(event["UID"]) == f"{appointment.public_id}@kapflow"
    assert event.decoded("DTSTART") == appointment.starts_at.astimezone(UTC)
    assert event.decoded("DTEND") == appointment.ends_at.astimezone(UTC)
    assert str(event["SUMMARY"]) == "Appointment at Demo KAP Clinic"
    assert "Dosing room 1" in str(event["LOCATION"])
    description = str(event["DESCRIPTION"])
    assert "Dosing session" in description and "You must not drive until the next day." in description
    assert "+1 303 555 0100" in description
    assert world.patient.legal_family_name not in response.content.decode()
    assert AccessLogEntry.objects.filter(
        user_id=portal_user.pk,
        action="export",
        category="portal",
        detail=f"appointment calendar file {appointment.public_id}",
    ).exists()


def test_the_portal_home_shows_the_next_appointment_and_links_to_the_list(world, patient_client):
    page = patient_client.get(HOME).content.decode()
    assert f'href="{LIST}"' in page and ">Appointments<" in page
    assert "You have no upcoming appointments." in page

    make(world, local(9, 14))
    make(world, local(2, 9, 15), kind=Kind.SCREENING)
    make(world, local(1, 8), status=Status.CANCELLED, kind=Kind.INTEGRATION)
    page = patient_client.get(HOME).content.decode()
    nxt = local(2, 9, 15)
    assert f"{nxt:%A} {nxt.day} {nxt:%B} {nxt.year}, 09:15" in page
    assert "Screening" in page and "Integration" not in page and "Preparation" not in page


def test_staff_have_no_appointments_page(world, login):
    assert login(world.therapist).get(LIST).status_code == 404
    anonymous = Client().get(LIST)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))
