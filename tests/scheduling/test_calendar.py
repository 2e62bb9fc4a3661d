"""The clinic's calendars: the day by room and by staff, the week, today's board with its
statuses (dosing ones from the session), cancelled appointments, a daylight-saving day, bad
dates, who may look, and what is logged."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kapflow.clinics.models import Room
from kapflow.core.models import AccessLogEntry
from kapflow.dosing import services as dosing_services
from kapflow.dosing.models import DosingSession, SessionStatus
from kapflow.patients import services as patient_services
from kapflow.scheduling.calendar_selectors import BoardStatus, board_status, initials, parse_day
from kapflow.scheduling.models import Appointment, AppointmentStaff, Kind, Status
from kapflow.scheduling.services import Request, appointment_book
from tests.dosing.helpers import checked_in, make_lot, make_ready, second_patient

DENVER = ZoneInfo("America/Denver")
FRIDAY = date(2026, 12, 4)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=DENVER)


def appointment(
    world,
    *,
    start: datetime,
    minutes: int = 60,
    kind: str = Kind.PREPARATION,
    room: Room | None = None,
    staff=(),
    patient=None,
    status: str = Status.BOOKED,
    route: str = "",
    session: DosingSession | None = None,
) -> Appointment:
    """Written directly (no conflict checks) to set up a calendar quickly."""
    row = Appointment.objects.create(
        clinic=world.demo,
        patient=patient or world.patient,
        kind=kind,
        route=route,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        room=room,
        status=status,
        dosing_session=session,
        created_by=world.frontdesk.user,
    )
    for member in staff:
        role = "therapist" if member.role == "therapist" else "medical"
        AppointmentStaff.objects.create(appointment=row, user=member.user, role=role)
    return row


def span(start: str, end: str) -> str:
    return f"{start}\N{EN DASH}{end}"


def url(name: str, **query: str) -> str:
    path = reverse(f"calendar:{name}", kwargs={"clinic": "demo"})
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


class _Table(HTMLParser):
    """The cells of the first table: per row, (tag, attributes, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, dict[str, str], str]]] = []
        self.cell: tuple[str, dict[str, str], list[str]] | None = None
        self.done = False

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.cell = (tag, {k: v or "" for k, v in attrs}, [])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            name, attrs, text = self.cell
            self.rows[-1].append((name, attrs, " ".join(" ".join(text).split())))
            self.cell = None
        elif tag == "table":
            self.done = True

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[2].append(data)


