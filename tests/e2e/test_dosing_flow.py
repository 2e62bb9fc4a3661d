"""The issue's browser acceptance: a whole sublingual session. The nurse checks Jordan in from
the course page, completes the pre-dose record and vital signs, sees the gate pass, records
the dose from a lot, enters the monitoring checks as they fall due, records an adverse event,
signs the discharge after the minimum observation and downloads the PDF record. The clock is
moved by backdating the session from the test (tests/dosing/helpers.backdate). A therapist
sees no dose form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kapflow.dosing.models import Administration, AdverseEvent, DosingSession, SessionStatus
from kapflow.patients.services import care_team_add
from tests.dosing.helpers import backdate, checked_in, make_lot, make_ready
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def record_vitals(page: Page, systolic: str, diastolic: str, heart_rate: str = "", spo2: str = "") -> None:
    page.get_by_label("Systolic (mmHg)").fill(systolic)
    page.get_by_label("Diastolic (mmHg)").fill(diastolic)
    page.get_by_label("Heart rate (/min)").fill(heart_rate)
    page.get_by_label("SpO2 (%)").fill(spo2)
    page.get_by_role("button", name="Record vital signs").click()
    expect(page.locator("main")).to_contain_text(f"{systolic}/{diastolic} mmHg")


def record_moaas(page: Page, score: int) -> None:
    rows = page.locator("#readings tbody tr")
    before = rows.count()
    page.get_by_role("radio", name=re.compile(rf"^{score} · ")).check()
    page.get_by_role("button", name="Record MOAA/S").click()
    expect(rows).to_have_count(before + 1)
    expect(rows.last).to_contain_text("MOAA/S")


def test_a_whole_sublingual_session_from_check_in_to_the_pdf(world, new_page, screenshot):
    course = make_ready(world)
    lot = make_lot(world)
    care_team_add(member=world.frontdesk, patient=world.patient, membership_id=world.nurse.pk)

    page = new_page()
    sign_in(page, world.nurse)
    page.goto(f"/c/demo/courses/{course.public_id}/")
    page.get_by_role("link", name="Check in for a dosing session").click()
    page.get_by_label("Room").select_option(value=str(world.room.pk))
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#session-status")).to_have_text("Checked in")
    session = DosingSession.objects.get(course=course)

    # The pre-dose record, then the pre-dose vital signs: the gate passes.
    predose = page.locator("#predose")
    predose.get_by_label("Fasting confirmed").check()
    predose.get_by_label("Escort home confirmed").check()
    predose.get_by_label("Escort's name").fill("Sam Rivera")
    predose.get_by_label("Intentions reviewed with the patient").check()
    predose.get_by_label("Pregnancy test").select_option(label="Not applicable")
    predose.get_by_role("button", name="Save the pre-dose record").click()
    expect(page.locator("#gate-result")).to_contain_text("check does not pass yet")  # the vitals
    record_vitals(page, "126", "80", "72", "98")
    expect(page.locator("#gate-result")).to_contain_text("Every check passes")
    expect(page.locator("#check-vitals")).to_contain_text("passes")

    # The nurse records the dose from the lot, Priya witnessing.
    page.get_by_label("Dose (mg)").fill("200")
    page.get_by_label("Lot number").select_option(value=str(lot.pk))
    page.get_by_label("Witness").select_option(value=str(world.prescriber.user_id))
    page.get_by_role("button", name="Record the administration").click()
    expect(page.locator("#session-status")).to_have_text("In session")
    expect(page.locator("#checks")).to_contain_text("Vital signs")
    given = Administration.objects.get(session=session)
    assert (given.dose_mg, given.lot_id, given.administered_by_id, given.witnessed_by_id) == (
        200,
        lot.pk,
        world.nurse.user_id,
        world.prescriber.user_id,
    )

    # 26 minutes later the first checks are overdue; entering them marks them done.
    session.refresh_from_db()
    backdate(session, 26)
    page.reload()
    expect(page.locator("#checks")).to_contain_text("overdue")
    record_vitals(page, "138", "88", "84", "97")
    record_moaas(page, 4)
    expect(page.locator("#checks .badge-ok")).to_have_count(2)  # the 20-minute vitals and MOAA/S
    expect(page.locator("#checks .badge-ok").first).to_contain_text("done")
    screenshot(page, "dosing-session-monitoring")

    # A mild nausea.
    events = page.locator("#events")
    events.get_by_label("Type").select_option(label="Nausea or vomiting")
    events.get_by_label("Severity").select_option(label="Mild")
    events.get_by_label("Outcome").select_option(label="Resolved")
    events.get_by_label("Description").fill("Queasy at the peak; did not vomit.")
    events.get_by_label("Intervention").fill("Sat up; sips of water.")
    events.get_by_role("button", name="Record the event").click()
    expect(page.locator("#events")).to_contain_text("Nausea or vomiting")
    assert AdverseEvent.objects.filter(session=session, kind="nausea_vomiting", severity="mild").count() == 1

    # Past the minimum observation (120 minutes in the example): final checks, then discharge.
    backdate(session, 100)
    page.reload()
    record_vitals(page, "124", "80", "70", "98")
    record_moaas(page, 5)
    discharge = page.locator("#discharge")
    expect(discharge.locator("#discharge-checklist")).to_contain_text("120 minutes observed.")
    discharge.get_by_label("Walks unaided").check()
    discharge.get_by_label("Escort present").check()
    discharge.get_by_label("Told not to drive until the next day").check()
    discharge.get_by_role("button", name="Sign the discharge").click()
    expect(page.locator("#session-status")).to_have_text("Discharged")
    session.refresh_from_db()
    assert session.status == SessionStatus.DISCHARGED and session.discharged_by == world.nurse.user
    screenshot(page, "dosing-session-discharged")

    with page.expect_download() as download_info:
        page.locator("#pdf-link").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF")


def test_the_therapist_sees_no_dose_form(world, new_page):
    course = make_ready(world)
    make_lot(world)
    session = checked_in(world, course)

    page = new_page()
    sign_in(page, world.therapist)
    page.goto(f"/c/demo/dosing/{session.public_id}/")
    expect(page.locator("#gate-result")).to_contain_text("Every check passes")
    expect(page.locator("#administer-refused")).to_contain_text("they never administer")
    expect(page.locator('[name="dose-dose_mg"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Record the administration")).to_have_count(0)
