"""The issue's browser acceptance of scheduling: the front desk plans the series of Jordan's
sublingual course. Between proposing and confirming, Priya (the prescriber) is booked into a
follow-up of another patient at the time proposed for the first dosing session: confirming is
refused with the clash named and nothing is booked. The front desk moves that session to the
day before and the whole series is booked. Jordan then sees the appointments in the portal,
with what to do before a dosing session, and downloads one as an .ics file."""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kapflow.scheduling.models import Appointment, Kind
from tests.dosing.helpers import make_ready, second_patient
from tests.e2e.conftest import sign_in
from tests.e2e.test_measures_portal import sign_in_to_the_portal
from tests.scheduling.helpers import at, book, weekday_ahead

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def a_tuesday_ahead() -> date:
    """A Tuesday at least three days ahead, so the Monday before it is still to come."""
    day = weekday_ahead(3)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return day


def test_the_front_desk_plans_the_series_and_the_patient_downloads_it(
    world, portal_user, new_page, screenshot
):
    course = make_ready(world)
    morgan = second_patient(world)
    tuesday = a_tuesday_ahead()
    monday = tuesday - timedelta(days=1)

    desk = new_page()
    sign_in(desk, world.frontdesk)
    # From the patient's chart: their appointments, then the course's series planner.
    desk.goto(f"/c/demo/patients/{world.patient.public_id}/")
    desk.get_by_role("link", name="Appointments", exact=True).click()
    desk.get_by_role("link", name="Plan the series").click()
    expect(desk.locator("main")).to_contain_text(
        "Still to book: 0 preparation visit(s) and 6 dosing session(s)"
    )
    desk.get_by_label("Plan from").fill(tuesday.isoformat())
    desk.get_by_label("Dosing room").select_option(value=str(world.room.pk))
    desk.get_by_label("Therapist").select_option(value=str(world.therapist.user_id))
    desk.get_by_label("Prescriber or nurse (dosing sessions)").select_option(
        value=str(world.prescriber.user_id)
    )
    desk.get_by_role("button", name="Propose free slots").click()
    rows = desk.locator("#plan-rows tbody tr")
    expect(rows).to_have_count(12)  # 6 dosing sessions, each with its integration visit
    expect(rows.first).to_contain_text("Dosing session 1")
    expect(rows.nth(1)).to_contain_text("Integration 1")
    first_day = desk.locator("#row-0-day").input_value()
    first_time = desk.locator("#row-0-time").input_value()
    assert (first_day, first_time) == (tuesday.isoformat(), "08:00")  # the first free slot
    screenshot(desk, "scheduling-plan-proposed")

    # Meanwhile Priya is booked into Morgan's follow-up at that very time.
    book(world, kind="follow_up", start=at(tuesday, 8), staff=[world.prescriber], patient=morgan)
    assert Appointment.objects.count() == 1

    desk.get_by_role("button", name="Confirm and book").click()
    conflicts = desk.locator("#conflicts")
    expect(conflicts).to_contain_text("Priya Prescriber already has an appointment from 08:00 to 08:30.")
    expect(conflicts).to_contain_text(tuesday.strftime("%a %d %b 08:00"))
    assert Appointment.objects.count() == 1  # nothing of the series was booked
    expect(desk.locator("#row-0-time")).to_have_value("08:00")  # the rows are kept as they were
    screenshot(desk, "scheduling-plan-refused")

    # Later that day would come too close to the next sessions (48 hours, 2 a week): the day before
    # keeps every spacing of the protocol.
    desk.locator("#row-0-day").fill(monday.isoformat())
    desk.get_by_role("button", name="Confirm and book").click()
    desk.wait_for_url(re.compile(rf"/c/demo/schedule/patients/{world.patient.public_id}/$"))
    expect(desk.locator("main")).to_contain_text("12 appointments booked.")
    expect(desk.get_by_role("region", name="Upcoming")).to_contain_text(monday.strftime("%a %Y-%m-%d 08:00"))
    series = Appointment.objects.filter(course=course).order_by("starts_at")
    assert [a.kind for a in series] == [Kind.DOSING, Kind.INTEGRATION] * 6
    first = series[0]
    assert first.starts_at == at(monday, 8)
    dosing = [a.starts_at for a in series if a.kind == Kind.DOSING]
    assert all(b - a >= timedelta(hours=48) for a, b in pairwise(dosing))
    screenshot(desk, "scheduling-plan-booked")

    # Jordan sees the appointments in the portal, with what a dosing session asks of them.
    patient = new_page()
    sign_in_to_the_portal(patient, portal_user.email)
    patient.goto("/portal/appointments/")
    cards = patient.locator("section.appointment")
    expect(cards).to_have_count(12)
    card = cards.first
    expect(card.get_by_role("heading", level=2)).to_have_text(f"{monday:%A} {monday.day} {monday:%B}, 08:00")
    expect(card).to_contain_text("Dosing session")
    expect(card).to_contain_text("Dosing room 1")
    expect(card).to_contain_text("Do not eat for 4 hours before your session.")
    expect(card).to_contain_text("Do not drink anything for 1 hour before your session.")
    expect(card).to_contain_text("Come with someone who will take you home after the session.")
    expect(card).to_contain_text("You must not drive until the next day.")
    expect(cards.nth(1)).to_contain_text("Integration")
    screenshot(patient, "scheduling-portal-appointments")

    with patient.expect_download() as download_info:
        card.get_by_role("link", name="Add to my calendar (.ics file)").click()
    download = download_info.value
    assert download.suggested_filename == f"appointment-{monday.isoformat()}.ics"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("BEGIN:VCALENDAR")
    starts_utc = at(monday, 8).astimezone(UTC)
    assert f"DTSTART:{starts_utc:%Y%m%dT%H%M%SZ}" in text
    assert f"UID:{first.public_id}@kapflow" in text
    assert "Morgan" not in text and "Priya" not in text
