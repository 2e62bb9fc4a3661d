"""Regression tests for what the review of the dosing app found: a 500 on a huge witness id, times
typed around midnight (and in the hour repeated when summer time ends), refused forms that
showed the record without an access-log entry, a life-threatening event that notified nobody,
a prescriber off the care team notified, and an unclear refusal of an expired lot."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from kapflow.core.models import AccessLogEntry
from kapflow.core.roles import Role
from kapflow.dosing.forms import at_local
from kapflow.dosing.models import Administration, AdverseEvent, DosingSession, LedgerEntry, Reading, StockLot
from tests.conftest import make_member
from tests.dosing.helpers import checked_in, dosed, make_lot, make_ready

DENVER = ZoneInfo("America/Denver")


def url(name: str, session: DosingSession, **extra) -> str:
    return reverse(f"dosing:{name}", kwargs={"clinic": "demo", "session_id": session.public_id, **extra})


def denver(year: int, month: int, day: int, hour: int, minute: int, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=DENVER, fold=fold)


# --- A witness id beyond any key was a 500 on SQLite (OverflowError) -------------------------
@pytest.mark.parametrize("witness", ["99999999999999999999", "9223372036854775808", "-99999999999999999999"])
def test_a_witness_id_beyond_any_key_is_refused_with_a_message(world, login, witness):
    lot = make_lot(world)
    client = login(world.prescriber)
    waste = client.post(
        reverse("stock:waste", kwargs={"clinic": "demo", "lot_id": lot.public_id}),
        {"waste-quantity_mg": "10", "waste-witness": witness, "waste-reason": "Dropped"},
    )
    count = client.post(
        reverse("stock:count", kwargs={"clinic": "demo", "lot_id": lot.public_id}),
        {"count-counted_mg": "1990", "count-witness": witness, "count-reason": "Crumbled"},
    )
    for response in (waste, count):
        assert response.status_code == 400
        assert (
            "The witness must be an active prescriber or nurse of this clinic." in response.content.decode()
        )
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("2000") and LedgerEntry.objects.filter(lot=lot).count() == 1


# --- Times typed as the clinic's local time --------------------------------------------------
def test_a_time_typed_just_after_midnight_for_just_before_it_is_yesterday():
    now = denver(2026, 3, 4, 0, 10)
    with timezone.override(DENVER):
        assert at_local(time(23, 50), near=now) == denver(2026, 3, 3, 23, 50)
        assert at_local(time(0, 5), near=now) == denver(2026, 3, 4, 0, 5)
        assert at_local(time(0, 12), near=now) == denver(2026, 3, 4, 0, 12)  # clock skew: still "now"
        # Late in the evening, a time of the small hours is later tonight (and refused as future).
        assert at_local(time(0, 20), near=denver(2026, 3, 3, 23, 55)) == denver(2026, 3, 4, 0, 20)


def test_an_infusion_ending_after_midnight_ends_on_the_next_day():
    with timezone.override(DENVER):
        start = at_local(time(23, 45), near=denver(2026, 3, 4, 0, 30))
        assert start == denver(2026, 3, 3, 23, 45)
        assert at_local(time(0, 25), near=start) == denver(2026, 3, 4, 0, 25)


def test_the_repeated_hour_when_summer_time_ends_means_the_nearer_one():
    # 1 November 2026: at 02:00 MDT the clocks go back to 01:00 MST, so 01:00-01:59 happens twice.
    second = denver(2026, 11, 1, 1, 40, fold=1)  # 08:40 UTC, in the second 01:40
    with timezone.override(DENVER):
        assert at_local(time(1, 35), near=second) == datetime(2026, 11, 1, 8, 35, tzinfo=UTC)
        first = denver(2026, 11, 1, 1, 40)  # 07:40 UTC, in the first 01:40
        assert at_local(time(1, 35), near=first) == datetime(2026, 11, 1, 7, 35, tzinfo=UTC)
        # A time that does not exist (spring forward, 8 March 2026, 02:00 -> 03:00) is still a time.
        assert at_local(time(2, 30), near=denver(2026, 3, 8, 3, 5)) is not None


def _next_local_midnight() -> datetime:
    local = timezone.localtime(timezone.now(), DENVER)
    return datetime.combine(local.date() + timedelta(days=1), time(0, 0), DENVER)


def test_a_reading_typed_after_midnight_for_just_before_it_is_recorded_on_the_right_day(world, client):
    course = make_ready(world)
    session = checked_in(world, course)
    moment = _next_local_midnight() + timedelta(minutes=10)  # 00:10 in Denver
    DosingSession.objects.filter(pk=session.pk).update(checked_in_at=moment - timedelta(minutes=40))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        client.force_login(world.prescriber.user)
        response = client.post(
            url("reading", session, kind="vitals"),
            {"vitals-systolic": "124", "vitals-diastolic": "80", "vitals-taken_at": "23:55"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Reading.objects.filter(session=session).latest("id").taken_at == moment - timedelta(minutes=15)


def test_an_infusion_started_before_midnight_and_ending_after_it_is_recorded(world, client):
    course = make_ready(world, route="intravenous")
    lot = make_lot(world)
    session = checked_in(world, course)  # 70 kg: the example's 0.5-0.75 mg/kg is 35-52.5 mg
    moment = _next_local_midnight() + timedelta(minutes=10)
    DosingSession.objects.filter(pk=session.pk).update(checked_in_at=moment - timedelta(minutes=40))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        client.force_login(world.prescriber.user)
        response = client.post(
            url("administer", session),
            {
                "dose-dose_mg": "35",
                "dose-lot": str(lot.pk),
                "dose-version": str(session.version),
                "dose-started_at": "23:45",
                "dose-ended_at": "00:25",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    given = Administration.objects.get(session=session)
    assert given.started_at == moment - timedelta(minutes=25)
    assert given.ended_at == moment + timedelta(minutes=15)


# --- A refused form shows the whole record: that read is logged ------------------------------
def test_a_refused_form_that_shows_the_record_again_is_logged_as_a_view(world, login):
    course = make_ready(world)
    session = checked_in(world, course)
    client = login(world.prescriber)
    views = AccessLogEntry.objects.filter(
        user=world.prescriber.user, patient=world.patient, action="view", outcome="allowed"
    )
    before = views.count()
    response = client.post(url("reading", session, kind="vitals"), {"vitals-systolic": "high"})
    assert response.status_code == 400 and "Jordan" in response.content.decode()
    assert views.count() == before + 1
    assert views.order_by("-seq")[0].detail == f"dosing session {session.public_id}"


# --- Adverse events ----------------------------------------------------------------------------
EVENT = {
    "event-kind": "respiratory_depression",
    "event-severity": "life_threatening",
    "event-outcome": "transferred",
    "event-intervention": "Airway support; ambulance called.",
}


def test_a_life_threatening_event_is_serious_and_notifies_even_if_not_ticked(
    world, login, django_capture_on_commit_callbacks
):
    session = dosed(world, make_ready(world), make_lot(world))
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.therapist).post(url("event", session), EVENT)  # "serious" not ticked
    assert response.status_code == 302
    assert AdverseEvent.objects.get().serious
    assert [m.to for m in mail.outbox] == [[world.prescriber.user.email]]


def test_a_prescriber_of_the_course_who_left_the_care_team_is_not_notified(
    world, login, django_capture_on_commit_callbacks
):
    course = make_ready(world)
    former = make_member(world.demo, "paz@demo.test", "Paz Former", Role.PRESCRIBER)
    course.medical_staff.add(former.user)  # on the course, never (or no longer) on the care team
    session = dosed(world, course, make_lot(world))
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.therapist).post(url("event", session), {**EVENT, "event-serious": "on"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[world.prescriber.user.email]]


# --- An expired lot posted by hand is refused in words -------------------------------------
def test_an_expired_lot_is_refused_with_a_clear_message(world, login):
    session = checked_in(world, make_ready(world))
    expired = make_lot(world, lot_number="OLD")
    StockLot.objects.filter(pk=expired.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    response = login(world.prescriber).post(
        url("administer", session),
        {"dose-dose_mg": "200", "dose-lot": str(expired.pk), "dose-version": str(session.version)},
    )
    assert response.status_code == 400
    assert "That lot cannot be used: it has expired, is empty" in response.content.decode()
    assert not Administration.objects.exists()


# --- The breach banner -------------------------------------------------------------------------
def test_the_breach_banner_stays_until_vital_signs_are_taken_again(world, login):
    session = dosed(world, make_ready(world), make_lot(world))
    client = login(world.prescriber)
    vitals = url("reading", session, kind="vitals")
    client.post(vitals, {"vitals-systolic": "186", "vitals-diastolic": "104"})
    client.post(url("reading", session, kind="moaas"), {"moaas-moaas": "4"})
    client.post(url("reading", session, kind="observation"), {"observation-note": "Resting."})
    live = client.get(url("live", session)).content.decode()
    assert "Hard-stop threshold crossed" in live and "Systolic blood pressure 186" in live
    client.post(vitals, {"vitals-systolic": "132", "vitals-diastolic": "84"})
    assert "threshold crossed" not in client.get(url("live", session)).content.decode()
