"""The pure series planner: the steps, their spacing, placing them in free slots, daylight saving,
and agreement with the conflict check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapflow.scheduling import conflicts
from kapflow.scheduling.planner import (
    DOSING,
    INTEGRATION,
    PREPARATION,
    Placed,
    Plan,
    PlanningError,
    Step,
    place,
    steps,
)

DENVER = ZoneInfo("America/Denver")
HOUR = timedelta(hours=1)
LENGTHS = {
    PREPARATION: timedelta(minutes=60),
    DOSING: timedelta(minutes=150),
    INTEGRATION: timedelta(minutes=60),
}


def at(month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    """A local time in Denver, 2026."""
    return datetime(2026, month, day, hour, minute, fold=fold, tzinfo=DENVER)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def plan(**kwargs: object) -> Plan:
    values: dict = {
        "preparation_needed": 2,
        "dosing_sessions": 3,
        "integration_due_days": 3,
        "min_interval": timedelta(hours=72),
        "max_per_week": 2,
        "start": at(6, 8, 8),  # Monday 8 June 2026, 08:00
        "zone": DENVER,
    }
    return Plan(**{**values, **kwargs})


def weekday_slots(day: date) -> list[datetime]:
    """Every 30 minutes from 09:00 to 16:30 local, Monday to Friday."""
    if day.weekday() >= 5:
        return []
    return [datetime.combine(day, time(9 + n // 2, 30 * (n % 2)), DENVER) for n in range(16)]


def around_the_clock(day: date) -> list[datetime]:
    """Every 30 minutes of the local day, however long it is (23 or 25 hours on a change)."""
    start = datetime.combine(day, time(0), DENVER).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), DENVER).astimezone(UTC)
    found = []
    while start < end:
        found.append(start.astimezone(DENVER))
        start += timedelta(minutes=30)
    return found


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


@dataclass
class Clinic:
    """A fake clinic: open 09:00-17:00 local on weekdays (or around the clock), with busy blocks."""

    busy: list[tuple[datetime, datetime]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # kinds never free
    all_hours: bool = False
    calls: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    def in_hours(self, start: datetime, end: datetime) -> bool:
        if self.all_hours:
            return True
        local_start, local_end = start.astimezone(DENVER), end.astimezone(DENVER)
        return (
            local_start.weekday() < 5
            and local_start.date() == local_end.date()
            and local_start.time() >= time(9)
            and local_end.time() <= time(17)
        )

    def free(self, kind: str, start: datetime, end: datetime) -> bool:
        if kind in self.refuse or not self.in_hours(start, end):
            return False
        return not any(
            _utc(start) < _utc(b_end) and _utc(b_start) < _utc(end) for b_start, b_end in self.busy
        )

    def is_free(self, kind: str, start: datetime, end: datetime) -> bool:
        self.calls.append((kind, start, end))
        return self.free(kind, start, end)

    def slots(self, day: date) -> list[datetime]:
        return around_the_clock(day) if self.all_hours else weekday_slots(day)


def run(
    p: Plan, clinic: Clinic | None = None, lengths: dict | None = None, horizon_days: int = 120
) -> list[Placed]:
    clinic = clinic or Clinic()
    return place(p, (lengths or LENGTHS).__getitem__, clinic.is_free, clinic.slots, horizon_days)


def brief(placed: list[Placed]) -> list[tuple[str, int, datetime, bool]]:
    return [(x.kind, x.number, x.start, x.late) for x in placed]


# --- steps -------------------------------------------------------------------------------------------


def test_the_steps_in_order():
    assert [(s.kind, s.number) for s in steps(plan())] == [
        (PREPARATION, 1),
        (PREPARATION, 2),
        (DOSING, 1),
        (INTEGRATION, 1),
        (DOSING, 2),
        (INTEGRATION, 2),
        (DOSING, 3),
        (INTEGRATION, 3),
    ]


def test_the_steps_earliest_times_follow_the_spacing():
    assert steps(plan(start=at(6, 8, 10, 15))) == [
        Step(PREPARATION, 1, at(6, 8, 10, 15)),  # the plan's start
        Step(PREPARATION, 2, at(6, 9)),  # the next day
        Step(DOSING, 1, at(6, 10)),  # the day after the last preparation
        Step(INTEGRATION, 1, at(6, 11), due=date(2026, 6, 13)),  # the day after; due within 3 days
        Step(DOSING, 2, at(6, 13)),  # 72 hours after dosing 1
        Step(INTEGRATION, 2, at(6, 14), due=date(2026, 6, 16)),
        Step(DOSING, 3, at(6, 17)),  # 2 a week: 7 days after dosing 1 (72 hours would be 16 June)
        Step(INTEGRATION, 3, at(6, 18), due=date(2026, 6, 20)),
    ]


def test_without_preparation_the_first_dosing_session_may_start_at_once():
    assert steps(plan(preparation_needed=0, dosing_sessions=1)) == [
        Step(DOSING, 1, at(6, 8, 8)),
        Step(INTEGRATION, 1, at(6, 9), due=date(2026, 6, 11)),
    ]


def test_a_dosing_session_waits_for_the_integration_visit_before_it():
    found = steps(plan(preparation_needed=0, min_interval=timedelta(0), max_per_week=7))
    assert [s.earliest for s in found if s.kind == DOSING] == [at(6, 8, 8), at(6, 9), at(6, 10)]


def test_only_preparation_or_nothing():
    assert [s.earliest for s in steps(plan(dosing_sessions=0, preparation_needed=3))] == [
        at(6, 8, 8),
        at(6, 9),
        at(6, 10),
    ]
    assert steps(plan(dosing_sessions=0, preparation_needed=0)) == []


def test_the_steps_are_in_the_plans_zone_whatever_the_start_is_given_in():
    found = steps(plan(start=utc(6, 8, 14)))
    assert found[0].earliest == at(6, 8, 8)
    assert all(s.earliest.tzinfo is DENVER for s in found)


def test_step_labels():
    assert [s.label for s in steps(plan(preparation_needed=1, dosing_sessions=1))] == [
        "preparation visit 1",
        "dosing session 1",
        "integration visit 1",
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"preparation_needed": -1},
        {"dosing_sessions": -1},
        {"integration_due_days": 0},
        {"min_interval": -timedelta(minutes=1)},
        {"max_per_week": 0},
        {"start": datetime(2026, 6, 8, 8)},  # naive
    ],
    ids=["preparation", "dosing", "due-days", "interval", "weekly", "naive-start"],
)
def test_a_plan_that_makes_no_sense_is_refused(changes):
    with pytest.raises(ValueError):
        plan(**changes)


# --- place ------------------------------------------------------------------------------------------


def test_a_whole_series_in_an_empty_clinic():
    placed = run(plan())
    assert brief(placed) == [
        (PREPARATION, 1, at(6, 8, 9), False),  # Monday
        (PREPARATION, 2, at(6, 9, 9), False),  # Tuesday
        (DOSING, 1, at(6, 10, 9), False),  # Wednesday
        (INTEGRATION, 1, at(6, 11, 9), False),  # Thursday
        (DOSING, 2, at(6, 15, 9), False),  # 72 hours on is Saturday: closed until Monday
        (INTEGRATION, 2, at(6, 16, 9), False),
        (DOSING, 3, at(6, 18, 9), False),  # 72 hours after Monday (and a week after Wednesday's)
        (INTEGRATION, 3, at(6, 19, 9), False),
    ]
    assert [x.end - x.start for x in placed] == [LENGTHS[x.kind] for x in placed]


def test_no_slot_before_the_start_is_asked_about():
    clinic = Clinic()
    placed = run(plan(start=at(6, 8, 10, 10)), clinic)
    assert placed[0].start == at(6, 8, 10, 30)
    assert min(_utc(s) for _kind, s, _end in clinic.calls) == _utc(at(6, 8, 10, 30))


def test_is_free_is_asked_with_the_kind_and_the_slot_in_the_plans_zone():
    clinic = Clinic(busy=[(at(6, 8, 9), at(6, 8, 10))])
    run(plan(preparation_needed=1, dosing_sessions=1), clinic)
    assert clinic.calls[:2] == [
        (PREPARATION, at(6, 8, 9), at(6, 8, 10)),
        (PREPARATION, at(6, 8, 9, 30), at(6, 8, 10, 30)),
    ]
    assert all(s.tzinfo is DENVER and e.tzinfo is DENVER for _k, s, e in clinic.calls)
    assert {k for k, _s, _e in clinic.calls} == {PREPARATION, DOSING, INTEGRATION}


def test_each_step_takes_the_first_free_slot():
    clinic = Clinic(
        busy=[
            (at(6, 8, 9), at(6, 8, 11)),  # Monday morning
            (at(6, 10, 9), at(6, 10, 15)),  # Wednesday until 15:00: 150 minutes no longer fit
        ]
    )
    assert brief(run(plan(dosing_sessions=1), clinic)) == [
        (PREPARATION, 1, at(6, 8, 11), False),
        (PREPARATION, 2, at(6, 9, 9), False),
        (DOSING, 1, at(6, 11, 9), False),
        (INTEGRATION, 1, at(6, 12, 9), False),
    ]


def test_preparation_visits_are_on_different_days_not_24_hours_apart():
    clinic = Clinic(busy=[(at(6, 8, 9), at(6, 8, 16))])
    placed = run(plan(dosing_sessions=0), clinic)
    assert [x.start for x in placed] == [at(6, 8, 16), at(6, 9, 9)]


def test_the_first_dosing_session_is_on_a_later_day_than_the_last_preparation():
    placed = run(plan(preparation_needed=1, dosing_sessions=1))
    assert [x.start for x in placed[:2]] == [at(6, 8, 9), at(6, 9, 9)]  # Monday 10:00-14:30 was free


def test_the_integration_visit_is_the_day_after_at_the_earliest():
    placed = run(plan(preparation_needed=0, dosing_sessions=1))
    assert [x.start for x in placed] == [at(6, 8, 9), at(6, 9, 9)]


def test_an_integration_visit_on_its_last_day_is_on_time():
    clinic = Clinic(busy=[(at(6, 9, 9), at(6, 10, 16))])  # Tuesday and Wednesday until 16:00
    placed = run(plan(preparation_needed=0, dosing_sessions=1, integration_due_days=2), clinic)
    assert brief(placed)[1] == (INTEGRATION, 1, at(6, 10, 16), False)


def test_an_integration_visit_that_cannot_be_on_time_is_placed_after_and_marked_late():
    clinic = Clinic(busy=[(at(6, 9, 9), at(6, 10, 17))])  # Tuesday and Wednesday full
    placed = run(plan(preparation_needed=0, dosing_sessions=2, integration_due_days=2), clinic)
    assert brief(placed) == [
        (DOSING, 1, at(6, 8, 9), False),
        (INTEGRATION, 1, at(6, 11, 9), True),  # Thursday, a day late
        (DOSING, 2, at(6, 11, 10), False),  # after the late integration visit (72 hours are over)
        (INTEGRATION, 2, at(6, 12, 9), False),
    ]


def test_the_minimum_interval_exactly_met_is_enough():
    p = plan(preparation_needed=0, dosing_sessions=2, min_interval=timedelta(hours=48))
    assert [x.start for x in run(p) if x.kind == DOSING] == [at(6, 8, 9), at(6, 10, 9)]


def test_the_minimum_interval_a_minute_short_is_not():
    clinic = Clinic()
    p = plan(preparation_needed=0, dosing_sessions=2, min_interval=timedelta(hours=48, minutes=1))
    assert [x.start for x in run(p, clinic) if x.kind == DOSING] == [at(6, 8, 9), at(6, 10, 9, 30)]
    assert (DOSING, at(6, 10, 9), at(6, 10, 11, 30)) not in clinic.calls


def test_one_a_week_means_exactly_7_days_later_at_the_earliest():
    clinic = Clinic()
    p = plan(preparation_needed=0, dosing_sessions=3, min_interval=timedelta(hours=24), max_per_week=1)
    assert [x.start for x in run(p, clinic) if x.kind == DOSING] == [at(6, 8, 9), at(6, 15, 9), at(6, 22, 9)]
    assert not [c for c in clinic.calls if c[0] == DOSING and at(6, 8, 10) < c[1] < at(6, 15, 9)]


def test_two_a_week_lets_the_third_wait_for_the_first_ones_week():
    p = plan(preparation_needed=0, dosing_sessions=3, min_interval=timedelta(hours=24), max_per_week=2)
    dosing = [x.start for x in run(p) if x.kind == DOSING]
    assert dosing == [at(6, 8, 9), at(6, 9, 10), at(6, 15, 9)]


def test_no_free_slot_within_the_horizon_names_the_step():
    clinic = Clinic(refuse={DOSING})
    with pytest.raises(PlanningError) as raised:
        run(plan(), clinic, horizon_days=30)
    error = raised.value
    assert error.step == Step(DOSING, 1, at(6, 10))
    assert "dosing session 1" in str(error)
    assert str(error) == (
        "No free time for dosing session 1 from Wed 10 Jun 2026 00:00 through Tue 07 Jul 2026; "
        "free a slot or plan it by hand."
    )
    assert brief(error.placed) == [(PREPARATION, 1, at(6, 8, 9), False), (PREPARATION, 2, at(6, 9, 9), False)]
    assert max(_utc(s) for _k, s, _e in clinic.calls) < _utc(at(7, 8))  # the horizon's last day is 7 July


def test_the_horizon_counts_days_from_the_plans_start_day():
    p = plan(preparation_needed=2, dosing_sessions=1)  # Monday, Tuesday, Wednesday, then Thursday
    assert len(run(p, horizon_days=4)) == 4
    with pytest.raises(PlanningError, match="integration visit 1"):
        run(p, horizon_days=3)


def test_a_late_integration_visit_still_needs_the_horizon():
    clinic = Clinic(busy=[(at(6, 9), at(9, 1))])
    with pytest.raises(PlanningError, match="integration visit 1"):
        run(plan(preparation_needed=0, dosing_sessions=1), clinic, horizon_days=60)


def test_slots_are_tried_in_time_order_whatever_order_they_come_in():
    clinic = Clinic(busy=[(at(6, 8, 9), at(6, 8, 10))])
    placed = place(
        plan(preparation_needed=1, dosing_sessions=0),
        LENGTHS.__getitem__,
        clinic.is_free,
        lambda day: reversed(weekday_slots(day)),  # any iterable will do
    )
    assert placed[0].start == at(6, 8, 10)


def test_nothing_to_plan_asks_nothing():
    clinic = Clinic()
    assert run(plan(preparation_needed=0, dosing_sessions=0), clinic) == []
    assert clinic.calls == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p, c: place(p, LENGTHS.__getitem__, c.is_free, c.slots, horizon_days=0), "horizon"),
        (lambda p, c: place(p, lambda kind: timedelta(0), c.is_free, c.slots), "must last"),
        (
            lambda p, c: place(p, LENGTHS.__getitem__, c.is_free, lambda d: [datetime(2026, 6, 8, 9)]),
            "time zone",
        ),
    ],
    ids=["no-horizon", "no-length", "naive-slots"],
)
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call(plan(), Clinic())


# --- daylight saving (America/Denver: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00) -------


def test_spring_the_interval_is_elapsed_time_over_the_weekend_change():
    """Friday 09:00 MST + 72 hours is Monday 10:00 MDT, not 09:00."""
    p = plan(preparation_needed=0, dosing_sessions=2, start=at(3, 6, 8), min_interval=timedelta(hours=72))
    short = {**LENGTHS, INTEGRATION: timedelta(minutes=30)}
    placed = run(p, lengths=short)
    assert brief(placed) == [
        (DOSING, 1, at(3, 6, 9), False),
        (INTEGRATION, 1, at(3, 9, 9), False),  # 09:00 local on Monday, which is 15:00 UTC
        (DOSING, 2, at(3, 9, 10), False),
        (INTEGRATION, 2, at(3, 10, 9), False),
    ]
    assert [_utc(x.start).hour for x in placed] == [16, 15, 16, 15]


@pytest.mark.parametrize(("hours", "second"), [(96, at(11, 2, 9)), (97, at(11, 2, 9)), (98, at(11, 2, 10))])
def test_fall_the_interval_is_elapsed_time_over_the_weekend_change(hours, second):
    """Thursday 09:00 MDT + 97 hours is Monday 09:00 MST (not 10:00); + 98 hours is 10:00."""
    p = plan(
        preparation_needed=0, dosing_sessions=2, start=at(10, 29, 8), min_interval=timedelta(hours=hours)
    )
    placed = run(p)
    assert brief(placed)[:3] == [
        (DOSING, 1, at(10, 29, 9), False),
        (INTEGRATION, 1, at(10, 30, 9), False),  # Friday
        (DOSING, 2, second, False),
    ]
    assert _utc(at(10, 29, 9)) + timedelta(hours=97) == _utc(at(11, 2, 9))


@pytest.mark.parametrize(
    ("start", "second"),
    [
        (at(3, 7, 9), at(3, 8, 10)),  # Saturday 09:00 MST + 24 h = Sunday 10:00 MDT
        (at(10, 31, 9), at(11, 1, 8)),  # Saturday 09:00 MDT + 24 h = Sunday 08:00 MST
    ],
    ids=["spring", "fall"],
)
def test_around_the_clock_across_the_change_itself(start, second):
    p = plan(preparation_needed=0, dosing_sessions=2, start=start, min_interval=timedelta(hours=24))
    short = {**LENGTHS, INTEGRATION: timedelta(minutes=30)}
    placed = run(p, Clinic(all_hours=True), lengths=short)
    assert [x.start for x in placed] == [
        start,
        datetime.combine(second.date(), time(0), DENVER),
        second,
        datetime.combine(second.date() + timedelta(days=1), time(0), DENVER),
    ]
    assert _utc(placed[2].start) - _utc(placed[0].start) == timedelta(hours=24)


def test_one_a_week_across_the_change_is_7_times_24_hours_as_the_conflict_check_counts():
    p = plan(
        preparation_needed=0,
        dosing_sessions=2,
        start=at(3, 2, 8),
        min_interval=timedelta(hours=24),
        max_per_week=1,
    )
    second = [x for x in run(p) if x.kind == DOSING][1]
    assert second.start == at(3, 9, 10)  # Monday 16:00 UTC, as the first was
    facts = conflicts.Facts(
        now=at(1, 1),
        zone=DENVER,
        bookings=(conflicts.Booking(at(3, 2, 9), at(3, 2, 11, 30), None, frozenset(), 1, True),),
        clinic_hours={d: ((time(9), time(17)),) for d in range(5)},
        max_per_week=1,
    )
    nine = conflicts.Proposal(at(3, 9, 9), at(3, 9, 11, 30), 1, None, (), is_dosing=True)
    assert [c.problem for c in conflicts.check(nine, facts)] == [conflicts.Problem.WEEKLY_MAX]
    ten = replace(nine, start=second.start, end=second.end)
    assert conflicts.check(ten, facts) == []


def test_the_repeated_fall_hour_is_walked_in_time_order():
    """Slots given in clock order (01:00 MDT, 01:00 MST, 01:30 MDT, ...) are tried by the instant."""
    clinic = Clinic(all_hours=True, busy=[(utc(11, 1, 6), utc(11, 1, 7, 15))])  # 00:00-01:15 MDT

    def clock_order(day: date) -> list[datetime]:
        return sorted(around_the_clock(day), key=lambda s: s.replace(tzinfo=None))

    p = plan(preparation_needed=1, dosing_sessions=0, start=at(11, 1))
    placed = place(p, LENGTHS.__getitem__, clinic.is_free, clock_order)
    assert _utc(placed[0].start) == utc(11, 1, 7, 30)  # 01:30 summer time, before 01:00 winter time
    assert (placed[0].start.hour, placed[0].start.minute, placed[0].start.fold) == (1, 30, 0)
    assert _utc(placed[0].end) - _utc(placed[0].start) == HOUR

    clinic.busy = [(utc(11, 1, 6), utc(11, 1, 7, 45))]  # until 01:45 MDT: next is 01:00 MST
    placed = place(p, LENGTHS.__getitem__, clinic.is_free, clock_order)
    assert _utc(placed[0].start) == utc(11, 1, 8)
    assert (placed[0].start.hour, placed[0].start.fold) == (1, 1)


# --- properties --------------------------------------------------------------------------------------

WEEK = timedelta(days=7)


def day_of(at: datetime) -> date:
    return at.astimezone(DENVER).date()


def allowed(p: Plan, kind: str, number: int, start: datetime, before: list[Placed]) -> bool:
    """The plan's rules for a step at ``start``, stated again from the brief."""
    if _utc(start) < _utc(p.start):
        return False
    if before and _utc(start) < _utc(before[-1].end):
        return False
    new_day = kind in (PREPARATION, INTEGRATION) or number == 1
    if before and new_day and day_of(start) <= day_of(before[-1].start):
        return False
    if kind == DOSING and number > 1:
        sessions = [_utc(x.start) for x in before if x.kind == DOSING]
        if _utc(start) - sessions[-1] < p.min_interval:
            return False
        if sum(1 for s in sessions if _utc(start) - s < WEEK) + 1 > p.max_per_week:
            return False
    return True