def blocks(page: str) -> list[dict[str, object]]:
    """Each appointment cell of the day table with the time of its row and the header of its
    column, worked out the way a browser lays out rowspans and colspans."""
    parser = _Table()
    parser.feed(page)
    taken: set[tuple[int, int]] = set()
    placed: dict[tuple[int, int], tuple[str, dict[str, str], str]] = {}
    for r, row in enumerate(parser.rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            rowspan, colspan = int(cell[1].get("rowspan", 1)), int(cell[1].get("colspan", 1))
            placed[(r, c)] = cell
            taken.update((r + dr, c + dc) for dr in range(rowspan) for dc in range(colspan))
            c += colspan
    headers: dict[int, str] = {}
    for (r, c), cell in placed.items():
        if r == 0:
            for dc in range(int(cell[1].get("colspan", 1))):
                headers[c + dc] = cell[2]
    found = []
    for (r, c), (_tag, attrs, text) in sorted(placed.items()):
        if "cal-block" in attrs.get("class", ""):
            found.append(
                {
                    "time": placed[(r, 0)][2],
                    "column": headers[c],
                    "rows": int(attrs.get("rowspan", 1)),
                    "text": text,
                    "cancelled": "cal-cancelled" in attrs["class"],
                }
            )
    return found


def block_of(page: str, name: str) -> dict[str, object]:
    found = [b for b in blocks(page) if name in str(b["text"])]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def consult(world) -> Room:
    return Room.objects.create(clinic=world.demo, location=world.room.location, name="Consult 2")


@pytest.fixture
def morgan(world):
    return second_patient(world)


def test_the_day_by_room_places_each_appointment_in_its_room_at_its_local_time(world, login, consult, morgan):
    appointment(world, start=at(FRIDAY, 9), room=world.room, staff=[world.therapist])
    appointment(
        world,
        start=at(FRIDAY, 10, 30),
        minutes=150,
        kind=Kind.DOSING,
        route="sublingual",
        room=consult,
        staff=[world.therapist, world.prescriber],
        patient=morgan,
    )
    response = login(world.frontdesk).get(url("day", date="2026-12-04"))
    assert response.status_code == 200
    page = response.content.decode()
    jordan = block_of(page, "Jordan Rivera")
    assert (jordan["time"], jordan["column"], jordan["rows"]) == ("09:00", "Dosing room 1", 4)
    assert span("09:00", "10:00") in str(jordan["text"]) and "Preparation" in str(jordan["text"])
    assert "Theo Therapist" in str(jordan["text"]) and "Booked" in str(jordan["text"])
    morgan_block = block_of(page, "Morgan Lee")
    assert (morgan_block["time"], morgan_block["column"], morgan_block["rows"]) == ("10:30", "Consult 2", 10)
    assert "Dosing session (sublingual)" in str(morgan_block["text"])
    assert "Priya Prescriber, Theo Therapist" in str(morgan_block["text"])
    # Rows run through the clinic's opening hours (the example: 08:00 to 18:00 on weekdays).
    assert '<th scope="row" class="cal-time">08:00</th>' in page
    assert '<th scope="row" class="cal-time">17:45</th>' in page
    assert "18:00</th>" not in page
    # Links: the days either side, today, the week, and booking on this day.
    assert 'href="?date=2026-12-03&amp;by=room"' in page and 'href="?date=2026-12-05&amp;by=room"' in page
    assert reverse("calendar:week", kwargs={"clinic": "demo"}) + "?date=2026-12-04&amp;by=room" in page
    assert reverse("scheduling:book", kwargs={"clinic": "demo"}) + "?date=2026-12-04" in page
    entry = AccessLogEntry.objects.filter(user=world.frontdesk.user, category="schedule").latest("seq")
    assert entry.detail == "calendar day 2026-12-04 by room" and entry.patient_id is None
    assert entry.action == "view" and entry.outcome == "allowed"


def test_the_day_by_staff_shows_an_appointment_under_each_attendee(world, login, consult, morgan):
    appointment(world, start=at(FRIDAY, 9), room=world.room, staff=[world.therapist])
    appointment(
        world,
        start=at(FRIDAY, 13),
        minutes=150,
        kind=Kind.DOSING,
        route="sublingual",
        room=consult,
        staff=[world.therapist, world.prescriber],
        patient=morgan,
    )
    page = login(world.therapist).get(url("day", date="2026-12-04", by="staff")).content.decode()
    found = sorted((b["column"], b["time"], "Morgan" in str(b["text"])) for b in blocks(page))
    assert found == [
        ("Priya Prescriber", "13:00", True),
        ("Theo Therapist", "09:00", False),
        ("Theo Therapist", "13:00", True),
    ]
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', page)
    assert headers == ["Time", "Nico Nurse", "Priya Prescriber", "Theo Therapist"]  # clinicians only
    assert (
        AccessLogEntry.objects.filter(user=world.therapist.user).latest("seq").detail
        == "calendar day 2026-12-04 by staff"
    )


def test_overlapping_appointments_in_one_room_sit_side_by_side(world, login, morgan):
    appointment(world, start=at(FRIDAY, 9), room=world.room)
    appointment(world, start=at(FRIDAY, 9, 30), room=world.room, patient=morgan)
    page = login(world.admin).get(url("day", date="2026-12-04")).content.decode()
    assert '<th scope="col" colspan="2">Dosing room 1</th>' in page
    assert {(b["time"], b["column"]) for b in blocks(page)} == {
        ("09:00", "Dosing room 1"),
        ("09:30", "Dosing room 1"),
    }


def test_cancelled_appointments_are_hidden_until_asked_for_then_struck_through(world, login, morgan):
    appointment(world, start=at(FRIDAY, 9), room=world.room, status=Status.CANCELLED)
    appointment(world, start=at(FRIDAY, 9), room=world.room, patient=morgan)
    client = login(world.frontdesk)
    page = client.get(url("day", date="2026-12-04")).content.decode()
    assert "Jordan Rivera" not in page and "Morgan Lee" in page
    assert "Show cancelled (1)" in page
    shown = client.get(url("day", date="2026-12-04", cancelled="1")).content.decode()
    jordan = block_of(shown, "Jordan Rivera")
    assert jordan["cancelled"] is True and "Cancelled" in str(jordan["text"])
    assert block_of(shown, "Morgan Lee")["cancelled"] is False
    assert "Hide cancelled" in shown
    week = client.get(url("week", date="2026-12-04")).content.decode()
    assert "Jordan Rivera" not in week and "Morgan Lee" in week
    week = client.get(url("week", date="2026-12-04", cancelled="1")).content.decode()
    assert re.search(r'class="cal-item cal-preparation cal-cancelled">.*?Jordan Rivera', week, re.S)


def test_a_day_when_the_clocks_change_shows_local_times(world, login):
    # 8 March 2026: Denver moves from MST (UTC-7) to MDT (UTC-6) at 02:00.
    before = appointment(world, start=at(date(2026, 3, 7), 9), room=world.room)
    after = appointment(world, start=at(date(2026, 3, 8), 9), room=world.room)
    assert before.starts_at.astimezone(ZoneInfo("UTC")).hour == 16
    assert after.starts_at.astimezone(ZoneInfo("UTC")).hour == 15
    client = login(world.admin)
    page = client.get(url("day", date="2026-03-08")).content.decode()
    block = block_of(page, "Jordan Rivera")
    assert (block["time"], block["column"], block["rows"]) == ("09:00", "Dosing room 1", 4)
    assert span("09:00", "10:00") in str(block["text"])
    assert "The clocks change today" in page
    assert "The clocks change today" not in client.get(url("day", date="2026-03-09")).content.decode()
    # The week shows 09:00 on both sides of the change.
    week = client.get(url("week", date="2026-03-08")).content.decode()
    assert week.count(span("09:00", "10:00")) == 2
    # And in autumn (1 November 2026, back to MST).
    appointment(world, start=at(date(2026, 11, 1), 9, 15), room=world.room)
    block = block_of(client.get(url("day", date="2026-11-01")).content.decode(), "Jordan Rivera")
    assert block["time"] == "09:15" and span("09:15", "10:15") in str(block["text"])


def test_the_week_lists_appointments_per_room_and_day(world, login, consult, morgan):
    appointment(world, start=at(date(2026, 11, 30), 9), room=world.room, staff=[world.therapist])
    appointment(world, start=at(date(2026, 12, 3), 14), room=consult, patient=morgan)
    appointment(world, start=at(date(2026, 12, 7), 9), room=world.room)  # the week after
    client = login(world.nurse)
    page = client.get(url("week", date="2026-12-04")).content.decode()
    parser = _Table()
    parser.feed(page)
    header = [text for _tag, _attrs, text in parser.rows[0]]
    assert header == [
        "Room",
        "Mon 30 Nov",
        "Tue 1 Dec",
        "Wed 2 Dec",
        "Thu 3 Dec",
        "Fri 4 Dec",
        "Sat 5 Dec",
        "Sun 6 Dec",
    ]
    cells = {row[0][2]: [text for _tag, _attrs, text in row[1:]] for row in parser.rows[1:]}
    assert (
        "Jordan Rivera" in cells["Dosing room 1"][0] and span("09:00", "10:00") in cells["Dosing room 1"][0]
    )
    assert "Morgan Lee" in cells["Consult 2"][3] and span("14:00", "15:00") in cells["Consult 2"][3]
    assert sum("Jordan" in text for text in cells["Dosing room 1"]) == 1  # not the next week's
    assert 'href="?date=2026-11-23&amp;by=room"' in page and 'href="?date=2026-12-07&amp;by=room"' in page
    by_staff = client.get(url("week", date="2026-12-04", by="staff")).content.decode()
    assert "Theo Therapist" in by_staff and "No attendee" in by_staff
    details = list(
        AccessLogEntry.objects.filter(user=world.nurse.user, category="schedule")
        .order_by("seq")
        .values_list("detail", flat=True)
    )
    assert details == ["calendar week 2026-11-30 by room", "calendar week 2026-11-30 by staff"]


def test_a_booking_made_through_the_service_appears_on_the_calendar(world, login):
    day = FRIDAY
    while day <= timezone.localdate(timezone.now(), DENVER):
        day += timedelta(days=7)
    appointment_book(
        member=world.frontdesk,
        request=Request(
            patient=world.patient,
            kind=Kind.PREPARATION,
            starts_at=at(day, 11),
            room_id=world.room.pk,
            staff_ids=(world.therapist.user_id,),
        ),
    )
    page = login(world.therapist).get(url("day", date=day.isoformat())).content.decode()
    block = block_of(page, "Jordan Rivera")
    assert (block["time"], block["column"]) == ("11:00", "Dosing room 1")


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01",
        "2026-02-30",
        "yesterday",
        "20261204",
        "2026-12-4",
        "9999-12-31",
        "0001-01-01",
        "2026-12-04x",
    ],
)
@pytest.mark.parametrize("name", ["day", "week"])
def test_a_bad_date_is_a_400_not_a_500(world, login, name, value):
    response = login(world.frontdesk).get(url(name, date=value))
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode() or "date" in response.content.decode()


