"""The pure conflict check: every problem in plain words, its boundaries, daylight saving, and
properties that hold for any times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kapflow.scheduling.conflicts import (
    MEDICAL,
    THERAPIST,
    Attendee,
    Booking,
    Conflict,
    Facts,
    Problem,
    Proposal,
    check,
    times_problems,
)

DENVER = ZoneInfo("America/Denver")
WED = date(2026, 6, 10)  # a Wednesday, summer time all around
NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOURS = {day: ((time(8), time(18)),) for day in range(5)}  # Monday to Friday, 08:00-18:00
ALL_DAY = {day: ((time(0), time(23, 59)),) for day in range(7)}

THEO = Attendee(10, THERAPIST, "Theo Tran")
PRIYA = Attendee(20, MEDICAL, "Priya Patel")
FRANKIE = Attendee(30, "other", "Frankie Fox")
PATIENT, OTHER_PATIENT = 1, 2
ROOM, OTHER_ROOM = 3, 4


def t(hour: int, minute: int = 0, day: date = WED, fold: int = 0) -> datetime:
    """A local time in Denver."""
    return datetime.combine(day, time(hour, minute, fold=fold), DENVER)


def on(month: int, day: int) -> date:
    return date(2026, month, day)


def proposal(start: datetime | None = None, end: datetime | None = None, **kwargs: object) -> Proposal:
    values: dict = {
        "start": start or t(10),
        "end": end or t(11),
        "patient_id": PATIENT,
        "room_id": ROOM,
        "staff": (THEO,),
        "room_name": "Room Cedar",
    }
    return Proposal(**{**values, **kwargs})


def dosing(start: datetime | None = None, end: datetime | None = None, **kwargs: object) -> Proposal:
    return proposal(start or t(10), end or t(12, 30), **{"staff": (THEO, PRIYA), "is_dosing": True, **kwargs})


def facts(**kwargs: object) -> Facts:
    values: dict = {"now": NOW, "zone": DENVER, "clinic_hours": HOURS}
    return Facts(**{**values, **kwargs})


def booking(
    start: datetime,
    end: datetime,
    *,
    room: int | None = None,
    staff: tuple[int, ...] = (),
    patient: int = OTHER_PATIENT,
    is_dosing: bool = False,
) -> Booking:
    return Booking(start, end, room, frozenset(staff), patient, is_dosing)


def session(start: datetime, patient: int = PATIENT) -> Booking:
    """One of the patient's other dosing sessions (in another room, with other staff)."""
    return booking(start, start + timedelta(hours=2, minutes=30), patient=patient, is_dosing=True)


AFTER_END = "The appointment must end after it starts."
TOO_SHORT = "An appointment lasts at least 5 minutes."
TOO_LONG = "An appointment lasts at most 12 hours; book separate days."
PAST = "The time has already passed; choose a time from now on."
OUTSIDE = "The appointment falls outside the clinic's opening hours."
NEEDS_MEDICAL = "A prescriber or nurse must attend: add one."
NEEDS_THERAPIST = "A therapist must attend: add one."
WEEKLY = "This would make more than 2 dosing sessions within 7 days, the protocol's most."


def too_soon(when: str, hours: int) -> str:
    return f"Too close to the dosing session on {when}: the protocol asks for at least {hours} hours between sessions."


E = tuple[Problem, str]
CASES: list = []


def case(name: str, p: Proposal, f: Facts, *expected: E) -> None:
    CASES.append(pytest.param(p, f, list(expected), id=name))


# --- BAD_TIMES and IN_PAST ---------------------------------------------------------------------
BAD = Problem.BAD_TIMES
case("end-equals-start", proposal(t(10), t(10)), facts(), (BAD, AFTER_END))
case("end-before-start", proposal(t(10), t(9)), facts(), (BAD, AFTER_END))
case("end-before-start-in-the-past", proposal(t(10), t(9)), facts(now=t(12)), (BAD, AFTER_END))
case("4-minutes", proposal(t(10), t(10, 4)), facts(), (BAD, TOO_SHORT))
case(
    "a-microsecond-short-of-5-min",
    proposal(t(10), t(10, 5) - timedelta(microseconds=1)),
    facts(),
    (BAD, TOO_SHORT),
)
case("exactly-5-minutes", proposal(t(10), t(10, 5)), facts())
case("exactly-12-hours", proposal(t(6), t(18)), facts(clinic_hours=ALL_DAY))
case("12-hours-and-a-minute", proposal(t(6), t(18, 1)), facts(clinic_hours=ALL_DAY), (BAD, TOO_LONG))
case(
    "bad-times-stops-there",
    dosing(t(10), t(10, 4), staff=(FRANKIE,), needs_medical=True),
    facts(
        clinic_hours={},
        bookings=(booking(t(9), t(11), room=ROOM, staff=(30,), patient=PATIENT, is_dosing=True),),
        gate_blockers=("No eligibility decision.",),
        min_interval=timedelta(hours=48),
        max_per_week=0,
    ),
    (BAD, TOO_SHORT),
)
case(
    "too-short-and-in-the-past",
    proposal(t(10), t(10, 4)),
    facts(now=t(12)),
    (BAD, TOO_SHORT),
    (Problem.IN_PAST, PAST),
)
case("starts-a-minute-ago", proposal(t(10), t(11)), facts(now=t(10, 1)), (Problem.IN_PAST, PAST))
case("starts-now", proposal(t(10), t(11)), facts(now=t(10)))
case(
    "in-the-past-does-not-stop-the-check",
    proposal(t(10), t(11)),
    facts(now=t(12), bookings=(booking(t(10), t(11), room=ROOM),)),
    (Problem.IN_PAST, PAST),
    (Problem.ROOM_BUSY, "Room Cedar is already booked from 10:00 to 11:00."),
)