plans = st.builds(
    Plan,
    preparation_needed=st.integers(0, 3),
    dosing_sessions=st.integers(0, 4),
    integration_due_days=st.integers(1, 5),
    min_interval=st.integers(0, 8 * 24).map(lambda h: timedelta(hours=h)),
    max_per_week=st.integers(1, 3),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
    zone=st.just(DENVER),
)
busy_blocks = st.lists(st.tuples(st.integers(0, 40 * 24 * 60), st.integers(30, 3 * 24 * 60)), max_size=12)


@settings(max_examples=80, deadline=None)
@given(plans, busy_blocks, st.booleans(), st.integers(5, 45))
def test_placed_steps_keep_every_rule_and_none_could_be_earlier(p, blocks, all_hours, horizon):
    clinic = Clinic(
        all_hours=all_hours,
        busy=[(p.start + timedelta(minutes=s), p.start + timedelta(minutes=s + n)) for s, n in blocks],
    )
    last_day = day_of(p.start) + timedelta(days=horizon - 1)
    try:
        placed = run(p, clinic, horizon_days=horizon)
        failed = None
    except PlanningError as error:
        placed, failed = error.placed, error.step
        assert failed.label in str(error)
    order = [(s.kind, s.number) for s in steps(p)]
    assert [(x.kind, x.number) for x in placed] == order[: len(placed)]
    for i, x in enumerate(placed):
        assert x.start.tzinfo is DENVER
        assert _utc(x.end) - _utc(x.start) == LENGTHS[x.kind]
        assert clinic.free(x.kind, x.start, x.end)
        assert allowed(p, x.kind, x.number, x.start, placed[:i])
        assert day_of(x.start) <= last_day
        if x.kind == INTEGRATION:
            dosing = placed[i - 1]
            assert x.late == (day_of(x.start) > day_of(dosing.start) + timedelta(days=p.integration_due_days))
        else:
            assert not x.late
        # None of the slots before it would do: each is taken or breaks a rule.
        earlier = [
            s
            for d in range((day_of(x.start) - day_of(p.start)).days + 1)
            for s in clinic.slots(day_of(p.start) + timedelta(days=d))
            if _utc(s) < _utc(x.start)
        ]
        assert not [
            s
            for s in earlier
            if allowed(p, x.kind, x.number, s, placed[:i]) and clinic.free(x.kind, s, s + LENGTHS[x.kind])
        ]
    if failed is not None:
        i = len(placed)
        candidates = [
            s
            for d in range(horizon)
            for s in clinic.slots(day_of(p.start) + timedelta(days=d))
            if allowed(p, failed.kind, failed.number, s, placed[:i])
            and clinic.free(failed.kind, s, s + LENGTHS[failed.kind])
        ]
        assert candidates == []
    # Dosing sessions: never more than the weekly maximum in any 7 days.
    sessions = sorted(_utc(x.start) for x in placed if x.kind == DOSING)
    for first in sessions:
        assert sum(1 for s in sessions if first <= s < first + WEEK) <= p.max_per_week


