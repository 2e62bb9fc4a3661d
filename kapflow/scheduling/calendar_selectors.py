"""Reading the clinic's calendars: a day by room or by staff, a week, today's board, and a
staff member's calendar feed.

Calendars show the patient's name, the kind of appointment (and the route of a dosing
session), the room, who attends and the status; nothing clinical. The board's status of a
dosing appointment comes from its session: checked in, in session, in observation (the latest
MOAA/S score is 5, fully responsive) or discharged. A staff feed says no more than the
patient's initials. Every read is written to the access log (without a patient: one entry for
the whole calendar).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic, Room
from kapflow.core import audit
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.roles import CLINICAL_ROLES
from kapflow.dosing.models import Reading, ReadingKind, SessionStatus
from kapflow.scheduling import ics
from kapflow.scheduling.conflicts import MAX_LENGTH
from kapflow.scheduling.facts import clinic_hours
from kapflow.scheduling.models import Appointment, CalendarFeed, Kind, Status

ROW_MINUTES = 15
DAY_MINUTES = 24 * 60
FULLY_RESPONSIVE = 5  # MOAA/S 5: responds readily to name spoken in a normal tone
FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=90)
FEED_LIMIT = 2000  # events in one feed, at most
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


class By(StrEnum):
    ROOM = "room"
    STAFF = "staff"


class BoardStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    IN_SESSION = "in_session"
    IN_OBSERVATION = "in_observation"
    DISCHARGED = "discharged"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


def status_label(status: BoardStatus) -> str:
    return {
        BoardStatus.BOOKED: _("Booked"),
        BoardStatus.CHECKED_IN: _("Checked in"),
        BoardStatus.IN_SESSION: _("In session"),
        BoardStatus.IN_OBSERVATION: _("In observation"),
        BoardStatus.DISCHARGED: _("Discharged"),
        BoardStatus.NO_SHOW: _("No-show"),
        BoardStatus.CANCELLED: _("Cancelled"),
        BoardStatus.COMPLETED: _("Completed"),
    }[status]


def board_status(
    *,
    status: str,
    session_status: str | None = None,
    dosed: bool = False,
    latest_moaas: int | None = None,
) -> BoardStatus:
    """Where the appointment stands. A dosing session, once open, says more than the
    appointment: dosed and fully responsive (latest MOAA/S 5) is observation, else in session."""
    if status == Status.CANCELLED:
        return BoardStatus.CANCELLED
    if status == Status.NO_SHOW:
        return BoardStatus.NO_SHOW
    if session_status == SessionStatus.DISCHARGED:
        return BoardStatus.DISCHARGED
    if session_status == SessionStatus.CANCELLED:
        return BoardStatus.CANCELLED
    if session_status in (SessionStatus.CHECKED_IN, SessionStatus.IN_SESSION):
        if not dosed:
            return BoardStatus.CHECKED_IN
        return BoardStatus.IN_OBSERVATION if latest_moaas == FULLY_RESPONSIVE else BoardStatus.IN_SESSION
    if status == Status.CHECKED_IN:
        return BoardStatus.CHECKED_IN
    if status == Status.COMPLETED:
        return BoardStatus.COMPLETED
    return BoardStatus.BOOKED


# --- Parsing the query string ----------------------------------------------------------------
def parse_day(value: str | None) -> date:
    """``?date=YYYY-MM-DD`` (default: today in the clinic's time zone); anything else is a 400."""
    if value is None or value == "":
        return timezone.localdate()
    if not _ISO_DAY.fullmatch(value):
        raise ApplicationError(_("Give the date as YYYY-MM-DD, for example 2026-12-04."))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ApplicationError(_("%(value)s is not a date.") % {"value": value}) from None
    if not EARLIEST <= day <= LATEST:
        raise ApplicationError(_("Choose a date between 2000 and 2999."))
    return day


def parse_by(value: str | None) -> By:
    if value is None or value == "":
        return By.ROOM
    try:
        return By(value)
    except ValueError:
        raise ApplicationError(_("Show the calendar by room or by staff.")) from None


def local_bounds(day: date, zone: ZoneInfo, days: int = 1) -> tuple[datetime, datetime]:
    """The instants the local day (or ``days`` days) begins and ends, a DST change included."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=days), time.min, tzinfo=zone)
    return start, end


# --- Entries ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One appointment as a calendar shows it (in the clinic's local time)."""

    public_id: uuid.UUID
    starts: datetime
    ends: datetime
    patient_name: str
    patient_id: uuid.UUID
    kind: str
    kind_label: str
    route: str
    room_id: int | None
    room_name: str
    place: str  # the room and its location, for a calendar program
    attendee_ids: tuple[int, ...]
    attendees: tuple[str, ...]
    appointment_status: str
    status: BoardStatus
    status_label: str
    session_id: uuid.UUID | None
    version: int = 1
    updated_at: datetime | None = None
    patient_initials: str = ""

    @property
    def cancelled(self) -> bool:
        return self.appointment_status == Status.CANCELLED

    @property
    def is_dosing(self) -> bool:
        return self.kind == Kind.DOSING

    @property
    def kind_text(self) -> str:
        return f"{self.kind_label} ({self.route})" if self.is_dosing and self.route else self.kind_label


def initials(given: str, family: str) -> str:
    """The first letters of the first given name and of the family name: Jordan Rivera is "J.R."."""
    letters = [part.strip()[:1].upper() for part in (given.split()[:1] or [""]) + [family] if part.strip()]
    return "".join(f"{letter}." for letter in letters) or "?"


def _appointments(
    clinic: Clinic, start: datetime, end: datetime, *, user_id: int | None = None
) -> list[Appointment]:
    rows = Appointment.objects.filter(
        clinic=clinic,
        voided_at__isnull=True,
        # No appointment is longer than MAX_LENGTH (booking refuses it): this lower bound lets the
        # (clinic, starts_at) index read the window alone, not every earlier appointment.
        starts_at__gt=start - MAX_LENGTH,
        starts_at__lt=end,
        ends_at__gt=start,
    )
    if user_id is not None:
        rows = rows.filter(staff__user_id=user_id)
    return list(
        rows.select_related("patient", "room", "room__location", "dosing_session")
        .prefetch_related("staff__user")
        .order_by("starts_at", "id")
        .distinct()[:FEED_LIMIT]
    )


def _latest_moaas(session_ids: Iterable[int]) -> dict[int, int | None]:
    latest: dict[int, int | None] = {}
    readings = Reading.objects.filter(
        session_id__in=list(session_ids), kind=ReadingKind.MOAAS, voided_at__isnull=True
    ).order_by("taken_at", "id")
    for session_id, score in readings.values_list("session_id", "moaas"):
        latest[session_id] = score
    return latest


def _entries(appointments: Sequence[Appointment]) -> list[Entry]:
    sessions = [
        a.dosing_session
        for a in appointments
        if a.dosing_session is not None and not a.dosing_session.is_voided
    ]
    moaas = _latest_moaas(s.pk for s in sessions if s.first_administered_at is not None)
    kinds = dict(Kind.choices)
    found = []
    for a in appointments:
        session = (
            a.dosing_session if a.dosing_session is not None and not a.dosing_session.is_voided else None
        )
        status = board_status(
            status=a.status,
            session_status=session.status if session else None,
            dosed=bool(session and session.first_administered_at),
            latest_moaas=moaas.get(session.pk) if session else None,
        )
        staff = sorted(a.staff.all(), key=lambda s: (s.user.full_name or s.user.email).lower())
        patient = a.patient
        found.append(
            Entry(
                public_id=a.public_id,
                starts=timezone.localtime(a.starts_at),
                ends=timezone.localtime(a.ends_at),
                patient_name=patient.display_name,
                patient_id=patient.public_id,
                kind=a.kind,
                kind_label=str(kinds.get(a.kind, a.kind)),
                route=a.route,
                room_id=a.room_id,
                room_name=a.room.name if a.room else "",
                place=f"{a.room.name}, {a.room.location.name}" if a.room else "",
                attendee_ids=tuple(s.user_id for s in staff),
                attendees=tuple(s.user.full_name or s.user.email for s in staff),
                appointment_status=a.status,
                status=status,
                status_label=(
                    _("Session cancelled")
                    if session and session.status == SessionStatus.CANCELLED and a.status != Status.CANCELLED
                    else status_label(status)
                ),
                session_id=session.public_id if session else None,
                version=a.version,
                updated_at=a.updated_at,
                patient_initials=initials(
                    patient.preferred_name or patient.legal_given_name, patient.legal_family_name
                ),
            )
        )
    return found


def _log(member: Membership, detail: str) -> None:
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=None,
        action=AuditAction.VIEW,
        category=DataCategory.SCHEDULE,
        detail=detail,
    )