# --- double bookings (half-open: back to back is no clash) -------------------------------------
ROOM_BUSY, STAFF_BUSY, PATIENT_BUSY = Problem.ROOM_BUSY, Problem.STAFF_BUSY, Problem.PATIENT_BUSY
case(
    "room-busy",
    proposal(),
    facts(bookings=(booking(t(10, 30), t(11, 30), room=ROOM),)),
    (ROOM_BUSY, "Room Cedar is already booked from 10:30 to 11:30."),
)
case(
    "room-busy-without-a-name",
    proposal(room_name=""),
    facts(bookings=(booking(t(9, 30), t(10, 15), room=ROOM),)),
    (ROOM_BUSY, "The room is already booked from 09:30 to 10:15."),
)
case("another-room", proposal(), facts(bookings=(booking(t(10), t(11), room=OTHER_ROOM),)))
case("no-room-on-either-side", proposal(room_id=None), facts(bookings=(booking(t(10), t(11), room=None),)))
case("no-room-proposed", proposal(room_id=None), facts(bookings=(booking(t(10), t(11), room=ROOM),)))
case(
    "back-to-back-before",
    proposal(),
    facts(bookings=(booking(t(9), t(10), room=ROOM, staff=(10,), patient=PATIENT),)),
)
case(
    "back-to-back-after",
    proposal(),
    facts(bookings=(booking(t(11), t(12), room=ROOM, staff=(10,), patient=PATIENT),)),
)
case(
    "one-microsecond-of-overlap",
    proposal(),
    facts(bookings=(booking(t(11) - timedelta(microseconds=1), t(12), room=ROOM),)),
    (ROOM_BUSY, "Room Cedar is already booked from 10:59 to 12:00."),
)
case(
    "booking-inside-the-proposal",
    proposal(t(9), t(12)),
    facts(bookings=(booking(t(10), t(10, 30), room=ROOM),)),
    (ROOM_BUSY, "Room Cedar is already booked from 10:00 to 10:30."),
)
case(
    "proposal-inside-the-booking",
    proposal(),
    facts(bookings=(booking(t(8), t(17), room=ROOM),)),
    (ROOM_BUSY, "Room Cedar is already booked from 08:00 to 17:00."),
)
case(
    "staff-busy",
    proposal(staff=(THEO, PRIYA)),
    facts(bookings=(booking(t(10), t(11), staff=(20, 99)),)),
    (STAFF_BUSY, "Priya Patel already has an appointment from 10:00 to 11:00."),
)
case(
    "two-staff-busy-by-user-id",
    proposal(staff=(PRIYA, THEO)),
    facts(bookings=(booking(t(10), t(11), staff=(20, 10)),)),
    (STAFF_BUSY, "Theo Tran already has an appointment from 10:00 to 11:00."),
    (STAFF_BUSY, "Priya Patel already has an appointment from 10:00 to 11:00."),
)
case("other-staff", proposal(), facts(bookings=(booking(t(10), t(11), staff=(20,)),)))
case(
    "patient-busy",
    proposal(),
    facts(bookings=(booking(t(10, 45), t(11, 45), patient=PATIENT),)),
    (PATIENT_BUSY, "The patient already has an appointment from 10:45 to 11:45."),
)
case("another-patient", proposal(), facts(bookings=(booking(t(10), t(11), patient=OTHER_PATIENT),)))
case(
    "room-staff-and-patient-of-one-booking",
    proposal(),
    facts(bookings=(booking(t(10), t(11), room=ROOM, staff=(10,), patient=PATIENT),)),
    (ROOM_BUSY, "Room Cedar is already booked from 10:00 to 11:00."),
    (STAFF_BUSY, "Theo Tran already has an appointment from 10:00 to 11:00."),
    (PATIENT_BUSY, "The patient already has an appointment from 10:00 to 11:00."),
)
case(
    "two-bookings-in-their-order",
    proposal(t(9), t(12)),
    facts(bookings=(booking(t(11), t(11, 30), room=ROOM), booking(t(9), t(9, 30), room=ROOM))),
    (ROOM_BUSY, "Room Cedar is already booked from 11:00 to 11:30."),
    (ROOM_BUSY, "Room Cedar is already booked from 09:00 to 09:30."),
)

