"""Regressions found in review: dates at the ends of the calendar (a 500 from an overflow),
malformed ids in a booking link, planner rows with a time zone of their own, a closure form that
lost what was typed, the calendar file of a cancelled appointment, a move of an appointment
cancelled meanwhile, the clinic's day when a service is called outside a request, the
series planner read without an access-log entry, and a reminder for a voided appointment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from kapflow.core.errors import ApplicationError
from kapflow.core.models import AccessLogEntry
from kapflow.portal.models import PortalAccount
from kapflow.scheduling import services
from kapflow.scheduling.conflicts import Problem
from kapflow.scheduling.models import (
    Appointment,
    AppointmentStaff,
    Kind,
    ReminderSent,
    Status,
    Unavailability,
)
from kapflow.scheduling.reminders import send_reminder
from kapflow.screening.models import EligibilityDecision
from tests.dosing.helpers import make_ready
from tests.scheduling.helpers import at, book, weekday_ahead

BOOK = reverse("scheduling:book", kwargs={"clinic": "demo"})
HOURS = reverse("scheduling:hours", kwargs={"clinic": "demo"})
FAR_DAYS = ["0001-01-01", "9999-12-25", "9999-12-31", "3000-01-01"]


def booking(world, day: str, hour: str = "11:00", action: str = "book") -> dict[str, object]:
    return {
        "patient": str(world.patient.pk),
        "kind": "preparation",
        "day": day,
        "time": hour,
        "staff": [str(world.therapist.user_id)],
        "action": action,
    }


def plan_url(course) -> str:
    return reverse("scheduling:plan", kwargs={"clinic": "demo", "course_id": course.public_id})


def plan_post(world, **rows: str) -> dict[str, str]:
    return {
        "start_day": weekday_ahead(21).isoformat(),
        "therapist": str(world.therapist.user_id),
        "medical": str(world.prescriber.user_id),
        **rows,
    }


@pytest.mark.parametrize("day", FAR_DAYS)
@pytest.mark.parametrize("action", ["book", "check"])
def test_a_day_beyond_the_calendars_years_is_a_form_error_not_a_500(world, login, day, action):
    response = login(world.frontdesk).post(BOOK, booking(world, day, "23:00", action))
    assert response.status_code == 400
    assert "Choose a date between 2000 and 2999." in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("day", FAR_DAYS)
def test_moving_to_a_day_beyond_the_calendars_years_is_refused(world, login, day):
    appointment = book(world, start=at(weekday_ahead(), 10))
    path = reverse("scheduling:move", kwargs={"clinic": "demo", "appointment_id": appointment.public_id})
    data = {"day": day, "time": "23:00", "staff": [str(world.therapist.user_id)]}
    response = login(world.frontdesk).post(path, data)
    assert response.status_code == 400
    assert Appointment.objects.get().starts_at == appointment.starts_at


@pytest.mark.parametrize("day", FAR_DAYS)
def test_planning_from_a_day_beyond_the_calendars_years_is_a_form_error(world, login, day):
    course = make_ready(world)
    response = login(world.frontdesk).post(plan_url(course), plan_post(world, start_day=day))
    assert response.status_code == 400
    assert "Choose a date between 2000 and 2999." in response.content.decode()


@pytest.mark.parametrize(
    ("day", "hour", "problem"),
    [
        ("2030-01-07", "10:00+05:00", "Row 1: give a date and a time (HH:MM)."),
        ("2030-01-07", "10:00Z", "Row 1: give a date and a time (HH:MM)."),
        ("9999-12-31", "10:00", "Row 1: choose a date between 2000 and 2999."),
        ("0001-01-01", "10:00", "Row 1: choose a date between 2000 and 2999."),
    ],
)
def test_planner_rows_with_a_zone_of_their_own_or_a_far_day_are_named(world, login, day, hour, problem):
    course = make_ready(world)
    rows = {"row-0-kind": "preparation", "row-0-day": day, "row-0-time": hour, "row-0-include": "on"}
    response = login(world.frontdesk).post(
        plan_url(course), plan_post(world, action="confirm", rows="1", **rows)
    )
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("key", ["patient", "course"])
@pytest.mark.parametrize("value", ["bad", "", "1", "00000000-0000-0000-0000-00000000000g"])
def test_a_malformed_id_in_a_booking_link_is_not_found(world, login, key, value):
    assert login(world.frontdesk).get(BOOK, {key: value}).status_code == 404


def test_a_closure_with_errors_comes_back_with_what_was_typed(world, login):
    path = reverse("scheduling:closure_add", kwargs={"clinic": "demo"})
    data = {"starts_at": "9999-12-31T08:00", "ends_at": "9999-12-31T23:59", "reason": "Roof repairs"}
    response = login(world.admin).post(path, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a date between 2000 and 2999." in page
    assert 'value="Roof repairs"' in page and 'value="9999-12-31T08:00"' in page
    assert not Unavailability.objects.exists()
    # A good one is still saved and sends the admin back to the page.
    good = {"starts_at": f"{weekday_ahead()}T08:00", "ends_at": f"{weekday_ahead()}T12:00", "reason": "Roof"}
    assert login(world.admin).post(path, good).status_code == 302
    assert Unavailability.objects.get().reason == "Roof"


def test_the_calendar_file_of_a_cancelled_appointment_cancels_it(world, client):
    make_ready(world)  # Jordan's portal account
    client.force_login(PortalAccount.objects.get(patient=world.patient).user)
    appointment = book(world, start=at(weekday_ahead(), 10))
    path = reverse("portal_appointments:ics", kwargs={"appointment_id": appointment.public_id})
    booked = Calendar.from_ical(client.get(path).content).walk("VEVENT")[0]
    assert str(booked["STATUS"]) == "CONFIRMED"
    services.appointment_cancel(member=world.frontdesk, appointment=appointment, reason="Unwell")
    cancelled = Calendar.from_ical(client.get(path).content).walk("VEVENT")[0]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(str(cancelled["SEQUENCE"])) > int(str(booked["SEQUENCE"]))


def test_an_appointment_cancelled_while_the_move_form_was_open_is_not_moved(world):
    appointment = book(world, start=at(weekday_ahead(), 10))
    stale = Appointment.objects.get(pk=appointment.pk)  # loaded before the cancellation
    services.appointment_cancel(member=world.frontdesk, appointment=appointment, reason="Unwell")
    moved = services.Request(
        patient=world.patient,
        kind=Kind.PREPARATION,
        starts_at=at(weekday_ahead(), 14),
        room_id=None,
        staff_ids=(world.therapist.user_id,),
    )
    with pytest.raises(ApplicationError, match="Only a booked appointment can be moved"):
        services.appointment_move(member=world.frontdesk, appointment=stale, request=moved)
    row = Appointment.objects.get()
    assert row.status == Status.CANCELLED and row.starts_at == appointment.starts_at


def _evening(monkeypatch) -> datetime:
    """Now is 17:30 in Denver on a weekday ahead: already the next day in UTC."""
    now = at(weekday_ahead(), 17, 30)
    assert now.astimezone(UTC).date() != now.date()
    monkeypatch.setattr(timezone, "now", lambda: now.astimezone(UTC))
    return now


def test_check_in_counts_the_clinics_day_even_outside_a_request(world, monkeypatch):
    now = _evening(monkeypatch)
    start = now - timedelta(hours=1)  # 16:30 in Denver: still the previous day in UTC
    appointment = Appointment.objects.create(
        clinic=world.demo, patient=world.patient, kind=Kind.FOLLOW_UP, starts_at=start, ends_at=now
    )
    AppointmentStaff.objects.create(appointment=appointment, user=world.therapist.user, role="therapist")
    checked = services.appointment_check_in(member=world.frontdesk, appointment=appointment)
    assert checked.status == Status.CHECKED_IN


def test_the_gate_at_booking_is_judged_on_the_clinics_day_even_outside_a_request(world):
    course = make_ready(world)
    day = weekday_ahead()
    # The eligibility decision is valid through that day; 17:00 in Denver is the next day in UTC.
    EligibilityDecision.objects.filter(patient=world.patient).update(valid_until=day)
    request = services.Request(
        patient=world.patient,
        kind=Kind.DOSING,
        starts_at=at(day, 17),
        room_id=world.room.pk,
        staff_ids=(world.therapist.user_id, world.prescriber.user_id),
        course=course,
    )
    _proposal, found, _course = services.evaluate(world.demo, request)
    assert [c.message for c in found if c.problem == Problem.GATE] == []
    late = services.Request(**{**request.__dict__, "starts_at": at(day + timedelta(days=1), 9)})
    _proposal, found, _course = services.evaluate(world.demo, late)
    assert [c for c in found if c.problem == Problem.GATE], "expired the next day"


def test_the_series_planner_is_written_to_the_access_log(world, login):
    course = make_ready(world)
    assert login(world.frontdesk).get(plan_url(course)).status_code == 200
    entry = AccessLogEntry.objects.filter(user=world.frontdesk.user).latest("seq")
    assert entry.patient_id == world.patient.pk
    assert entry.detail == f"series planner of course {course.public_id}"


def test_no_reminder_for_a_voided_appointment(world, mailoutbox):
    appointment = book(world, start=at(weekday_ahead(), 10))
    args = (str(appointment.public_id), 48, appointment.starts_at.isoformat())
    Appointment.objects.filter(pk=appointment.pk).update(
        voided_at=timezone.now(), voided_by=world.admin.user, void_reason="Booked for the wrong patient."
    )
    assert send_reminder.call(*args) == "skipped: the appointment was moved or cancelled"
    assert mailoutbox == [] and not ReminderSent.objects.exists()
