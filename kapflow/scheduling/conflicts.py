"""Conflict checks for a proposed appointment, named in plain words.

Standard library only (no Django). The caller gathers the facts (existing bookings, opening
and working hours, closures and absences, the dosing gate's blockers, the patient's other
dosing sessions and the protocol's spacing) and ``check`` lists every conflict, not only the
first. Times are aware datetimes; hours are local times of a weekday in the clinic's zone,
so a daylight-saving change moves them with the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MIN_MINUTES = 5
MAX_LENGTH = timedelta(hours=12)
THERAPIST = "therapist"
MEDICAL = "medical"


class Problem(StrEnum):
    BAD_TIMES = "bad_times"
    IN_PAST = "in_past"
    ROOM_BUSY = "room_busy"
    STAFF_BUSY = "staff_busy"
    PATIENT_BUSY = "patient_busy"
    CLOSED = "closed"
    OUTSIDE_HOURS = "outside_hours"
    STAFF_HOURS = "staff_hours"
    ROOM_UNAVAILABLE = "room_unavailable"
    STAFF_UNAVAILABLE = "staff_unavailable"
    ROLE_MISSING = "role_missing"
    GATE = "gate"
    TOO_SOON = "too_soon"
    WEEKLY_MAX = "weekly_max"


@dataclass(frozen=True)
class Attendee:
    user_id: int
    role: str  # THERAPIST, MEDICAL or other
    name: str


@dataclass(frozen=True)
class Booking:
    """An appointment already held (cancelled ones are not passed in)."""

    start: datetime
    end: datetime
    room_id: int | None
    staff_ids: frozenset[int]
    patient_id: int
    is_dosing: bool = False
    kind: str = ""


@dataclass(frozen=True)
class Proposal:
    start: datetime
    end: datetime
    patient_id: int
    room_id: int | None
    staff: tuple[Attendee, ...]
    needs_therapist: bool = False
    needs_medical: bool = False
    is_dosing: bool = False
    room_name: str = ""


@dataclass(frozen=True)
class Facts:
    now: datetime
    zone: ZoneInfo
    bookings: tuple[Booking, ...] = ()
    # weekday (0 = Monday) -> local opening intervals; no entry: closed that day
    clinic_hours: Mapping[int, Sequence[tuple[time, time]]] = field(default_factory=dict)
    # user id -> weekday -> intervals; a user without any entry works the clinic's hours
    staff_hours: Mapping[int, Mapping[int, Sequence[tuple[time, time]]]] = field(default_factory=dict)
    closures: tuple[tuple[datetime, datetime, str], ...] = ()
    room_blocks: Mapping[int, Sequence[tuple[datetime, datetime, str]]] = field(default_factory=dict)
    staff_blocks: Mapping[int, Sequence[tuple[datetime, datetime, str]]] = field(default_factory=dict)
    gate_blockers: tuple[str, ...] = ()
    min_interval: timedelta = timedelta(0)
    max_per_week: int | None = None


@dataclass(frozen=True)
class Conflict:
    problem: Problem
    message: str


def _utc(at: datetime) -> datetime:
    """In UTC: Python subtracts and compares two datetimes of the same zone by their wall clocks,
    which is an hour off across a daylight-saving change; in UTC it measures elapsed time."""
    return at.astimezone(UTC)


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %d %b %H:%M")


def _hhmm(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")


def times_problems(start: datetime, end: datetime, now: datetime) -> list[Conflict]:
    """End before start, too short, too long, or in the past."""
    start, end, now = _utc(start), _utc(end), _utc(now)
    if end <= start:
        return [Conflict(Problem.BAD_TIMES, "The appointment must end after it starts.")]
    found = []
    if end - start < timedelta(minutes=MIN_MINUTES):
        found.append(Conflict(Problem.BAD_TIMES, f"An appointment lasts at least {MIN_MINUTES} minutes."))
    if end - start > MAX_LENGTH:
        found.append(
            Conflict(Problem.BAD_TIMES, "An appointment lasts at most 12 hours; book separate days.")
        )
    if start < now:
        found.append(Conflict(Problem.IN_PAST, "The time has already passed; choose a time from now on."))
    return found


def _within(
    start: datetime, end: datetime, hours: Mapping[int, Sequence[tuple[time, time]]], zone: ZoneInfo
) -> bool:
    """Does [start, end) lie inside one local interval of its day (working hours)?"""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() != (local_end - timedelta(microseconds=1)).date():
        return False
    for opens, closes in hours.get(local_start.weekday(), ()):
        window_start = datetime.combine(local_start.date(), opens, zone)
        window_end = datetime.combine(local_start.date(), closes, zone)
        if window_start <= local_start and local_end <= window_end:
            return True
    return False


def _busy(p: Proposal, facts: Facts) -> list[Conflict]:
    found = []
    zone = facts.zone
    names = {a.user_id: a.name for a in p.staff}
    staff_ids = set(names)
    for b in facts.bookings:
        if not _overlaps(p.start, p.end, b.start, b.end):
            continue
        when = f"{_hhmm(b.start, zone)} to {_hhmm(b.end, zone)}"
        if p.room_id is not None and b.room_id == p.room_id:
            room = p.room_name or "The room"
            found.append(Conflict(Problem.ROOM_BUSY, f"{room} is already booked from {when}."))
        for user_id in sorted(staff_ids & b.staff_ids):
            found.append(
                Conflict(Problem.STAFF_BUSY, f"{names[user_id]} already has an appointment from {when}.")
            )
        if b.patient_id == p.patient_id:
            found.append(
                Conflict(Problem.PATIENT_BUSY, f"The patient already has an appointment from {when}.")
            )
    return found


def _hours(p: Proposal, facts: Facts) -> list[Conflict]:
    zone = facts.zone
    found = []
    for start, end, reason in facts.closures:
        if _overlaps(p.start, p.end, start, end):
            found.append(
                Conflict(Problem.CLOSED, f"The clinic is closed ({reason}) from {_local(start, zone)}.")
            )
    if not found and not _within(p.start, p.end, facts.clinic_hours, zone):
        found.append(
            Conflict(Problem.OUTSIDE_HOURS, "The appointment falls outside the clinic's opening hours.")
        )
    for a in p.staff:
        hours = facts.staff_hours.get(a.user_id)
        if hours and not _within(p.start, p.end, hours, zone):
            found.append(Conflict(Problem.STAFF_HOURS, f"{a.name} does not work at that time."))
        for start, end, reason in facts.staff_blocks.get(a.user_id, ()):
            if _overlaps(p.start, p.end, start, end):
                found.append(Conflict(Problem.STAFF_UNAVAILABLE, f"{a.name} is away ({reason})."))
    if p.room_id is not None:
        for start, end, reason in facts.room_blocks.get(p.room_id, ()):
            if _overlaps(p.start, p.end, start, end):
                room = p.room_name or "The room"
                found.append(Conflict(Problem.ROOM_UNAVAILABLE, f"{room} is not available ({reason})."))
    return found


def _roles(p: Proposal) -> list[Conflict]:
    roles = {a.role for a in p.staff}
    found = []
    if p.needs_medical and MEDICAL not in roles:
        found.append(Conflict(Problem.ROLE_MISSING, "A prescriber or nurse must attend: add one."))
    if p.needs_therapist and THERAPIST not in roles:
        found.append(Conflict(Problem.ROLE_MISSING, "A therapist must attend: add one."))
    return found


def _max_in_week(starts: Iterable[datetime], around: datetime) -> int:
    """The most dosing starts in any 7-day window that contains ``around``."""
    week = timedelta(days=7)
    ordered = sorted(starts)
    best = 0
    for first in ordered:
        if first <= around < first + week:
            best = max(best, sum(1 for s in ordered if first <= s < first + week))
    return best


def _spacing(p: Proposal, facts: Facts) -> list[Conflict]:
    others = [_utc(b.start) for b in facts.bookings if b.is_dosing and b.patient_id == p.patient_id]
    found = []
    zone = facts.zone
    for other in sorted(others):
        if abs(other - p.start) < facts.min_interval:
            hours = int(facts.min_interval.total_seconds() // 3600)
            found.append(
                Conflict(
                    Problem.TOO_SOON,
                    f"Too close to the dosing session on {_local(other, zone)}: the protocol asks for at "
                    f"least {hours} hours between sessions.",
                )
            )
    if facts.max_per_week is not None and _max_in_week([*others, p.start], p.start) > facts.max_per_week:
        found.append(
            Conflict(
                Problem.WEEKLY_MAX,
                f"This would make more than {facts.max_per_week} dosing sessions within 7 days, the "
                "protocol's most.",
            )
        )
    return found


def check(p: Proposal, facts: Facts) -> list[Conflict]:
    """Every conflict of the proposal, in a fixed order (times, clashes, hours, roles, dosing)."""
    p = replace(p, start=_utc(p.start), end=_utc(p.end))
    found = times_problems(p.start, p.end, facts.now)
    if any(c.problem == Problem.BAD_TIMES for c in found):
        return found
    found += _busy(p, facts) + _hours(p, facts) + _roles(p)
    if p.is_dosing:
        found += [Conflict(Problem.GATE, f"Not ready for dosing: {b}") for b in facts.gate_blockers]
        found += _spacing(p, facts)
    return found