# --- closures and opening hours ------------------------------------------------------------------
CLOSED, OUTSIDE_HOURS = Problem.CLOSED, Problem.OUTSIDE_HOURS
case(
    "closed",
    proposal(),
    facts(closures=((t(0), t(23, 59), "Staff training"),)),
    (CLOSED, "The clinic is closed (Staff training) from Wed 10 Jun 00:00."),
)
case(
    "closed-since-an-earlier-day",
    proposal(),
    facts(closures=((t(12, day=on(6, 8)), t(12, day=on(6, 12)), "Move to the new building"),)),
    (CLOSED, "The clinic is closed (Move to the new building) from Mon 08 Jun 12:00."),
)
case(
    "a-closure-replaces-outside-hours",
    proposal(t(10, day=on(6, 13)), t(11, day=on(6, 13))),
    facts(closures=((t(9, day=on(6, 13)), t(17, day=on(6, 13)), "Open day"),)),
    (CLOSED, "The clinic is closed (Open day) from Sat 13 Jun 09:00."),
)
case(
    "two-closures",
    proposal(t(9), t(12)),
    facts(closures=((t(9), t(10), "Fire drill"), (t(11), t(11, 30), "Inspection"))),
    (CLOSED, "The clinic is closed (Fire drill) from Wed 10 Jun 09:00."),
    (CLOSED, "The clinic is closed (Inspection) from Wed 10 Jun 11:00."),
)
case("closure-ending-as-it-starts", proposal(), facts(closures=((t(8), t(10), "Fire drill"),)))
case("closure-starting-as-it-ends", proposal(), facts(closures=((t(11), t(12), "Fire drill"),)))
case(
    "a-day-without-hours",
    proposal(t(10, day=on(6, 13)), t(11, day=on(6, 13))),
    facts(),
    (OUTSIDE_HOURS, OUTSIDE),
)
case("no-hours-at-all", proposal(), facts(clinic_hours={}), (OUTSIDE_HOURS, OUTSIDE))
case("before-opening", proposal(t(7, 30), t(8, 30)), facts(), (OUTSIDE_HOURS, OUTSIDE))
case("after-closing", proposal(t(17, 30), t(18, 30)), facts(), (OUTSIDE_HOURS, OUTSIDE))
case("from-opening", proposal(t(8), t(9)), facts())
case("until-closing", proposal(t(17), t(18)), facts())
case("a-minute-after-closing", proposal(t(17), t(18, 1)), facts(), (OUTSIDE_HOURS, OUTSIDE))
LUNCH = {2: ((time(9), time(12)), (time(13), time(17)))}
case(
    "over-the-lunch-break",
    proposal(t(11, 30), t(13, 30)),
    facts(clinic_hours=LUNCH),
    (OUTSIDE_HOURS, OUTSIDE),
)
case("in-the-afternoon-interval", proposal(t(13), t(17)), facts(clinic_hours=LUNCH))
case(
    "over-midnight-though-both-days-are-open",
    proposal(t(23), t(0, 30, day=on(6, 11))),
    facts(clinic_hours={2: ((time(0), time(23, 59)),), 3: ((time(0), time(23, 59)),)}),
    (OUTSIDE_HOURS, OUTSIDE),
)

# --- staff working hours and absences, rooms out of use -------------------------------------------
STAFF_HOURS = Problem.STAFF_HOURS
case(
    "staff-does-not-work-then",
    proposal(staff=(THEO, PRIYA)),
    facts(staff_hours={10: {2: ((time(12), time(18)),)}}),
    (STAFF_HOURS, "Theo Tran does not work at that time."),
)
case(
    "staff-works-other-days-only",
    proposal(),
    facts(staff_hours={10: {0: ((time(8), time(18)),)}}),
    (STAFF_HOURS, "Theo Tran does not work at that time."),
)
case("staff-works-then", proposal(), facts(staff_hours={10: {2: ((time(10), time(11)),)}}))
case(
    "staff-hours-split-by-a-break",
    proposal(t(11, 30), t(12, 30)),
    facts(staff_hours={10: {2: ((time(9), time(12)), (time(13), time(17)))}}),
    (STAFF_HOURS, "Theo Tran does not work at that time."),
)
case(
    "without-hours-staff-work-the-clinics-hours",
    proposal(t(7), t(8)),
    facts(),
    (OUTSIDE_HOURS, OUTSIDE),
)
case(
    "staff-hours-beyond-the-clinics-hours",
    proposal(t(18), t(19)),
    facts(staff_hours={10: {2: ((time(7), time(20)),)}}),
    (OUTSIDE_HOURS, OUTSIDE),
)
case(
    "both-outside-hours-and-staff-hours",
    proposal(t(7), t(8)),
    facts(staff_hours={10: {2: ((time(9), time(17)),)}}),
    (OUTSIDE_HOURS, OUTSIDE),
    (STAFF_HOURS, "Theo Tran does not work at that time."),
)
case(
    "staff-away",
    proposal(staff=(THEO, PRIYA)),
    facts(staff_blocks={20: ((t(8, day=on(6, 8)), t(18, day=on(6, 12)), "annual leave"),)}),
    (Problem.STAFF_UNAVAILABLE, "Priya Patel is away (annual leave)."),
)
case("staff-back-as-it-starts", proposal(), facts(staff_blocks={10: ((t(8), t(10), "dentist"),)}))
case("another-user-away", proposal(), facts(staff_blocks={20: ((t(8), t(18), "sick"),)}))
case(
    "room-out-of-use",
    proposal(),
    facts(room_blocks={ROOM: ((t(10, 30), t(12), "deep clean"),)}),
    (Problem.ROOM_UNAVAILABLE, "Room Cedar is not available (deep clean)."),
)
case(
    "room-without-a-name-out-of-use",
    proposal(room_name=""),
    facts(room_blocks={ROOM: ((t(10, 30), t(12), "deep clean"),)}),
    (Problem.ROOM_UNAVAILABLE, "The room is not available (deep clean)."),
)
case("another-room-out-of-use", proposal(), facts(room_blocks={OTHER_ROOM: ((t(8), t(18), "paint"),)}))
case("room-back-as-it-starts", proposal(), facts(room_blocks={ROOM: ((t(9), t(10), "paint"),)}))
case(
    "no-room-proposed-with-blocks",
    proposal(room_id=None),
    facts(room_blocks={ROOM: ((t(8), t(18), "paint"),)}),
)

