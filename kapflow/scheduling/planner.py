"""The series planner: from a course's plan, propose the remaining preparation visits, the dosing
sessions and an integration visit after each, in free slots.

Standard library only (no Django). The caller says how long each kind of appointment lasts, which
slots a local day offers (say every 30 minutes within opening hours) and whether a slot is free
(the real conflict check against what is already booked); the planner walks the steps in order
and takes, for each, the first free slot from the earliest moment the plan's spacing allows:

- preparation visits on different days (the next one the day after the previous one at the
  earliest), and the first dosing session the day after the last preparation visit at the earliest;
- an integration visit after each dosing session: the day after it at the earliest and at the
  latest ``integration_due_days`` days after it (the local date); when no slot is free in that
  window, the first free slot after it, marked ``late``;
- each next dosing session after the previous session's integration visit, at least
  ``min_interval`` after the previous session, and never more than ``max_per_week`` of the plan's
  dosing sessions in any 7-day window (7 x 24 hours, half-open, as the conflict check counts).

"Day" means the local day in the plan's zone, so a daylight-saving change moves nothing that
people read on a clock; intervals (``min_interval``, the 7-day window, lengths) are elapsed time.
The steps follow one another (each starts after the previous one ends), so the planner's own
proposals never overlap; ``is_free`` need only check against what is already booked. The planner
asks ``is_free`` slot by slot and places a step at the first slot it approves, at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PREPARATION = "preparation"
DOSING = "dosing"
INTEGRATION = "integration"
KINDS = (PREPARATION, DOSING, INTEGRATION)
WEEK = timedelta(days=7)
LABELS = {PREPARATION: "preparation visit", DOSING: "dosing session", INTEGRATION: "integration visit"}


def _aware(at: datetime) -> bool:
    return at.tzinfo is not None and at.utcoffset() is not None


def _utc(at: datetime) -> datetime:
    # Two datetimes of the same zone subtract and compare by wall clock; in UTC, by elapsed time.
    return at.astimezone(UTC)


@dataclass(frozen=True)
class Plan:
    preparation_needed: int  # still to do before the first dosing session
    dosing_sessions: int  # still to hold
    integration_due_days: int  # an integration visit within this many days after each dosing session
    min_interval: timedelta  # protocol: between dosing sessions
    max_per_week: int  # protocol
    start: datetime  # not before this (aware)
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.preparation_needed < 0 or self.dosing_sessions < 0:
            raise ValueError("The numbers of visits and sessions cannot be negative.")
        if self.integration_due_days < 1:
            raise ValueError("An integration visit is due at least 1 day after its dosing session.")
        if self.min_interval < timedelta(0):
            raise ValueError("The minimum interval between dosing sessions cannot be negative.")
        if self.max_per_week < 1:
            raise ValueError("The protocol must allow at least 1 dosing session a week.")
        if not _aware(self.start):
            raise ValueError("The plan's start must carry its time zone.")


@dataclass(frozen=True)
class Step:
    kind: str  # "preparation" | "dosing" | "integration"
    number: int  # 1-based within its kind
    earliest: datetime  # the first moment this step may start (from the plan's spacing)
    due: date | None = None  # integration only: the last local day it is on time

    @property
    def label(self) -> str:
        return f"{LABELS[self.kind]} {self.number}"


@dataclass(frozen=True)
class Placed:
    kind: str
    number: int
    start: datetime  # in the plan's zone
    end: datetime
    late: bool = False  # an integration visit after its due day


class PlanningError(Exception):
    """A step found no free slot within the horizon; ``placed`` holds the steps before it."""

    def __init__(self, message: str, *, step: Step, placed: Sequence[Placed]) -> None:
        super().__init__(message)
        self.step = step
        self.placed = list(placed)


def _order(plan: Plan) -> list[tuple[str, int]]:
    order = [(PREPARATION, n) for n in range(1, plan.preparation_needed + 1)]
    for n in range(1, plan.dosing_sessions + 1):
        order += [(DOSING, n), (INTEGRATION, n)]
    return order


def _next_day(item: Placed, zone: ZoneInfo) -> datetime:
    """The start of the local day after the item's day, and not before the item ends."""
    day = item.start.astimezone(zone).date() + timedelta(days=1)
    return max(datetime.combine(day, time(0), zone), item.end, key=_utc).astimezone(zone)


