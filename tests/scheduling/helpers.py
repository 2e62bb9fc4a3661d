"""Helpers for the scheduling tests: a working day ahead in the Demo clinic's zone (Denver),
and bookings made through the service."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from kapflow.scheduling import services
from kapflow.scheduling.models import Appointment

DENVER = ZoneInfo("America/Denver")


def weekday_ahead(days: int = 7) -> date:
    day = timezone.localdate(timezone.now(), DENVER) + timedelta(days=days)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), DENVER)


def book(
    world,
    *,
    kind: str = "preparation",
    start: datetime,
    staff=None,
    room=None,
    patient=None,
    course=None,
    member=None,
) -> Appointment:
    request = services.Request(
        patient=patient or world.patient,
        kind=kind,
        starts_at=start,
        room_id=room.pk if room is not None else None,
        staff_ids=tuple(m.user_id for m in (staff if staff is not None else [world.therapist])),
        course=course,
    )
    return services.appointment_book(member=member or world.frontdesk, request=request)