def test_an_unknown_grouping_is_a_400(world, login):
    assert login(world.frontdesk).get(url("day", by="patient")).status_code == 400


def test_parse_day_defaults_to_the_clinics_today():
    with timezone.override(DENVER):
        assert parse_day(None) == parse_day("") == timezone.localdate()
        assert parse_day("2026-12-04") == FRIDAY


@pytest.mark.parametrize("name", ["day", "week", "today", "today_rows", "feeds"])
def test_only_this_clinics_staff_see_the_calendars(world, portal_user, name):
    path = url(name)
    assert Client().get(path).status_code == 302
    assert Client().get(path)["Location"].startswith(reverse("accounts:login"))
    for persona in ("other_therapist", "other_admin"):
        client = Client()
        client.force_login(world.member(persona).user)
        assert client.get(path).status_code == 404
    patient = Client()
    patient.force_login(portal_user)
    assert patient.get(path).status_code == 404
    for persona in ("admin", "frontdesk", "therapist", "prescriber", "nurse"):
        client = Client()
        client.force_login(world.member(persona).user)
        assert client.get(path).status_code == 200, persona


def test_another_clinics_appointments_never_show(world, login):
    from kapflow.clinics.models import Location

    location = Location.objects.create(clinic=world.other, name="Elsewhere")
    room = Room.objects.create(clinic=world.other, location=location, name="Their room")
    Appointment.objects.create(
        clinic=world.other,
        patient=world.other_patient,
        kind=Kind.PREPARATION,
        starts_at=at(FRIDAY, 9),
        ends_at=at(FRIDAY, 10),
        room=room,
    )
    page = login(world.admin).get(url("day", date="2026-12-04")).content.decode()
    assert "Olivia" not in page and "Their room" not in page