# --- Columns (rooms or staff) ----------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    label: str


NO_COLUMN = "none"


def _columns(clinic: Clinic, by: By, entries: Sequence[Entry]) -> list[Column]:
    """Rooms in use (and any other room booked that day), or the clinicians (and anyone else
    attending); a column for appointments without a room or without staff when there are any."""
    if by == By.ROOM:
        used = {e.room_id for e in entries if e.room_id is not None}
        rooms = Room.objects.filter(Q(is_active=True) | Q(pk__in=used), clinic=clinic).select_related(
            "location"
        )
        names = [r.name for r in rooms]
        columns = [Column(f"room-{r.pk}", str(r) if names.count(r.name) > 1 else r.name) for r in rooms]
        if any(e.room_id is None for e in entries):
            columns.append(Column(NO_COLUMN, _("No room")))
        return columns
    attending = {user_id for e in entries for user_id in e.attendee_ids}
    members = Membership.objects.filter(
        clinic=clinic, is_active=True, role__in=[r.value for r in CLINICAL_ROLES]
    )
    user_ids = set(members.values_list("user_id", flat=True)) | attending
    people = User.objects.filter(pk__in=user_ids).order_by("full_name", "email")
    columns = [Column(f"user-{u.pk}", u.full_name or u.email) for u in people]
    if any(not e.attendee_ids for e in entries):
        columns.append(Column(NO_COLUMN, _("No attendee")))
    return columns


