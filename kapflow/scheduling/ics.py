"""iCalendar (RFC 5545) text from plain event data, for the staff feeds and the patient's
download of one appointment.

The callers decide what an event may say (a staff feed carries the patient's initials only);
this module only writes it. Times are written in UTC ("...Z"), which every calendar program
shows in its own time zone, so no VTIMEZONE is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

PRODID = "-//kapflow//scheduling//EN"
STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})


@dataclass(frozen=True)
class Event:
    """One VEVENT. ``uid`` must stay the same for the same appointment across fetches."""

    uid: str
    summary: str
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    location: str = ""
    description: str = ""
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED
    sequence: int = 0  # raise it when the event changes (the appointment's version)
    updated_at: datetime | None = None  # DTSTAMP and LAST-MODIFIED (default: now)
    url: str = ""


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("iCalendar times must be aware datetimes")
    return moment.astimezone(UTC)


def _vevent(event: Event, now: datetime) -> icalendar.Event:
    if event.status not in STATUSES:
        raise ValueError(f"unknown event status {event.status!r}")
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    stamp = _utc(event.updated_at or now)
    vevent.add("dtstamp", stamp)
    vevent.add("last-modified", stamp)
    vevent.add("dtstart", _utc(event.starts_at))
    vevent.add("dtend", _utc(event.ends_at))
    vevent.add("summary", event.summary)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", event.description)
    if event.url:
        vevent.add("url", event.url)
    vevent.add("status", event.status)
    vevent.add("sequence", max(event.sequence, 0))
    vevent.add("transp", "TRANSPARENT" if event.status == "CANCELLED" else "OPAQUE")
    return vevent


def calendar_ics(
    events: Iterable[Event],
    *,
    name: str = "",
    method: str = "",
    refresh_minutes: int | None = None,
    now: datetime | None = None,
) -> bytes:
    """A VCALENDAR holding ``events``, as the bytes to send (text/calendar, UTF-8).

    ``name`` becomes the calendar's display name; ``method`` is e.g. "PUBLISH" for a one-off
    download; ``refresh_minutes`` suggests how often a subscribed client fetches again."""
    moment = _utc(now or datetime.now(UTC))
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("name", name)
    if refresh_minutes:
        every = timedelta(minutes=refresh_minutes)
        calendar.add("refresh-interval", every, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", f"PT{refresh_minutes}M")
    for event in events:
        calendar.add_component(_vevent(event, moment))
    return bytes(calendar.to_ical())


def event_ics(event: Event, *, name: str = "", now: datetime | None = None) -> bytes:
    """One event as a calendar file to download and open (METHOD:PUBLISH)."""
    return calendar_ics([event], name=name, method="PUBLISH", now=now)