# --- Today's board -------------------------------------------------------------------------------
def today_at(hour: int, minute: int = 0) -> datetime:
    return at(timezone.localdate(timezone.now(), DENVER), hour, minute)


def today_ago(minutes: int) -> datetime:
    """``minutes`` ago, but still today in Denver (the board shows today only)."""
    midnight = datetime.combine(timezone.localdate(timezone.now(), DENVER), time.min, tzinfo=DENVER)
    return max(timezone.now() - timedelta(minutes=minutes), midnight)


def today_in(minutes: int) -> datetime:
    """``minutes`` ahead, but still today in Denver."""
    tomorrow = datetime.combine(
        timezone.localdate(timezone.now(), DENVER) + timedelta(days=1), time.min, tzinfo=DENVER
    )
    return min(timezone.now() + timedelta(minutes=minutes), tomorrow - timedelta(minutes=1))


def board_rows(page: str) -> list[list[str]]:
    parser = _Table()
    parser.feed(page)
    return [[text for _tag, _attrs, text in row] for row in parser.rows[1:] if len(row) == 7]


def test_the_board_lists_today_in_time_order_with_each_status(world, login, consult):
    base = timezone.now().astimezone(DENVER).replace(hour=0, minute=0, second=0, microsecond=0)
    people = []
    for n, status in enumerate(
        [Status.COMPLETED, Status.NO_SHOW, Status.CHECKED_IN, Status.CANCELLED, Status.BOOKED]
    ):
        patient = patient_services.patient_create(
            member=world.frontdesk,
            data={
                "legal_given_name": f"Pat{n}",
                "legal_family_name": "Board",
                "date_of_birth": date(1980, 1, 1),
            },
        )
        people.append(patient)
        appointment(
            world,
            start=base + timedelta(hours=8 + n),
            room=consult,
            staff=[world.therapist],
            patient=patient,
            status=status,
        )
    appointment(world, start=base + timedelta(days=1, hours=9), room=consult)  # tomorrow: not today
    response = login(world.frontdesk).get(url("today"))
    assert response.status_code == 200
    rows = board_rows(response.content.decode())
    assert [row[1] for row in rows] == [p.display_name for p in people]
    assert [row[5] for row in rows] == ["Completed", "No-show", "Checked in", "Cancelled", "Booked"]
    assert (
        rows[0][0] == span("08:00", "09:00") and rows[0][3] == "Consult 2" and rows[0][4] == "Theo Therapist"
    )
    entry = AccessLogEntry.objects.filter(user=world.frontdesk.user).latest("seq")
    assert entry.detail == f"today board {base.date().isoformat()}" and entry.patient_id is None