# --- required roles ---------------------------------------------------------------------------------
ROLE = Problem.ROLE_MISSING
case("medical-missing", proposal(staff=(THEO,), needs_medical=True), facts(), (ROLE, NEEDS_MEDICAL))
case("therapist-missing", proposal(staff=(PRIYA,), needs_therapist=True), facts(), (ROLE, NEEDS_THERAPIST))
case(
    "both-missing-other-staff-do-not-count",
    proposal(staff=(FRANKIE,), needs_medical=True, needs_therapist=True),
    facts(),
    (ROLE, NEEDS_MEDICAL),
    (ROLE, NEEDS_THERAPIST),
)
case(
    "nobody-attends",
    proposal(staff=(), needs_medical=True, needs_therapist=True),
    facts(),
    (ROLE, NEEDS_MEDICAL),
    (ROLE, NEEDS_THERAPIST),
)
case("both-present", proposal(staff=(PRIYA, THEO), needs_medical=True, needs_therapist=True), facts())
case("nobody-needed", proposal(staff=()), facts())

# --- dosing: the gate, spacing and the weekly maximum ---------------------------------------------
GATE, TOO_SOON, WEEKLY_MAX = Problem.GATE, Problem.TOO_SOON, Problem.WEEKLY_MAX
case(
    "gate-blockers",
    dosing(),
    facts(gate_blockers=("No eligibility decision.", "Informed consent is not signed.")),
    (GATE, "Not ready for dosing: No eligibility decision."),
    (GATE, "Not ready for dosing: Informed consent is not signed."),
)
case("gate-ignored-for-other-kinds", proposal(), facts(gate_blockers=("No eligibility decision.",)))
H48 = timedelta(hours=48)
case(
    "interval-exactly-met-before", dosing(), facts(bookings=(session(t(10, day=on(6, 8))),), min_interval=H48)
)
case(
    "interval-exactly-met-after", dosing(), facts(bookings=(session(t(10, day=on(6, 12))),), min_interval=H48)
)
case(
    "a-minute-short-before",
    dosing(),
    facts(bookings=(session(t(10, 1, day=on(6, 8))),), min_interval=H48),
    (TOO_SOON, too_soon("Mon 08 Jun 10:01", 48)),
)
case(
    "a-minute-short-after",
    dosing(),
    facts(bookings=(session(t(9, 59, day=on(6, 12))),), min_interval=H48),
    (TOO_SOON, too_soon("Fri 12 Jun 09:59", 48)),
)
case(
    "too-soon-on-both-sides-in-time-order",
    dosing(),
    facts(bookings=(session(t(9, day=on(6, 11))), session(t(15, day=on(6, 9)))), min_interval=H48),
    (TOO_SOON, too_soon("Tue 09 Jun 15:00", 48)),
    (TOO_SOON, too_soon("Thu 11 Jun 09:00", 48)),
)
case(
    "spacing-counts-only-this-patients-dosing",
    dosing(),
    facts(
        bookings=(
            session(t(9, day=on(6, 11)), patient=OTHER_PATIENT),
            booking(t(9, day=on(6, 11)), t(10, day=on(6, 11)), patient=PATIENT),
        ),
        min_interval=H48,
        max_per_week=1,
    ),
)
case(
    "spacing-ignored-for-other-kinds",
    proposal(),
    facts(bookings=(session(t(9, day=on(6, 11))),), min_interval=H48, max_per_week=0),
)
case("weekly-max-met", dosing(), facts(bookings=(session(t(10, day=on(6, 8))),), max_per_week=2))
case(
    "weekly-max-exceeded",
    dosing(),
    facts(bookings=(session(t(10, day=on(6, 8))), session(t(10, day=on(6, 12)))), max_per_week=2),
    (WEEKLY_MAX, WEEKLY),
)
case(
    "weekly-window-is-half-open-before",
    dosing(),
    facts(bookings=(session(t(10, day=on(6, 3))), session(t(10, day=on(6, 4)))), max_per_week=2),
)
case(
    "weekly-window-a-minute-less-than-7-days-before",
    dosing(),
    facts(bookings=(session(t(10, 1, day=on(6, 3))), session(t(10, day=on(6, 4)))), max_per_week=2),
    (WEEKLY_MAX, WEEKLY),
)
case(
    "weekly-window-is-half-open-after",
    dosing(),
    facts(bookings=(session(t(10, day=on(6, 17))), session(t(10, day=on(6, 16)))), max_per_week=2),
)
case(
    "weekly-window-a-minute-less-than-7-days-after",
    dosing(),
    facts(bookings=(session(t(9, 59, day=on(6, 17))), session(t(10, day=on(6, 16)))), max_per_week=2),
    (WEEKLY_MAX, WEEKLY),
)
case(
    "a-full-window-ending-as-the-new-session-starts",
    dosing(),
    facts(bookings=(session(t(10, day=on(6, 3))), session(t(10, day=on(6, 3)))), max_per_week=1),
)
case(
    "a-crowded-week-that-does-not-contain-the-new-session",
    dosing(),
    facts(bookings=tuple(session(t(10, day=on(5, d))) for d in (25, 26, 27, 28)), max_per_week=2),
)
case(
    "weekly-max-of-one-with-a-session-6-days-before",
    dosing(),
    facts(bookings=(session(t(10, day=on(6, 4))),), max_per_week=1),
    (WEEKLY_MAX, "This would make more than 1 dosing sessions within 7 days, the protocol's most."),
)
case("no-weekly-max", dosing(), facts(bookings=tuple(session(t(10, day=on(6, d))) for d in (8, 9, 11, 12))))