def _column_keys(entry: Entry, by: By) -> list[str]:
    if by == By.ROOM:
        return [f"room-{entry.room_id}" if entry.room_id is not None else NO_COLUMN]
    return [f"user-{u}" for u in entry.attendee_ids] or [NO_COLUMN]


def _visible(entries: list[Entry], show_cancelled: bool) -> list[Entry]:
    return entries if show_cancelled else [e for e in entries if not e.cancelled]


# --- The day -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    entry: Entry | None = None
    rowspan: int = 1


@dataclass(frozen=True)
class Row:
    minute: int  # of the local day, by the wall clock
    cells: tuple[Cell, ...]

    @property
    def label(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    @property
    def on_the_hour(self) -> bool:
        return self.minute % 60 == 0


@dataclass(frozen=True)
class GridColumn:
    key: str
    label: str
    lanes: int


@dataclass
class DayView:
    day: date
    by: By
    columns: list[GridColumn]
    rows: list[Row]
    hours: list[tuple[time, time]]
    entries: list[Entry]
    cancelled_count: int
    show_cancelled: bool
    clock_change: bool


def _wall_minutes(moment: datetime, day: date) -> int:
    """Minutes since local midnight of ``day`` by the wall clock, clamped to the day."""
    if moment.date() < day:
        return 0
    if moment.date() > day:
        return DAY_MINUTES
    return moment.hour * 60 + moment.minute


def _span(entry: Entry, day: date, first: int) -> tuple[int, int]:
    """The rows an entry covers: from the row it starts in to the row it ends in (at least one)."""
    start = _wall_minutes(entry.starts, day)
    end = _wall_minutes(entry.ends, day)
    top = (start - first) // ROW_MINUTES
    bottom = max(top + 1, -(-(end - first) // ROW_MINUTES))
    return top, bottom


def _lanes(spans: list[tuple[int, int, Entry]]) -> tuple[int, list[tuple[int, int, int, Entry]]]:
    """Side-by-side lanes so that overlapping appointments in one column never hide each other."""
    ends: list[int] = []
    placed = []
    for top, bottom, entry in sorted(spans, key=lambda s: (s[0], -s[1])):
        for lane, lane_end in enumerate(ends):
            if lane_end <= top:
                ends[lane] = bottom
                break
        else:
            ends.append(bottom)
            lane = len(ends) - 1
        placed.append((lane, top, bottom, entry))
    return max(len(ends), 1), placed


def day_grid(
    day: date, hours: Sequence[tuple[time, time]], columns: Sequence[Column], entries: Sequence[Entry], by: By
) -> tuple[list[GridColumn], list[Row]]:
    """The day as table rows of ROW_MINUTES, from opening (or the first appointment) to closing
    (or the last one): each appointment a cell spanning its rows, in its column's lane."""
    starts = [h.hour * 60 + h.minute for h, _end in hours] + [_wall_minutes(e.starts, day) for e in entries]
    ends = [h.hour * 60 + h.minute for _start, h in hours] + [_wall_minutes(e.ends, day) for e in entries]
    if not starts:
        return [GridColumn(c.key, c.label, 1) for c in columns], []
    first = min(starts) // ROW_MINUTES * ROW_MINUTES
    last = min(DAY_MINUTES, -(-max(max(ends), first + ROW_MINUTES) // ROW_MINUTES) * ROW_MINUTES)
    count = (last - first) // ROW_MINUTES
    by_column: dict[str, list[tuple[int, int, Entry]]] = defaultdict(list)
    for entry in entries:
        top, bottom = _span(entry, day, first)
        for key in _column_keys(entry, by):
            by_column[key].append((top, min(bottom, count), entry))
    grid_columns: list[GridColumn] = []
    starts_at: dict[tuple[int, int, int], tuple[Entry, int]] = {}
    covered: set[tuple[int, int, int]] = set()
    for index, column in enumerate(columns):
        lanes, placed = _lanes(by_column.get(column.key, []))
        grid_columns.append(GridColumn(column.key, column.label, lanes))
        for lane, top, bottom, entry in placed:
            starts_at[(top, index, lane)] = (entry, bottom - top)
            covered.update((row, index, lane) for row in range(top + 1, bottom))
    rows = []
    for row in range(count):
        cells: list[Cell] = []
        for index, grid_column in enumerate(grid_columns):
            for lane in range(grid_column.lanes):
                if (row, index, lane) in starts_at:
                    entry, span = starts_at[(row, index, lane)]
                    cells.append(Cell(entry, span))
                elif (row, index, lane) not in covered:
                    cells.append(Cell())
        rows.append(Row(first + row * ROW_MINUTES, tuple(cells)))
    return grid_columns, rows


def day_view(*, member: Membership, day: date, by: By, show_cancelled: bool) -> DayView:
    clinic = member.clinic
    zone = clinic.tzinfo
    start, end = local_bounds(day, zone)
    entries = _entries(_appointments(clinic, start, end))
    visible = _visible(entries, show_cancelled)
    hours = sorted(clinic_hours(clinic).get(day.weekday(), []))
    columns = _columns(clinic, by, visible)
    grid_columns, rows = day_grid(day, hours, columns, visible, by)
    _log(member, f"calendar day {day.isoformat()} by {by}")
    return DayView(
        day=day,
        by=by,
        columns=grid_columns,
        rows=rows,
        hours=hours,
        entries=visible,
        cancelled_count=sum(e.cancelled for e in entries),
        show_cancelled=show_cancelled,
        clock_change=start.utcoffset() != end.utcoffset(),
    )


# --- The week ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeekRow:
    column: Column
    days: tuple[tuple[Entry, ...], ...]


@dataclass
class WeekView:
    monday: date
    days: list[date]
    by: By
    rows: list[WeekRow]
    cancelled_count: int
    show_cancelled: bool


def week_view(*, member: Membership, day: date, by: By, show_cancelled: bool) -> WeekView:
    clinic = member.clinic
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = local_bounds(monday, clinic.tzinfo, days=7)
    entries = _entries(_appointments(clinic, start, end))
    visible = _visible(entries, show_cancelled)
    cells: dict[tuple[str, date], list[Entry]] = defaultdict(list)
    for entry in visible:
        for key in _column_keys(entry, by):
            cells[(key, entry.starts.date())].append(entry)
    rows = [
        WeekRow(column, tuple(tuple(cells.get((column.key, d), ())) for d in days))
        for column in _columns(clinic, by, visible)
    ]
    _log(member, f"calendar week {monday.isoformat()} by {by}")
    return WeekView(
        monday=monday,
        days=days,
        by=by,
        rows=rows,
        cancelled_count=sum(e.cancelled for e in entries),
        show_cancelled=show_cancelled,
    )


# --- Today's board -----------------------------------------------------------------------------
def today_board(*, member: Membership, poll: bool = False) -> tuple[date, list[Entry]]:
    """Every appointment of today (the clinic's day), in time order, cancelled ones included."""
    today = timezone.localdate()
    start, end = local_bounds(today, member.clinic.tzinfo)
    entries = _entries(_appointments(member.clinic, start, end))
    _log(member, f"today board {today.isoformat()}{' (refresh)' if poll else ''}")
    return today, entries


# --- A staff member's feed ---------------------------------------------------------------------
def feed_window(now: datetime) -> tuple[datetime, datetime]:
    return now - FEED_PAST, now + FEED_AHEAD


def feed_events(feed: CalendarFeed, *, now: datetime | None = None) -> list[ics.Event]:
    """The feed owner's appointments (as an attendee) from 30 days ago to 90 days ahead, each
    with the patient's initials, the kind and the room; nothing more about the patient."""
    start, end = feed_window(now or timezone.now())
    with timezone.override(feed.clinic.tzinfo):
        entries = _entries(_appointments(feed.clinic, start, end, user_id=feed.user_id))
    return [
        ics.Event(
            uid=f"{e.public_id}@kapflow",
            summary=f"{e.patient_initials} — {e.kind_text}",
            starts_at=e.starts,
            ends_at=e.ends,
            location=e.place,
            status="CANCELLED" if e.cancelled else "CONFIRMED",
            sequence=e.version,
            updated_at=e.updated_at,
        )
        for e in entries
    ]
