"""Booking through the pages: every conflict named in plain words before anything is saved,
bad input refused, moving, cancelling, no-shows, check-in (a dosing appointment opens its
dosing session), and the planner proposing and confirming a course's series."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Location, Room
from kapflow.dosing.models import DosingSession
from kapflow.scheduling.models import Appointment, Status, Unavailability, WorkingHours
from tests.dosing.helpers import make_ready
from tests.scheduling.helpers import DENVER, at, book, weekday_ahead

BOOK = reverse("scheduling:book", kwargs={"clinic": "demo"})


def form(world, day, hour="09:00", kind="preparation", staff=None, room=None, action="book", patient=None):
    data = {
        "patient": str((patient or world.patient).pk),
        "kind": kind,
        "day": day.isoformat(),
        "time": hour,
        "staff": [str(m.user_id) for m in (staff if staff is not None else [world.therapist])],
        "action": action,
    }
    if room is not None:
        data["room"] = str(room.pk)
    return data


def found(pattern: str, page: str) -> str:
    match = re.search(pattern, page)
    assert match is not None, pattern
    return match.group(1)


def url(name, appointment, **extra):
    return reverse(
        f"scheduling:{name}", kwargs={"clinic": "demo", "appointment_id": appointment.public_id, **extra}
    )


def test_front_desk_books_a_preparation_visit(world, login):
    day = weekday_ahead()
    response = login(world.frontdesk).post(BOOK, form(world, day))
    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response["Location"] == url("appointment", appointment)
    assert timezone.localtime(appointment.starts_at, DENVER).hour == 9
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=60)
    assert [s.user for s in appointment.staff.all()] == [world.therapist.user]


def test_a_clash_is_named_and_nothing_is_saved(world, login):
    day = weekday_ahead()
    book(world, start=at(day, 9), staff=[world.prescriber], kind="follow_up")
    client = login(world.frontdesk)
    check = client.post(BOOK, form(world, day, "09:15", staff=[world.prescriber], action="check"))
    assert check.status_code == 409
    page = check.content.decode()
    assert "Priya Prescriber already has an appointment from 09:00 to 09:30." in page
    assert "The patient already has an appointment from 09:00 to 09:30." in page
    refused = client.post(BOOK, form(world, day, "09:15", staff=[world.prescriber]))
    assert refused.status_code == 409 and Appointment.objects.count() == 1
    assert 'value="09:15"' in refused.content.decode()  # the typed time is kept


def test_a_free_time_checks_clean(world, login):
    response = login(world.frontdesk).post(BOOK, form(world, weekday_ahead(), action="check"))
    assert response.status_code == 200 and "No conflicts" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"time": "25:99"}, 400, "Enter a valid time"),
        ({"day": "yesterday"}, 400, "Enter a valid date"),
        ({"kind": "massage"}, 400, "Select a valid choice"),
        ({"time": "06:00"}, 409, "outside the clinic&#x27;s opening hours"),
        ({"time": "17:30"}, 409, "outside the clinic&#x27;s opening hours"),  # would end 18:30
        ({"staff": []}, 409, "A therapist must attend"),
    ],
)
def test_bad_input_is_refused_clearly(world, login, changes, status, message):
    data = {**form(world, weekday_ahead()), **changes}
    response = login(world.frontdesk).post(BOOK, data)
    assert response.status_code == status
    assert message in response.content.decode()
    assert not Appointment.objects.exists()


def test_booking_in_the_past_is_refused(world, login):
    data = form(world, timezone.localdate(timezone.now(), DENVER) - timedelta(days=3))
    response = login(world.frontdesk).post(BOOK, data)
    assert response.status_code == 409 and "already passed" in response.content.decode()


def test_a_room_of_another_clinic_and_a_deactivated_staff_member_are_refused(world, login):
    location = Location.objects.create(clinic=world.other, name="Elsewhere")
    theirs = Room.objects.create(clinic=world.other, location=location, name="Their room")
    client = login(world.frontdesk)
    response = client.post(BOOK, {**form(world, weekday_ahead()), "room": str(theirs.pk)})
    assert response.status_code == 400 and not Appointment.objects.exists()
    Membership.objects.filter(pk=world.therapist.pk).update(is_active=False)
    response = client.post(BOOK, form(world, weekday_ahead()))
    assert response.status_code == 400 and not Appointment.objects.exists()


def test_a_patient_of_another_clinic_cannot_be_booked(world, login):
    response = login(world.frontdesk).post(BOOK, form(world, weekday_ahead(), patient=world.other_patient))
    assert response.status_code == 400 and not Appointment.objects.exists()


def test_a_closure_and_an_absence_are_named(world, login):
    day = weekday_ahead()
    Unavailability.objects.create(
        clinic=world.demo,
        starts_at=at(day, 0),
        ends_at=at(day, 23),
        reason="staff training",
        created_by=world.admin.user,
    )
    response = login(world.frontdesk).post(BOOK, form(world, day))
    assert response.status_code == 409 and "closed (staff training)" in response.content.decode()


def test_dosing_is_blocked_by_the_gate_with_the_reason(world, login):
    from kapflow.courses.services import course_create, course_set_status

    course = course_create(
        member=world.therapist,
        patient=world.patient,
        route="sublingual",
        planned_dosing_sessions=3,
        therapist_ids=[world.therapist.user_id],
        medical_ids=[world.prescriber.user_id],
        starts_on=timezone.localdate(),
    )
    course_set_status(member=world.therapist, course=course, status="active")
    data = form(
        world, weekday_ahead(), kind="dosing", staff=[world.therapist, world.prescriber], room=world.room
    )
    response = login(world.frontdesk).post(BOOK, data)
    assert response.status_code == 409
    assert "Not ready for dosing: No eligibility decision has been recorded" in response.content.decode()


def test_dosing_too_soon_after_another_is_refused(world, login):
    make_ready(world)
    day = weekday_ahead()
    while day.weekday() != 1:  # a Tuesday, so the next day is a working day
        day += timedelta(days=1)
    staff = [world.therapist, world.prescriber]
    client = login(world.frontdesk)
    first = client.post(BOOK, form(world, day, kind="dosing", staff=staff, room=world.room))
    assert first.status_code == 302
    nxt = day + timedelta(days=1)
    while nxt.weekday() > 4:
        nxt += timedelta(days=1)
    second = client.post(BOOK, form(world, nxt, "09:00", kind="dosing", staff=staff, room=world.room))
    assert second.status_code == 409
    assert "the protocol asks for at least 48 hours between sessions" in second.content.decode()
    appointment = Appointment.objects.get()
    # The dosing appointment lasts set-up + the sublingual example's 120 min + turnover.
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=20 + 120 + 15)


def test_moving_and_cancelling(world, login):
    day = weekday_ahead()
    appointment = book(world, start=at(day, 9))
    client = login(world.frontdesk)
    moved = client.post(
        url("move", appointment),
        {"day": day.isoformat(), "time": "13:00", "staff": [str(world.therapist.user_id)]},
    )
    assert moved.status_code == 302
    appointment.refresh_from_db()
    assert timezone.localtime(appointment.starts_at, DENVER).hour == 13
    blank = client.post(url("cancel", appointment), {"reason": ""})
    assert blank.status_code == 400
    assert client.post(url("cancel", appointment), {"reason": "Patient unwell"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    # The slot is free again.
    assert book(world, start=at(day, 13)).status == Status.BOOKED


def test_a_no_show_only_once_the_time_has_come(world, login):
    appointment = book(world, start=at(weekday_ahead(), 10))
    response = login(world.frontdesk).post(url("no_show", appointment))
    assert response.status_code == 400 and "once its time has come" in response.content.decode()


def test_checking_in_a_dosing_appointment_opens_the_dosing_session(world, login):
    course = make_ready(world)
    now = timezone.localtime(timezone.now(), DENVER)
    # Open the clinic all day today, so an appointment starting in a few minutes is bookable.
    WorkingHours.objects.create(clinic=world.demo, weekday=now.weekday(), starts="00:00", ends="23:59")
    start = (now + timedelta(minutes=5)).replace(second=0, microsecond=0)
    if start.date() != now.date() or start.hour >= 21:
        pytest.skip("too close to midnight in Denver to book a session today")
    appointment = book(
        world,
        kind="dosing",
        start=start,
        staff=[world.therapist, world.prescriber],
        room=world.room,
        course=course,
    )
    response = login(world.prescriber).post(url("check_in", appointment))
    session = DosingSession.objects.get()
    assert response.status_code == 302 and str(session.public_id) in response["Location"]
    appointment.refresh_from_db()
    assert appointment.dosing_session == session and appointment.status == Status.CHECKED_IN
    assert session.room == world.room


def test_check_in_on_another_day_is_refused(world, login):
    appointment = book(world, start=at(weekday_ahead(), 9))
    response = login(world.frontdesk).post(url("check_in", appointment))
    assert response.status_code == 400 and "on the day of their appointment" in response.content.decode()


def test_the_clinic_admin_sets_opening_hours_and_bad_hours_are_refused(world, login):
    client = login(world.admin)
    hours = reverse("scheduling:hours", kwargs={"clinic": "demo"})
    page = client.get(hours).content.decode()
    assert "Example: Monday to Friday 08:00" in page
    bad = client.post(hours, {"d0_from": "10:00", "d0_until": "09:00"})
    assert bad.status_code == 400 and "The end must be after the start" in bad.content.decode()
    half = client.post(hours, {"d1_from": "10:00"})
    assert half.status_code == 400 and not WorkingHours.objects.exists()
    ok = client.post(
        hours, {"d0_from": "10:00", "d0_until": "16:00", "d2_from": "09:00", "d2_until": "12:00"}
    )
    assert ok.status_code == 302
    assert sorted((h.weekday, h.starts.hour, h.ends.hour) for h in WorkingHours.objects.all()) == [
        (0, 10, 16),
        (2, 9, 12),
    ]


def test_the_planner_proposes_and_books_a_course_series(world, login):
    course = make_ready(world)
    client = login(world.frontdesk)
    plan = reverse("scheduling:plan", kwargs={"clinic": "demo", "course_id": course.public_id})
    choice = {
        "start_day": weekday_ahead(3).isoformat(),
        "room": str(world.room.pk),
        "therapist": str(world.therapist.user_id),
        "medical": str(world.prescriber.user_id),
    }
    proposed = client.post(plan, {**choice, "action": "propose"})
    assert proposed.status_code == 200
    page = proposed.content.decode()
    rows = int(found(r'name="rows" value="(\d+)"', page))
    assert rows == 12  # 6 dosing sessions, each with its integration visit (preparation is done)
    data = {**choice, "action": "confirm", "rows": str(rows)}
    for n in range(rows):
        for field in ("kind", "label", "day", "time"):
            data[f"row-{n}-{field}"] = found(rf'name="row-{n}-{field}" value="([^"]*)"', page)
        data[f"row-{n}-include"] = "on"
    confirmed = client.post(plan, data)
    assert confirmed.status_code == 302
    assert Appointment.objects.filter(kind="dosing").count() == 6
    assert Appointment.objects.filter(kind="integration").count() == 6
    dosing = list(Appointment.objects.filter(kind="dosing").order_by("starts_at"))
    assert all(b.starts_at - a.starts_at >= timedelta(hours=48) for a, b in itertools.pairwise(dosing))


def test_a_series_with_a_clash_books_nothing(world, login):
    course = make_ready(world)
    day = weekday_ahead(3)
    client = login(world.frontdesk)
    plan = reverse("scheduling:plan", kwargs={"clinic": "demo", "course_id": course.public_id})
    data = {
        "start_day": day.isoformat(),
        "room": str(world.room.pk),
        "therapist": str(world.therapist.user_id),
        "medical": str(world.prescriber.user_id),
        "action": "confirm",
        "rows": "2",
        "row-0-kind": "dosing",
        "row-0-day": day.isoformat(),
        "row-0-time": "09:00",
        "row-0-include": "on",
        "row-1-kind": "dosing",
        "row-1-day": day.isoformat(),
        "row-1-time": "13:00",
        "row-1-include": "on",
    }
    response = client.post(plan, data)
    assert response.status_code == 409 and "at least 48 hours" in response.content.decode()
    assert not Appointment.objects.exists()