def test_the_board_takes_a_dosing_appointments_status_from_its_session(world, login):
    course = make_ready(world)
    lot = make_lot(world)
    row = appointment(
        world,
        start=today_ago(30),
        minutes=150,
        kind=Kind.DOSING,
        route="sublingual",
        room=world.room,
        staff=[world.therapist, world.prescriber],
        status=Status.CHECKED_IN,
    )
    client = login(world.frontdesk)

    def status() -> str:
        (only,) = board_rows(client.get(url("today")).content.decode())
        return only[5]

    assert status() == "Checked in"  # the appointment's own status, no session yet
    session = checked_in(world, course)
    Appointment.objects.filter(pk=row.pk).update(dosing_session=session)
    assert status() == "Checked in"
    # Dosed: in session while there is no MOAA/S yet, or the latest is below 5.
    dosing_services.administration_record(
        member=world.prescriber,
        session=session,
        dose_mg=Decimal("200"),
        lot=lot,
        started_at=None,
        ended_at=None,
        witness_id=None,
        override_reason="",
        base_version=session.version,
    )
    session.refresh_from_db()
    assert status() == "In session"
    dosing_services.reading_record(member=world.prescriber, session=session, kind="moaas", moaas=3)
    assert status() == "In session"
    dosing_services.reading_record(member=world.prescriber, session=session, kind="moaas", moaas=5)
    assert status() == "In observation"
    dosing_services.reading_record(member=world.prescriber, session=session, kind="moaas", moaas=4)
    assert status() == "In session"  # the latest score counts
    DosingSession.objects.filter(pk=session.pk).update(
        status=SessionStatus.DISCHARGED, discharged_at=timezone.now()
    )
    assert status() == "Discharged"
    # Nothing clinical on the board: no doses, scores, vitals or medicines.
    page = client.get(url("today")).content.decode()
    for clinical in ("200 mg", "MOAA/S", "Sertraline", "Sam Rivera", "124/80"):
        assert clinical not in page