def conflict_check_as_is_free(
    facts: conflicts.Facts, patient: int
) -> tuple[Callable[[str, datetime, datetime], bool], list[conflicts.Booking]]:
    """The real check as the caller would run it: each approved slot is booked at once."""
    approved: list[conflicts.Booking] = []

    def is_free(kind: str, start: datetime, end: datetime) -> bool:
        proposal = conflicts.Proposal(start, end, patient, None, (), is_dosing=kind == DOSING)
        if conflicts.check(proposal, replace(facts, bookings=facts.bookings + tuple(approved))):
            return False
        approved.append(conflicts.Booking(start, end, None, frozenset(), patient, kind == DOSING))
        return True

    return is_free, approved


@settings(max_examples=60, deadline=None)
@given(
    plans,
    st.lists(
        st.tuples(st.integers(-10 * 24 * 60, 30 * 24 * 60), st.integers(30, 24 * 60), st.booleans()),
        max_size=8,
    ),
)
def test_the_plan_passes_the_conflict_check(p, held):
    """With the real check as is_free (and the patient's other appointments, dosing sessions before
    the plan among them), every placed step passes the check against all the others."""
    existing = tuple(
        conflicts.Booking(
            p.start + timedelta(minutes=s),
            p.start + timedelta(minutes=s + n),
            None,
            frozenset(),
            1,
            is_dosing,
        )
        for s, n, is_dosing in held
    )
    facts = conflicts.Facts(
        now=p.start,
        zone=DENVER,
        bookings=existing,
        clinic_hours={d: ((time(9), time(17)),) for d in range(5)},
        min_interval=p.min_interval,
        max_per_week=p.max_per_week,
    )
    is_free, approved = conflict_check_as_is_free(facts, patient=1)
    try:
        placed = place(p, LENGTHS.__getitem__, is_free, weekday_slots, horizon_days=60)
    except PlanningError as error:
        placed = error.placed
    assert [(b.start, b.end) for b in approved] == [(x.start, x.end) for x in placed]
    for i, x in enumerate(placed):
        others = existing + tuple(b for j, b in enumerate(approved) if j != i)
        proposal = conflicts.Proposal(x.start, x.end, 1, None, (), is_dosing=x.kind == DOSING)
        assert conflicts.check(proposal, replace(facts, bookings=others)) == []