@pytest.mark.parametrize(("p", "f", "expected"), CASES)
def test_check(p, f, expected):
    assert check(p, f) == [Conflict(problem, message) for problem, message in expected]


def test_the_table_covers_every_problem():
    covered = {problem for param in CASES for problem, _message in param.values[2]}
    assert covered == set(Problem)


def test_every_problem_at_once_in_a_fixed_order():
    p = dosing(staff=(THEO, FRANKIE), needs_medical=True, needs_therapist=True)
    f = facts(
        now=t(12),
        bookings=(
            booking(t(9), t(11), room=ROOM, staff=(10,), patient=PATIENT),
            session(t(10, day=on(6, 9))),
            session(t(11, day=on(6, 8))),
        ),
        closures=((t(11), t(11, 15), "Fire drill"),),
        staff_hours={10: {2: ((time(14), time(18)),)}},
        staff_blocks={10: ((t(12), t(13), "dentist"),), 30: ((t(8), t(18), "sick"),)},
        room_blocks={ROOM: ((t(12), t(12, 30), "deep clean"),)},
        gate_blockers=("Informed consent is not signed.",),
        min_interval=H48,
        max_per_week=2,
    )
    assert [c.problem for c in check(p, f)] == [
        Problem.IN_PAST,
        ROOM_BUSY,
        STAFF_BUSY,
        PATIENT_BUSY,
        CLOSED,
        STAFF_HOURS,
        Problem.STAFF_UNAVAILABLE,
        Problem.STAFF_UNAVAILABLE,
        Problem.ROOM_UNAVAILABLE,
        ROLE,
        GATE,
        TOO_SOON,
        TOO_SOON,
        WEEKLY_MAX,
    ]


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (timedelta(0), [AFTER_END]),
        (-timedelta(microseconds=1), [AFTER_END]),
        (timedelta(microseconds=1), [TOO_SHORT]),
        (timedelta(minutes=4, seconds=59), [TOO_SHORT]),
        (timedelta(minutes=5), []),
        (timedelta(hours=12), []),
        (timedelta(hours=12, microseconds=1), [TOO_LONG]),
    ],
)
def test_times_problems_lengths(length, expected):
    start = t(10)
    assert [c.message for c in times_problems(start, start + length, NOW)] == expected


def test_times_problems_in_the_past():
    assert times_problems(t(10), t(11), t(10)) == []
    assert times_problems(t(10), t(11), t(10) + timedelta(microseconds=1)) == [
        Conflict(Problem.IN_PAST, PAST)
    ]


# --- daylight saving (America/Denver: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00) ------

SPRING_MONDAY, SPRING_FRIDAY = on(3, 9), on(3, 6)
FALL_MONDAY, FALL_FRIDAY = on(11, 2), on(10, 30)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "utc_nine"),
    [
        (SPRING_FRIDAY, utc(3, 6, 16)),  # MST, UTC-7
        (SPRING_MONDAY, utc(3, 9, 15)),  # MDT, UTC-6
        (FALL_FRIDAY, utc(10, 30, 15)),  # MDT
        (FALL_MONDAY, utc(11, 2, 16)),  # MST
    ],
)
def test_opening_hours_follow_the_local_clock(day, utc_nine):
    assert t(9, day=day).astimezone(UTC) == utc_nine
    for start in (t(9, day=day), utc_nine):  # the same instant, in either zone
        assert check(proposal(start, start + timedelta(hours=1)), facts()) == []
    opening = utc_nine - timedelta(hours=1)  # 08:00 local
    assert check(proposal(opening, opening + timedelta(hours=1)), facts()) == []
    early = utc_nine - timedelta(minutes=90)  # 07:30 local
    assert [c.problem for c in check(proposal(early, early + timedelta(hours=1)), facts())] == [OUTSIDE_HOURS]
    late = utc_nine + timedelta(hours=8, minutes=30)  # 17:30 local, until 18:30
    assert [c.problem for c in check(proposal(late, late + timedelta(hours=1)), facts())] == [OUTSIDE_HOURS]


def test_spring_monday_nine_local_is_fifteen_utc_not_sixteen():
    assert t(9, day=SPRING_MONDAY).astimezone(UTC).hour == 15
    start = utc(3, 9, 13, 30)  # 07:30 MDT (it would be 06:30 in winter time)
    assert check(proposal(start, start + timedelta(hours=1)), facts())[0].problem == OUTSIDE_HOURS