def test_the_board_offers_check_in_no_show_and_the_session_link_as_allowed(world, login, consult):
    course = make_ready(world)
    morgan = second_patient(world)
    started = appointment(world, start=today_ago(10), room=consult, patient=morgan)
    later = appointment(world, start=today_in(50), room=consult, patient=morgan)
    session = checked_in(world, course)
    dosing = appointment(
        world,
        start=today_ago(5),
        kind=Kind.DOSING,
        route="sublingual",
        room=world.room,
        staff=[world.prescriber],
        status=Status.CHECKED_IN,
        session=session,
    )

    def action_url(name: str, row: Appointment) -> str:
        return reverse(f"scheduling:{name}", kwargs={"clinic": "demo", "appointment_id": row.public_id})

    session_link = reverse("dosing:session", kwargs={"clinic": "demo", "session_id": session.public_id})
    desk = login(world.frontdesk).get(url("today")).content.decode()
    assert f'action="{action_url("check_in", started)}"' in desk
    assert f'action="{action_url("no_show", started)}"' in desk
    assert f'action="{action_url("check_in", later)}"' in desk
    assert f'action="{action_url("no_show", later)}"' not in desk  # its time has not come
    assert f'action="{action_url("check_in", dosing)}"' not in desk  # already checked in
    assert session_link not in desk  # front desk never opens a dosing session
    theo = Client()
    theo.force_login(world.therapist.user)
    assert session_link in theo.get(url("today")).content.decode()  # on Jordan's care team
    nico = Client()
    nico.force_login(world.nurse.user)
    assert session_link not in nico.get(url("today")).content.decode()  # not on the team


def test_a_dosing_patient_checked_in_at_the_desk_is_offered_to_the_medical_staff_to_open(world, login):
    make_ready(world)
    row = appointment(
        world,
        start=today_ago(5),
        kind=Kind.DOSING,
        route="sublingual",
        room=world.room,
        staff=[world.prescriber],
        status=Status.CHECKED_IN,
    )
    check_in = reverse("scheduling:check_in", kwargs={"clinic": "demo", "appointment_id": row.public_id})
    priya = login(world.prescriber).get(url("today")).content.decode()
    assert f'action="{check_in}"' in priya and "Open the dosing session" in priya
    desk = Client()
    desk.force_login(world.frontdesk.user)
    assert f'action="{check_in}"' not in desk.get(url("today")).content.decode()


def test_the_board_refreshes_its_rows_every_30_seconds(world, login):
    appointment(world, start=today_at(23, 0), minutes=30, room=world.room)
    client = login(world.nurse)
    page = client.get(url("today")).content.decode()
    rows_url = url("today_rows")
    assert f'hx-get="{rows_url}" hx-trigger="every 30s" hx-swap="outerHTML"' in page
    partial = client.get(rows_url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.startswith('<tbody id="board-rows"') and "<html" not in body
    assert f'hx-get="{rows_url}"' in body and "Jordan Rivera" in body
    entry = AccessLogEntry.objects.filter(user=world.nurse.user).latest("seq")
    assert entry.detail.endswith("(refresh)") and entry.category == "schedule"


def test_an_empty_board_says_so(world, login):
    page = login(world.therapist).get(url("today")).content.decode()
    assert "No appointments today." in page


# --- Pure pieces ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"status": "booked"}, BoardStatus.BOOKED),
        ({"status": "checked_in"}, BoardStatus.CHECKED_IN),
        ({"status": "completed"}, BoardStatus.COMPLETED),
        ({"status": "no_show"}, BoardStatus.NO_SHOW),
        ({"status": "cancelled"}, BoardStatus.CANCELLED),
        ({"status": "checked_in", "session_status": "checked_in"}, BoardStatus.CHECKED_IN),
        ({"status": "checked_in", "session_status": "in_session", "dosed": True}, BoardStatus.IN_SESSION),
        (
            {"status": "checked_in", "session_status": "in_session", "dosed": True, "latest_moaas": 4},
            BoardStatus.IN_SESSION,
        ),
        (
            {"status": "checked_in", "session_status": "in_session", "dosed": True, "latest_moaas": 5},
            BoardStatus.IN_OBSERVATION,
        ),
        ({"status": "checked_in", "session_status": "discharged", "dosed": True}, BoardStatus.DISCHARGED),
        ({"status": "completed", "session_status": "discharged", "dosed": True}, BoardStatus.DISCHARGED),
        ({"status": "checked_in", "session_status": "cancelled"}, BoardStatus.CANCELLED),
    ],
)
def test_board_status(facts, expected):
    assert board_status(**facts) == expected


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("Jordan", "Rivera", "J.R."),
        ("mary ann", "de la Cruz", "M.D."),
        ("Émile", "Zola", "É.Z."),
        ("", "Lee", "L."),
        ("", "", "?"),
    ],
)
def test_initials(given, family, expected):
    assert initials(given, family) == expected
