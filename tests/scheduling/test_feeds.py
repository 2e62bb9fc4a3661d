"""Staff calendar feeds: the secret address shown once (only its hash kept), the .ics with
the patient's initials and nothing more, the owner's appointments only, revoking, and the
same 404 for an unknown, revoked or orphaned feed."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kapflow.core.models import AccessLogEntry
from kapflow.scheduling import ics
from kapflow.scheduling.feed_views import MAX_ACTIVE_FEEDS, feed_create
from kapflow.scheduling.models import CalendarFeed, Kind, Status
from tests.dosing.helpers import second_patient
from tests.scheduling.test_calendar import appointment

FEEDS = reverse("calendar:feeds", kwargs={"clinic": "demo"})


def revoke_url(feed: CalendarFeed, clinic: str = "demo") -> str:
    return reverse("calendar:feed_revoke", kwargs={"clinic": clinic, "feed_id": feed.pk})


def created_url(page: str) -> str:
    found = re.search(r'id="feed-url"[^>]*value="([^"]+)"', page)
    assert found is not None, "the new feed's address is on the page"
    return found.group(1)


def fetch(token: str):
    return Client().get(reverse("feeds:ics", kwargs={"token": token}))


def test_a_new_feeds_address_is_shown_once_and_only_its_hash_is_kept(world, login):
    client = login(world.therapist)
    response = client.post(FEEDS, {"label": "Phone"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    address = created_url(response.content.decode())
    match = re.fullmatch(r"http://testserver/feeds/([A-Za-z0-9_-]{40,})\.ics", address)
    assert match is not None, address
    token = match.group(1)
    feed = CalendarFeed.objects.get()
    assert feed.user == world.therapist.user and feed.clinic == world.demo and feed.label == "Phone"
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # The token itself is stored nowhere: not in the feed, not in any session.
    assert token not in str(CalendarFeed.objects.values().get())
    assert all(token not in str(s.get_decoded()) for s in Session.objects.all())
    # Shown once: the page afterwards lists the feed but not its address.
    again = client.get(FEEDS).content.decode()
    assert "Phone" in again and token not in again and 'id="feed-url"' not in again
    entry = AccessLogEntry.objects.filter(user=world.therapist.user).latest("seq")
    assert entry.detail == f"calendar feed {feed.pk} created" and entry.action == "create"
    # The address works.
    assert fetch(token).status_code == 200


def test_a_feed_without_a_name_is_named_for_you(world, login):
    login(world.nurse).post(FEEDS, {"label": "  "})
    assert CalendarFeed.objects.get().label == "Calendar feed"


def test_a_name_too_long_is_refused_with_the_form(world, login):
    response = login(world.nurse).post(FEEDS, {"label": "x" * 81})
    assert response.status_code == 400
    assert not CalendarFeed.objects.exists()


def test_at_most_ten_active_feeds(world, login):
    for n in range(MAX_ACTIVE_FEEDS):
        feed_create(member=world.nurse, label=f"feed {n}")
    response = login(world.nurse).post(FEEDS, {"label": "one more"})
    assert response.status_code == 400 and "revoke one" in response.content.decode()
    assert CalendarFeed.objects.count() == MAX_ACTIVE_FEEDS


@pytest.fixture
def theos_appointments(world):
    """Appointments around now: Theo attends three (one cancelled) inside the window, one long
    ago and one far ahead; Priya alone attends another."""
    morgan = second_patient(world)
    now = timezone.now().replace(microsecond=0)
    return {
        "dosing": appointment(
            world,
            start=now + timedelta(days=3),
            minutes=150,
            kind=Kind.DOSING,
            route="sublingual",
            room=world.room,
            staff=[world.therapist, world.prescriber],
        ),
        "cancelled": appointment(
            world,
            start=now + timedelta(days=5),
            staff=[world.therapist],
            patient=morgan,
            status=Status.CANCELLED,
        ),
        "past": appointment(world, start=now - timedelta(days=10), staff=[world.therapist], room=world.room),
        "too_old": appointment(world, start=now - timedelta(days=31), staff=[world.therapist]),
        "too_far": appointment(world, start=now + timedelta(days=91), staff=[world.therapist]),
        "priyas": appointment(
            world,
            start=now + timedelta(days=4),
            kind=Kind.SCREENING,
            staff=[world.prescriber],
            patient=morgan,
        ),
    }


def test_the_feed_is_an_icalendar_of_the_owners_appointments_with_initials_only(
    world, login, theos_appointments
):
    _feed, token = feed_create(member=world.therapist, label="Phone")
    response = fetch(token)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    expected = {f"{theos_appointments[k].public_id}@kapflow" for k in ("dosing", "cancelled", "past")}
    assert set(events) == expected  # not Priya's, not outside 30 days back / 90 ahead
    dosing = theos_appointments["dosing"]
    event = events[f"{dosing.public_id}@kapflow"]
    assert str(event["summary"]) == "J.R. \N{EM DASH} Dosing session (sublingual)"
    assert str(event["location"]) == "Dosing room 1, Main"
    assert event.decoded("dtstart") == dosing.starts_at.astimezone(UTC)
    assert event.decoded("dtend") == dosing.ends_at.astimezone(UTC)
    assert event.decoded("dtstart").tzinfo is not None and "DTSTART:" in body and "Z\r\n" in body
    assert str(event["status"]) == "CONFIRMED"
    cancelled = events[f"{theos_appointments['cancelled'].public_id}@kapflow"]
    assert str(cancelled["status"]) == "CANCELLED" and str(cancelled["summary"]).startswith("M.L. ")
    # Nothing more about the patients than their initials.
    for patient in (world.patient, theos_appointments["cancelled"].patient):
        for secret in (
            patient.legal_given_name,
            patient.legal_family_name,
            patient.record_number,
            patient.date_of_birth.isoformat(),
            patient.date_of_birth.strftime("%Y%m%d"),
            str(patient.public_id),
        ):
            assert secret not in body, secret
    for secret in ("jordan@example.org", "+1 303 555 0101", "303 555", "Theo", "Priya"):
        assert secret not in body, secret
    # Each fetch is logged for the feed's owner, without a patient.
    entry = AccessLogEntry.objects.latest("seq")
    assert entry.user == world.therapist.user and entry.clinic == world.demo and entry.patient_id is None
    assert entry.detail.startswith("calendar feed fetched") and entry.category == "schedule"


def test_uids_stay_the_same_and_a_change_raises_the_sequence(world, theos_appointments):
    _feed, token = feed_create(member=world.therapist, label="")
    first = icalendar.Calendar.from_ical(fetch(token).content)
    dosing = theos_appointments["dosing"]
    type(dosing).objects.filter(pk=dosing.pk).update(
        starts_at=dosing.starts_at + timedelta(hours=1),
        ends_at=dosing.ends_at + timedelta(hours=1),
        version=2,
    )
    second = icalendar.Calendar.from_ical(fetch(token).content)
    assert {str(e["uid"]) for e in first.walk("VEVENT")} == {str(e["uid"]) for e in second.walk("VEVENT")}
    moved = next(e for e in second.walk("VEVENT") if str(e["uid"]) == f"{dosing.public_id}@kapflow")
    assert moved.decoded("sequence") == 2
    assert moved.decoded("dtstart") == (dosing.starts_at + timedelta(hours=1)).astimezone(UTC)


def test_unknown_revoked_and_orphaned_feeds_get_the_same_404(world, login):
    feed, token = feed_create(member=world.therapist, label="Phone")
    unknown = fetch("x" * 43)
    assert unknown.status_code == 404
    client = login(world.therapist)
    assert client.post(revoke_url(feed)).status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    revoked = fetch(token)
    assert (revoked.status_code, revoked.content, revoked["Content-Type"]) == (
        unknown.status_code,
        unknown.content,
        unknown["Content-Type"],
    )
    # A feed whose owner no longer works at the clinic stops too.
    other_feed, other_token = feed_create(member=world.prescriber, label="")
    assert fetch(other_token).status_code == 200
    world.prescriber.is_active = False
    world.prescriber.save()
    orphaned = fetch(other_token)
    assert (orphaned.status_code, orphaned.content) == (404, unknown.content)
    assert other_feed.revoked_at is None


def test_revoking_is_the_owners_alone(world, login):
    feed, token = feed_create(member=world.therapist, label="Phone")
    for persona in ("admin", "frontdesk", "prescriber"):
        client = Client()
        client.force_login(world.member(persona).user)
        assert client.post(revoke_url(feed)).status_code == 404, persona
        assert client.get(revoke_url(feed)).status_code == 404, persona
    olive = Client()
    olive.force_login(world.other_therapist.user)
    assert olive.post(revoke_url(feed)).status_code == 404
    assert olive.post(revoke_url(feed, clinic="other")).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None and fetch(token).status_code == 200
    denied = AccessLogEntry.objects.filter(user=world.frontdesk.user, outcome="denied").latest("seq")
    assert "not one of your calendar feeds" in denied.detail
    # The owner: GET is not allowed, POST revokes, a second POST changes nothing more.
    theo = login(world.therapist)
    assert theo.get(revoke_url(feed)).status_code == 405
    assert theo.post(revoke_url(feed))["Location"] == FEEDS
    feed.refresh_from_db()
    revoked_at = feed.revoked_at
    assert revoked_at is not None
    assert theo.post(revoke_url(feed)).status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at == revoked_at
    page = theo.get(FEEDS).content.decode()
    assert "Revoked" in page and f'action="{revoke_url(feed)}"' not in page
    details = list(
        AccessLogEntry.objects.filter(user=world.therapist.user, detail__regex=r"^calendar feed \d+ ")
        .order_by("seq")
        .values_list("detail", flat=True)
    )
    assert details == [f"calendar feed {feed.pk} created", f"calendar feed {feed.pk} revoked"]


def test_the_feeds_page_lists_only_your_own_feeds(world, login):
    feed_create(member=world.prescriber, label="Priya's phone")
    feed_create(member=world.therapist, label="Theo's laptop")
    page = login(world.therapist).get(FEEDS).content.decode()
    assert "Theo&#x27;s laptop" in page and "Priya" not in page


def test_the_feed_answers_get_only(world):
    _feed, token = feed_create(member=world.therapist, label="")
    assert Client().post(reverse("feeds:ics", kwargs={"token": token})).status_code == 405


# --- ics.py: plain event data to iCalendar --------------------------------------------------------
def test_event_ics_makes_a_calendar_file_of_one_event():
    event = ics.Event(
        uid="abc@kapflow",
        summary="Your preparation session, with Theo; bring notes",
        starts_at=datetime(2026, 12, 4, 16, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 4, 17, 0, tzinfo=UTC),
        location="Dosing room 1, Main",
        description="Line one\nLine two",
        sequence=3,
    )
    body = ics.event_ics(event, name="Demo KAP Clinic", now=datetime(2026, 11, 27, tzinfo=UTC))
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["method"]) == "PUBLISH" and str(calendar["version"]) == "2.0"
    (parsed,) = calendar.walk("VEVENT")
    assert str(parsed["summary"]) == event.summary
    assert str(parsed["location"]) == event.location and str(parsed["description"]) == event.description
    assert parsed.decoded("dtstart") == event.starts_at and parsed.decoded("dtend") == event.ends_at
    assert parsed.decoded("dtstamp") == datetime(2026, 11, 27, tzinfo=UTC)
    assert parsed.decoded("sequence") == 3 and str(parsed["status"]) == "CONFIRMED"
    assert b"DTSTART:20261204T160000Z" in body


def test_calendar_ics_converts_local_times_to_utc_and_refuses_naive_ones():
    from zoneinfo import ZoneInfo

    denver = ZoneInfo("America/Denver")
    event = ics.Event(
        uid="x@kapflow",
        summary="J.R. \N{EM DASH} Integration",
        starts_at=datetime(2026, 3, 8, 9, 0, tzinfo=denver),  # the morning the clocks change
        ends_at=datetime(2026, 3, 8, 10, 0, tzinfo=denver),
        status="CANCELLED",
    )
    body = ics.calendar_ics([event])
    assert b"DTSTART:20260308T150000Z" in body and b"STATUS:CANCELLED" in body
    assert b"METHOD" not in body
    with pytest.raises(ValueError, match="aware"):
        ics.calendar_ics(
            [ics.Event(uid="n", summary="s", starts_at=datetime(2026, 1, 1), ends_at=datetime(2026, 1, 2))]
        )
    with pytest.raises(ValueError, match="status"):
        ics.calendar_ics(
            [
                ics.Event(
                    uid="n", summary="s", starts_at=event.starts_at, ends_at=event.ends_at, status="MAYBE"
                )
            ]
        )