@pytest.mark.parametrize(
    ("day", "utc_start"), [(SPRING_FRIDAY, utc(3, 6, 16)), (SPRING_MONDAY, utc(3, 9, 15))]
)
def test_messages_show_local_times_on_both_sides_of_the_change(day, utc_start):
    label = day.strftime("%a %d %b")
    f = facts(
        bookings=(
            booking(utc_start, utc_start + timedelta(hours=1), room=ROOM, staff=(10,), patient=PATIENT),
        ),
        closures=((utc_start, utc_start + timedelta(minutes=30), "Fire drill"),),
    )
    start = t(9, day=day)
    assert [c.message for c in check(proposal(start, start + timedelta(hours=1)), f)] == [
        "Room Cedar is already booked from 09:00 to 10:00.",
        "Theo Tran already has an appointment from 09:00 to 10:00.",
        "The patient already has an appointment from 09:00 to 10:00.",
        f"The clinic is closed (Fire drill) from {label} 09:00.",
    ]


@pytest.mark.parametrize(
    ("day", "utc_start"), [(FALL_FRIDAY, utc(10, 30, 15)), (FALL_MONDAY, utc(11, 2, 16))]
)
def test_messages_show_local_times_on_both_sides_of_the_fall_change(day, utc_start):
    f = facts(bookings=(booking(utc_start, utc_start + timedelta(minutes=45), room=ROOM),))
    start = t(9, day=day)
    assert [c.message for c in check(proposal(start, start + timedelta(hours=1)), f)] == [
        "Room Cedar is already booked from 09:00 to 09:45."
    ]


def test_spacing_across_the_spring_change_is_elapsed_time():
    """Friday 09:00 MST to Monday 09:00 MDT is 71 hours, not 72."""
    before = session(utc(3, 6, 16))  # Fri 06 Mar 09:00 MST
    f = facts(bookings=(before,), min_interval=timedelta(hours=72))
    monday_nine = t(9, day=SPRING_MONDAY)
    assert check(dosing(monday_nine, monday_nine + timedelta(hours=2)), f) == [
        Conflict(TOO_SOON, too_soon("Fri 06 Mar 09:00", 72))
    ]
    monday_ten = t(10, day=SPRING_MONDAY)
    assert check(dosing(monday_ten, monday_ten + timedelta(hours=2)), f) == []


def test_spacing_across_the_fall_change_is_elapsed_time():
    """Friday 09:00 MDT to Monday 08:00 MST is 72 hours."""
    f = facts(bookings=(session(t(9, day=FALL_FRIDAY)),), min_interval=timedelta(hours=72))
    eight, seven_59 = t(8, day=FALL_MONDAY), t(7, 59, day=FALL_MONDAY)
    assert check(dosing(eight, eight + timedelta(hours=2)), f) == []
    assert [c.message for c in check(dosing(seven_59, seven_59 + timedelta(hours=2)), f)] == [
        OUTSIDE,
        too_soon("Fri 30 Oct 09:00", 72),
    ]


SAT_23 = t(23, day=on(3, 7))
SUN_0330 = t(3, 30, day=on(3, 8))


def test_saturday_23_to_sunday_0330_across_the_change_lasts_three_and_a_half_hours():
    assert SUN_0330.astimezone(UTC) - SAT_23.astimezone(UTC) == timedelta(hours=3, minutes=30)
    around_the_clock = facts(clinic_hours=ALL_DAY)
    # Spacing measured in elapsed time, though both times are given in the clinic's zone.
    spaced = replace(around_the_clock, bookings=(session(SAT_23),))
    later = dosing(SUN_0330, SUN_0330 + timedelta(hours=2))
    assert check(later, replace(spaced, min_interval=timedelta(hours=3, minutes=30))) == []
    assert check(later, replace(spaced, min_interval=timedelta(hours=4))) == [
        Conflict(TOO_SOON, too_soon("Sat 07 Mar 23:00", 4))
    ]
    # The booking's message shows both local times, either side of the change.
    held = replace(around_the_clock, bookings=(booking(SAT_23, SUN_0330, patient=PATIENT),))
    inside = t(1, day=on(3, 8))
    assert check(proposal(inside, inside + timedelta(minutes=30)), held) == [
        Conflict(PATIENT_BUSY, "The patient already has an appointment from 23:00 to 03:30.")
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Spring: 20:00 to 09:00 reads 13 hours on the clock but lasts 12.
        (t(20, day=on(3, 7)), t(9, day=on(3, 8)), []),
        (t(19, 59, day=on(3, 7)), t(9, day=on(3, 8)), [TOO_LONG]),
        # Fall: 22:00 to 09:00 reads 11 hours on the clock but lasts 12.
        (t(22, day=on(10, 31)), t(9, day=on(11, 1)), []),
        (t(21, 59, day=on(10, 31)), t(9, day=on(11, 1)), [TOO_LONG]),
        # Spring: 01:58 to 03:03 reads 65 minutes but lasts 5; 01:58 to 03:02 lasts 4.
        (t(1, 58, day=on(3, 8)), t(3, 3, day=on(3, 8)), []),
        (t(1, 58, day=on(3, 8)), t(3, 2, day=on(3, 8)), [TOO_SHORT]),
        # Fall: 01:58 summer time to 01:03 winter time lasts 5 minutes, though the clock went back.
        (t(1, 58, day=on(11, 1)), t(1, 3, day=on(11, 1), fold=1), []),
        (t(1, 58, day=on(11, 1)), t(1, 2, day=on(11, 1), fold=1), [TOO_SHORT]),
        (t(1, 30, day=on(11, 1), fold=1), t(1, 40, day=on(11, 1)), [AFTER_END]),
    ],
)
def test_lengths_across_the_change_are_elapsed_time(start, end, expected):
    assert [c.message for c in times_problems(start, end, NOW)] == expected
    if expected:  # and check stops there
        assert [c.message for c in check(proposal(start, end), facts(clinic_hours={}))] == expected


