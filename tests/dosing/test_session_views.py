"""The dosing session through its pages: check-in, the pre-dose record and gate, overrides,
the first dose and boosters, monitoring, events, discharge, the locked record and its PDF."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from kapflow.core.models import AccessLogEntry
from kapflow.dosing import services
from kapflow.dosing.models import (
    Administration,
    AdverseEvent,
    DosingSession,
    Reading,
    SessionStatus,
    StockLot,
)
from tests.dosing.helpers import backdate, checked_in, dosed, make_lot, make_ready


def url(name: str, session: DosingSession, **extra) -> str:
    return reverse(f"dosing:{name}", kwargs={"clinic": "demo", "session_id": session.public_id, **extra})


def dose_post(session: DosingSession, lot: StockLot, dose: str = "200", **extra) -> dict[str, str]:
    return {"dose-dose_mg": dose, "dose-lot": str(lot.pk), "dose-version": str(session.version), **extra}


def test_check_in_from_the_course_opens_the_session_page(world, login):
    course = make_ready(world)
    client = login(world.prescriber)
    check_in = reverse("dosing:check_in", kwargs={"clinic": "demo", "course_id": course.public_id})
    assert client.get(check_in).status_code == 200
    response = client.post(check_in, {"room": world.room.pk})
    session = DosingSession.objects.get(course=course)
    assert response.status_code == 302 and response["Location"] == url("session", session)
    assert session.room == world.room and session.status == SessionStatus.CHECKED_IN
    page = client.get(url("session", session)).content.decode()
    assert "Pre-dose gate" in page and "Record pre-dose vital signs" in page
    # A second check-in while this one is open is refused with the reason.
    again = client.post(check_in, {})
    assert again.status_code == 400
    assert "already has a dosing session open" in again.content.decode()


def test_a_planned_course_cannot_check_in(world, login):
    from kapflow.courses import services as course_services

    course = make_ready(world)
    course_services.course_set_status(member=world.therapist, course=course, status="paused", reason="Travel")
    client = login(world.prescriber)
    response = client.post(
        reverse("dosing:check_in", kwargs={"clinic": "demo", "course_id": course.public_id}), {}
    )
    assert response.status_code == 400
    assert "active course" in response.content.decode()


def test_a_blood_pressure_above_the_hard_stop_blocks_administration(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = checked_in(world, course, vitals=(172, 96))  # example hard stop: systolic > 160
    client = login(world.prescriber)
    page = client.get(url("session", session)).content.decode()
    assert "hard stop of 160" in page and "does not allow dosing" in page
    assert "Proceed with this reason" not in page  # no override offered
    response = client.post(url("administer", session), dose_post(session, lot))
    assert response.status_code == 400
    assert "The pre-dose gate does not pass" in response.content.decode()
    assert not Administration.objects.exists()
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("2000")
    # An override of a hard stop is refused too.
    refused = client.post(
        url("override", session), {"override-check": "vitals", "override-reason": "I insist"}
    )
    assert refused.status_code == 400 and "cannot be overridden" in refused.content.decode()


def test_a_caution_reading_passes_only_with_a_written_override(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = checked_in(world, course, vitals=(150, 85))  # caution: above 140, below the 160 hard stop
    client = login(world.prescriber)
    assert client.post(url("administer", session), dose_post(session, lot)).status_code == 400
    blank = client.post(url("override", session), {"override-check": "vitals", "override-reason": "  "})
    assert blank.status_code == 400
    ok = client.post(
        url("override", session),
        {"override-check": "vitals", "override-reason": "White-coat; 138/84 at home."},
    )
    assert ok.status_code == 302
    session.refresh_from_db()
    assert session.overrides["vitals"]["reason"] == "White-coat; 138/84 at home."
    response = client.post(url("administer", session), dose_post(session, lot))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_SESSION
    snapshot = {c["check"]: c for c in session.gate_snapshot}
    assert snapshot["vitals"]["override"] == "White-coat; 138/84 at home."


def test_the_therapist_is_refused_administration_on_the_page_and_by_direct_post(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = checked_in(world, course)
    client = login(world.therapist)
    page = client.get(url("session", session)).content.decode()
    assert "they never administer" in page
    assert 'name="dose-dose_mg"' not in page
    response = client.post(url("administer", session), dose_post(session, lot))
    assert response.status_code == 403
    assert not Administration.objects.exists()
    denied = AccessLogEntry.objects.filter(
        user=world.therapist.user, outcome="denied", detail__startswith="dose.administer"
    )
    assert denied.count() == 1


def test_a_nurse_off_the_care_team_is_refused_and_the_other_clinic_cannot_see_it(world, login):
    course = make_ready(world)
    session = checked_in(world, course)
    assert login(world.nurse).get(url("session", session)).status_code == 403
    assert login(world.other_admin).get(url("session", session)).status_code == 404
    assert login(world.frontdesk).get(url("session", session)).status_code == 403


@pytest.mark.parametrize(
    ("dose", "message"),
    [
        ("0", "more than 0 mg"),
        ("10000", "beyond any protocol"),
        ("50", "outside the protocol&#x27;s range of 100-400 mg"),
        ("450", "outside the protocol&#x27;s range"),
        ("abc", "Enter a number"),
    ],
)
def test_a_dose_outside_the_protocol_is_refused_and_nothing_changes(world, login, dose, message):
    course = make_ready(world)
    lot = make_lot(world)
    session = checked_in(world, course)
    response = login(world.prescriber).post(url("administer", session), dose_post(session, lot, dose))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'value="{dose}"' in response.content.decode()  # what was typed is kept
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("2000") and not Administration.objects.exists()


def test_missing_lot_expired_lot_and_more_than_the_stock_are_refused(world, login):
    course = make_ready(world)
    small = make_lot(world, quantity="100", lot_number="SMALL")
    session = checked_in(world, course)
    client = login(world.prescriber)
    missing = client.post(
        url("administer", session), {"dose-dose_mg": "200", "dose-version": str(session.version)}
    )
    assert missing.status_code == 400 and "This field is required" in missing.content.decode()
    too_much = client.post(url("administer", session), dose_post(session, small, "200"))
    assert too_much.status_code == 400
    # The form only offers usable lots; an expired lot posted by hand is refused too.
    expired = make_lot(world, lot_number="OLD")
    StockLot.objects.filter(pk=expired.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    old = client.post(url("administer", session), dose_post(session, expired, "200"))
    assert old.status_code == 400
    assert not Administration.objects.exists()


def test_two_nurses_recording_the_same_administration_only_one_is_recorded(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = checked_in(world, course)
    data = dose_post(session, lot)  # both forms were loaded at the same version
    client = login(world.prescriber)
    assert client.post(url("administer", session), data).status_code == 302
    second = client.post(url("administer", session), data)
    assert second.status_code == 409
    assert "changed while you were entering the dose" in second.content.decode()
    assert Administration.objects.count() == 1
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("1800")


def test_a_booster_counts_toward_the_cumulative_maximum(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = dosed(world, course, lot, dose="300")
    client = login(world.prescriber)
    over = client.post(url("administer", session), dose_post(session, lot, "150"))
    assert over.status_code == 400 and "above the protocol&#x27;s maximum of 400" in over.content.decode()
    ok = client.post(url("administer", session), dose_post(session, lot, "100"))
    assert ok.status_code == 302
    assert Administration.objects.filter(booster=True).count() == 1
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("1600")


def test_vitals_typed_as_text_or_impossible_are_refused(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = dosed(world, course, lot)
    client = login(world.prescriber)
    before = Reading.objects.count()
    text = client.post(
        url("reading", session, kind="vitals"), {"vitals-systolic": "high", "vitals-diastolic": "80"}
    )
    assert text.status_code == 400 and "Enter a whole number" in text.content.decode()
    low = client.post(
        url("reading", session, kind="vitals"), {"vitals-systolic": "30", "vitals-diastolic": "20"}
    )
    assert low.status_code == 400
    upside = client.post(
        url("reading", session, kind="vitals"), {"vitals-systolic": "80", "vitals-diastolic": "120"}
    )
    assert upside.status_code == 400 and "diastolic pressure must be below" in upside.content.decode()
    moaas = client.post(url("reading", session, kind="moaas"), {"moaas-moaas": "7"})
    assert moaas.status_code == 400
    unknown = client.post(url("reading", session, kind="mood"), {})
    assert unknown.status_code == 400
    assert Reading.objects.count() == before


def test_a_breach_during_the_session_shows_a_banner_and_is_stored_with_the_reading(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = dosed(world, course, lot)
    client = login(world.prescriber)
    response = client.post(
        url("reading", session, kind="vitals"), {"vitals-systolic": "186", "vitals-diastolic": "104"}
    )
    assert response.status_code == 302
    reading = Reading.objects.filter(session=session, before_dose=False).get()
    assert reading.level == "hard_stop"
    assert {b["limit"] for b in reading.breaches} == {"systolic", "diastolic"}
    live = client.get(url("live", session)).content.decode()
    assert "Hard-stop threshold crossed" in live and "Systolic blood pressure 186" in live


def test_monitoring_checks_fall_due_and_are_done_when_entered(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = dosed(world, course, lot)
    backdate(session, 26)  # the 0 and 20 minute vitals, and the 20 minute MOAA/S, are due or overdue
    client = login(world.prescriber)
    live = client.get(url("live", session)).content.decode()
    assert "overdue" in live
    client.post(url("reading", session, kind="vitals"), {"vitals-systolic": "132", "vitals-diastolic": "84"})
    client.post(url("reading", session, kind="moaas"), {"moaas-moaas": "4"})
    live = client.get(url("live", session)).content.decode()
    assert live.count("done") >= 2


def test_discharge_before_the_minimum_observation_is_refused_then_signed_and_locked(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = dosed(world, course, lot)
    client = login(world.prescriber)
    client.post(url("reading", session, kind="vitals"), {"vitals-systolic": "126", "vitals-diastolic": "80"})
    client.post(url("reading", session, kind="moaas"), {"moaas-moaas": "5"})
    confirmed = {"discharge-confirmed": ["walks_unaided", "escort_present", "no_driving"]}
    early = client.post(url("discharge", session), confirmed)
    assert early.status_code == 400 and "more minutes of observation needed" in early.content.decode()
    backdate(session, 121)
    client.post(url("reading", session, kind="vitals"), {"vitals-systolic": "126", "vitals-diastolic": "80"})
    client.post(url("reading", session, kind="moaas"), {"moaas-moaas": "5"})
    unconfirmed = client.post(url("discharge", session), {})
    assert unconfirmed.status_code == 400 and "Walks unaided" in unconfirmed.content.decode()
    signed = client.post(url("discharge", session), confirmed)
    assert signed.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.DISCHARGED and session.discharged_by == world.prescriber.user
    assert session.ready_to_leave_at is not None
    # Locked: no more readings or doses; an addendum is the way to add.
    late = client.post(
        url("reading", session, kind="vitals"), {"vitals-systolic": "120", "vitals-diastolic": "80"}
    )
    assert late.status_code == 409
    assert (
        client.post(url("addendum", session), {"addendum-text": "Called next morning: well."}).status_code
        == 302
    )
    assert session.addenda.count() == 1


def test_a_serious_event_notifies_the_prescriber_with_a_link_only(
    world, login, django_capture_on_commit_callbacks
):
    course = make_ready(world)
    lot = make_lot(world)
    session = dosed(world, course, lot)
    client = login(world.therapist)  # the therapist is present and may record an event
    data = {
        "event-kind": "agitation",
        "event-severity": "severe",
        "event-serious": "on",
        "event-outcome": "resolving",
        "event-intervention": "Reassurance; lights dimmed.",
        "event-description": "Distressed at 30 min.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("event", session), data)
    assert response.status_code == 302
    assert AdverseEvent.objects.get().serious
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [world.prescriber.user.email]
    body = mail.outbox[0].body
    assert str(session.public_id) in body and "Jordan" not in body and "Distressed" not in body


def test_the_pdf_record_downloads_after_discharge(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    session = dosed(world, course, lot)
    services.discharge_sign  # noqa: B018 - the discharge route is exercised above; here the PDF
    response = login(world.prescriber).get(url("pdf", session))
    assert response.status_code in (200, 503)
    if response.status_code == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