def _earliest(plan: Plan, kind: str, number: int, done: Sequence[Placed]) -> tuple[datetime, date | None]:
    """When the step may start at the earliest, given the steps before it (in order), and the last
    day it is on time (integration visits only)."""
    zone = plan.zone
    if kind == INTEGRATION:
        dosing = done[-1]
        due = dosing.start.astimezone(zone).date() + timedelta(days=plan.integration_due_days)
        return _next_day(dosing, zone), due
    if not done:
        return plan.start.astimezone(zone), None
    if kind == PREPARATION or number == 1:
        return _next_day(done[-1], zone), None
    sessions = [_utc(p.start) for p in done if p.kind == DOSING]
    bounds = [_utc(done[-1].end), sessions[-1] + plan.min_interval]
    if len(sessions) >= plan.max_per_week:
        bounds.append(sessions[-plan.max_per_week] + WEEK)
    return max(bounds).astimezone(zone), None


def steps(plan: Plan) -> list[Step]:
    """The ordered steps with their earliest times, were each held at its earliest (no slots yet)."""
    found: list[Step] = []
    done: list[Placed] = []
    for kind, number in _order(plan):
        earliest, due = _earliest(plan, kind, number, done)
        found.append(Step(kind, number, earliest, due))
        done.append(Placed(kind, number, earliest, earliest))
    return found


def _first_free(
    step: Step,
    duration: timedelta,
    is_free: Callable[[str, datetime, datetime], bool],
    slot_starts: Callable[[date], Iterable[datetime]],
    last_day: date,
    zone: ZoneInfo,
) -> Placed | None:
    floor = _utc(step.earliest)
    day = step.earliest.astimezone(zone).date()
    while day <= last_day:
        starts = list(slot_starts(day))
        if not all(_aware(s) for s in starts):
            raise ValueError(f"The slots of {day:%a %d %b %Y} must carry their time zone.")
        for start in sorted(starts, key=_utc):
            if _utc(start) < floor:
                continue
            local_start = start.astimezone(zone)
            local_end = (_utc(start) + duration).astimezone(zone)
            if is_free(step.kind, local_start, local_end):
                late = step.due is not None and local_start.date() > step.due
                return Placed(step.kind, step.number, local_start, local_end, late)
        day += timedelta(days=1)
    return None


def place(
    plan: Plan,
    length: Callable[[str], timedelta],
    is_free: Callable[[str, datetime, datetime], bool],
    slot_starts: Callable[[date], Iterable[datetime]],
    horizon_days: int = 120,
) -> list[Placed]:
    """Every step placed in the first free slot its spacing allows, in order.

    ``length(kind)`` is how long an appointment of that kind lasts; ``slot_starts(day)`` the
    candidate starts of a local day; ``is_free(kind, start, end)`` whether that slot can be booked.
    Only the local days from the plan's start day through ``horizon_days - 1`` days after it are
    searched; a step with no free slot there raises PlanningError naming it.
    """
    if horizon_days < 1:
        raise ValueError("The planning horizon is at least 1 day.")
    zone = plan.zone
    last_day = plan.start.astimezone(zone).date() + timedelta(days=horizon_days - 1)
    placed: list[Placed] = []
    for kind, number in _order(plan):
        earliest, due = _earliest(plan, kind, number, placed)
        step = Step(kind, number, earliest, due)
        duration = length(kind)
        if duration <= timedelta(0):
            raise ValueError(f"A {LABELS[kind]} must last some time.")
        found = _first_free(step, duration, is_free, slot_starts, last_day, zone)
        if found is None:
            raise PlanningError(
                f"No free time for {step.label} from {earliest:%a %d %b %Y %H:%M} through "
                f"{last_day:%a %d %b %Y}; free a slot or plan it by hand.",
                step=step,
                placed=placed,
            )
        placed.append(found)
    return placed