def test_an_earliest_time_in_the_repeated_fall_hour_is_an_instant():
    """24 h 15 min after Saturday 01:00 MDT is Sunday 01:15 MST: 01:30 MDT is too soon, 01:30 MST is not."""
    p = plan(
        preparation_needed=0,
        dosing_sessions=2,
        start=at(10, 31, 1),
        min_interval=timedelta(hours=25, minutes=15),
    )
    short = {**LENGTHS, INTEGRATION: timedelta(minutes=30)}
    clinic = Clinic(all_hours=True)
    placed = run(p, clinic, lengths=short)
    second = placed[2]
    assert (second.kind, second.number) == (DOSING, 2)
    assert _utc(second.start) == utc(11, 1, 8, 30)
    assert (second.start.hour, second.start.minute, second.start.fold) == (1, 30, 1)
    assert not [c for c in clinic.calls if c[0] == DOSING and _utc(c[1]) == utc(11, 1, 7, 30)]


def test_a_step_after_one_that_runs_past_midnight_waits_for_its_end():
    p = plan(preparation_needed=0, dosing_sessions=1, start=at(6, 8, 23))
    placed = run(p, Clinic(all_hours=True))
    assert [(x.start, x.end) for x in placed] == [
        (at(6, 8, 23), at(6, 9, 1, 30)),
        (at(6, 9, 1, 30), at(6, 9, 2, 30)),  # the day after, but not before dosing ends
    ]
    assert steps(p)[1].earliest == at(6, 9)