def test_the_repeated_fall_hour_is_told_apart():
    """01:00-01:45 summer time and 01:15-01:45 winter time are an hour apart, not overlapping."""
    held = facts(
        clinic_hours=ALL_DAY, bookings=(booking(t(1, day=on(11, 1)), t(1, 45, day=on(11, 1)), room=ROOM),)
    )
    winter = proposal(t(1, 15, day=on(11, 1), fold=1), t(1, 45, day=on(11, 1), fold=1))
    summer = proposal(t(1, 15, day=on(11, 1)), t(1, 45, day=on(11, 1)))
    assert check(winter, held) == []
    assert check(summer, held) == [Conflict(ROOM_BUSY, "Room Cedar is already booked from 01:00 to 01:45.")]


# --- properties ----------------------------------------------------------------------------------

ZONES = [
    ZoneInfo(name)
    for name in ("America/Denver", "UTC", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu")
]
BASE = datetime(2026, 1, 1, tzinfo=UTC)
minutes = st.integers(0, 365 * 24 * 60)
zones = st.sampled_from(ZONES)
times_of_day = st.times().map(lambda x: x.replace(second=0, microsecond=0))


@st.composite
def intervals(draw):
    a, b = sorted((draw(times_of_day), draw(times_of_day)))
    assume(a < b)
    return (a, b)


hours_maps = st.dictionaries(st.integers(0, 6), st.lists(intervals(), max_size=3).map(tuple), max_size=7)


def instant(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


@st.composite
def some_time(draw):
    """An instant in 2026, given in UTC or in one of the zones."""
    return instant(draw(minutes)).astimezone(draw(zones))


attendees = st.sampled_from([THEO, PRIYA, FRANKIE, Attendee(40, "medical", "Nico Ng")])
bookings = st.builds(
    Booking,
    start=some_time(),
    end=some_time(),
    room_id=st.sampled_from([None, ROOM, OTHER_ROOM]),
    staff_ids=st.frozensets(st.sampled_from([10, 20, 30, 40, 50])),
    patient_id=st.sampled_from([PATIENT, OTHER_PATIENT]),
    is_dosing=st.booleans(),
)
blocks = st.lists(
    st.tuples(some_time(), some_time(), st.sampled_from(["leave", "training"])), max_size=3
).map(tuple)
any_facts = st.builds(
    Facts,
    now=some_time(),
    zone=zones,
    bookings=st.lists(bookings, max_size=6).map(tuple),
    clinic_hours=hours_maps,
    staff_hours=st.dictionaries(st.sampled_from([10, 20, 30, 40]), hours_maps, max_size=3),
    closures=blocks,
    room_blocks=st.dictionaries(st.sampled_from([ROOM, OTHER_ROOM]), blocks, max_size=2),
    staff_blocks=st.dictionaries(st.sampled_from([10, 20, 30, 40]), blocks, max_size=2),
    gate_blockers=st.lists(
        st.sampled_from(["No eligibility decision.", "Consent withdrawn."]), max_size=2
    ).map(tuple),
    min_interval=st.integers(0, 14 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    max_per_week=st.one_of(st.none(), st.integers(0, 5)),
)
any_proposal = st.builds(
    Proposal,
    start=some_time(),
    end=some_time(),
    patient_id=st.sampled_from([PATIENT, OTHER_PATIENT]),
    room_id=st.sampled_from([None, ROOM, OTHER_ROOM]),
    staff=st.lists(attendees, max_size=3, unique=True).map(tuple),
    needs_therapist=st.booleans(),
    needs_medical=st.booleans(),
    is_dosing=st.booleans(),
    room_name=st.sampled_from(["", "Room Cedar"]),
)


@given(any_proposal, any_facts)
def test_check_never_raises_and_speaks_plainly(p, f):
    found = check(p, f)
    assert all(isinstance(c.problem, Problem) and c.message.strip() for c in found)
    if p.end.astimezone(UTC) <= p.start.astimezone(UTC):
        assert found == [Conflict(BAD, AFTER_END)]
    if any(c.problem == BAD for c in found):
        assert {c.problem for c in found} <= {BAD, Problem.IN_PAST}
    if not p.is_dosing:
        assert not {c.problem for c in found} & {GATE, TOO_SOON, WEEKLY_MAX}


def to_zone(at: datetime, zone: tzinfo) -> datetime:
    return at.astimezone(zone)


@given(any_proposal, any_facts, zones)
def test_the_zone_times_are_given_in_does_not_matter(p, f, zone):
    """The same instants, given in another zone (or the clinic's own), give the same conflicts."""
    moved = replace(
        f,
        now=to_zone(f.now, zone),
        bookings=tuple(
            replace(b, start=to_zone(b.start, zone), end=to_zone(b.end, zone)) for b in f.bookings
        ),
        closures=tuple((to_zone(a, zone), to_zone(b, zone), r) for a, b, r in f.closures),
        room_blocks={
            k: tuple((to_zone(a, zone), to_zone(b, zone), r) for a, b, r in v)
            for k, v in f.room_blocks.items()
        },
        staff_blocks={
            k: tuple((to_zone(a, zone), to_zone(b, zone), r) for a, b, r in v)
            for k, v in f.staff_blocks.items()
        },
    )
    for same in (zone, f.zone, UTC):
        assert check(replace(p, start=to_zone(p.start, same), end=to_zone(p.end, same)), moved) == check(p, f)


@st.composite
def valid_pair(draw):
    start = draw(minutes)
    return instant(start).astimezone(draw(zones)), instant(start + draw(st.integers(5, 12 * 60))).astimezone(
        draw(zones)
    )


@given(valid_pair(), valid_pair(), st.sampled_from([None, ROOM]), st.sampled_from([None, ROOM]))
def test_clashes_are_symmetric(a, b, room_a, room_b):
    staff_a, staff_b = (THEO, PRIYA), (PRIYA, FRANKIE)
    around_the_clock = Facts(now=BASE - timedelta(days=1), zone=DENVER, clinic_hours={})

    def problems(p_times, p_room, p_staff, b_times, b_room, b_staff):
        held = Booking(b_times[0], b_times[1], b_room, frozenset(s.user_id for s in b_staff), PATIENT)
        p = Proposal(p_times[0], p_times[1], PATIENT, p_room, p_staff)
        return {c.problem for c in check(p, replace(around_the_clock, bookings=(held,)))} & {
            ROOM_BUSY,
            STAFF_BUSY,
            PATIENT_BUSY,
        }

    assert problems(a, room_a, staff_a, b, room_b, staff_b) == problems(
        b, room_b, staff_b, a, room_a, staff_a
    )


@given(
    st.integers(0, 24 * 60),
    st.integers(5, 600),
    st.lists(
        st.tuples(
            st.integers(-24 * 60, 3 * 24 * 60),
            st.integers(1, 600),
            st.sampled_from([None, ROOM, OTHER_ROOM]),
            st.frozensets(st.sampled_from([10, 20, 30])),
            st.sampled_from([PATIENT, OTHER_PATIENT]),
        ),
        max_size=8,
    ),
)
def test_clashes_agree_with_integer_arithmetic(start, length, held):
    """Counted with whole minutes: [s, e) and [s2, e2) clash when s < e2 and s2 < e."""
    p = Proposal(instant(start), instant(start + length), PATIENT, ROOM, (THEO, PRIYA))
    f = Facts(
        now=BASE - timedelta(days=2),
        zone=DENVER,
        bookings=tuple(Booking(instant(s), instant(s + n), r, staff, pt) for s, n, r, staff, pt in held),
    )
    found = [c.problem for c in check(p, f)]
    clashing = [h for h in held if start < h[0] + h[1] and h[0] < start + length]
    assert found.count(ROOM_BUSY) == sum(1 for h in clashing if h[2] == ROOM)
    assert found.count(STAFF_BUSY) == sum(len(h[3] & {10, 20}) for h in clashing)
    assert found.count(PATIENT_BUSY) == sum(1 for h in clashing if h[4] == PATIENT)


@given(
    st.integers(0, 14 * 24 * 60),
    st.lists(st.integers(0, 28 * 24 * 60), max_size=7),
    st.integers(0, 96 * 60),
    st.integers(1, 4),
)
def test_spacing_and_weekly_maximum_agree_with_a_restatement(new, others, interval, most):
    """Too soon: each other session less than the interval away. Over the weekly maximum: some
    ``most + 1`` consecutive sessions (the new one among them) span less than 7 days."""
    week = 7 * 24 * 60
    p = Proposal(instant(new), instant(new + 150), PATIENT, None, (), is_dosing=True)
    f = Facts(
        now=BASE - timedelta(days=1),
        zone=DENVER,
        clinic_hours=ALL_DAY,
        bookings=tuple(Booking(instant(o), instant(o + 1), None, frozenset(), PATIENT, True) for o in others),
        min_interval=timedelta(minutes=interval),
        max_per_week=most,
    )
    found = [c.problem for c in check(p, f) if c.problem in (TOO_SOON, WEEKLY_MAX)]
    every = sorted([*others, new])
    over = any(
        every[i + most] - every[i] < week and every[i] <= new <= every[i + most]
        for i in range(len(every) - most)
    )
    assert found.count(TOO_SOON) == sum(1 for o in others if abs(o - new) < interval)
    assert (WEEKLY_MAX in found) == over


@given(
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    st.integers(8 * 60, 17 * 60),
    st.integers(5, 60),
    st.lists(st.tuples(st.integers(-3 * 24 * 60, 3 * 24 * 60), st.integers(1, 300)), max_size=8),
    st.booleans(),
)
def test_a_proposal_in_hours_overlapping_nothing_has_no_conflicts(day, minute, length, held, local):
    assume(day.weekday() < 5 and minute + length <= 18 * 60)
    start = datetime.combine(day, time(0), DENVER) + timedelta(minutes=minute)  # wall clock, in hours
    start = start.astimezone(UTC)
    end = start + timedelta(minutes=length)
    others = []
    for offset, n in held:
        s = start + timedelta(minutes=offset)
        if not (s < end and start < s + timedelta(minutes=n)):
            others.append(booking(s, s + timedelta(minutes=n), room=ROOM, staff=(10, 20), patient=PATIENT))
    if local:
        start, end = start.astimezone(DENVER), end.astimezone(DENVER)
    p = proposal(start, end, staff=(THEO, PRIYA), needs_medical=True, needs_therapist=True)
    assert check(p, facts(now=start, bookings=tuple(others), staff_hours={10: HOURS})) == []
