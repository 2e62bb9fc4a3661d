"""Hostile input into every form and query of scheduling: booking (and its conflict check),
moving, cancelling, no-shows, check-in, completing, the clinic's hours, staff hours, appointment
types, closures, the series planner (propose and confirm), the calendars, the staff feeds and the
public feed address, and the patient's cancel, change and calendar file in the portal.

Each example starts from a request that would be accepted and spoils some of its fields (huge,
negative, unicode, 100,000 characters, SQL-ish text, a list where one value is expected, a
missing field, dates in year 1 or 9999, times with a zone, another clinic's room, patient or
staff member), sends it as the person allowed to use the page, and checks: never a 500, and
after a 4xx nothing in the scheduling, dosing, course, measure or patient tables changed. Each
example runs in a savepoint that is rolled back, so one accepted post (a booking, a
cancellation) does not change the scene for the next example.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapflow.clinics.models import Location, Room
from kapflow.courses.models import TreatmentCourse
from kapflow.dosing import protocols
from kapflow.portal.models import PortalAccount
from kapflow.scheduling.feed_views import feed_create, feed_revoke
from kapflow.scheduling.models import (
    Appointment,
    AppointmentStaff,
    CalendarFeed,
    Kind,
    Status,
    Unavailability,
)
from kapflow.scheduling.services import types_for
from kapflow.screening.models import Route
from tests.dosing.helpers import make_ready
from tests.dosing.test_hostile_input import NASTY, VALUE
from tests.scheduling.helpers import DENVER, at, book, weekday_ahead

STATE_APPS = (
    "kapflow.scheduling",
    "kapflow.dosing",
    "kapflow.courses",
    "kapflow.measures",
    "kapflow.patients",
    "kapflow.clinics",
)
EXAMPLES = 25
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DAYS = ["0001-01-01", "1999-12-31", "2000-01-01", "2999-12-31", "3000-01-01", "9999-12-25", "9999-12-31"]
TIMES = ["00:00", "02:30", "23:59", "10:00+05:00", "10:00Z", "10:00:00.999999", "24:00", "T10"]


def domain_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of the scheduling, dosing, course, measure, patient and clinic tables."""
    state = {}
    for config in apps.get_app_configs():
        if config.name.startswith(STATE_APPS):
            for model in config.get_models():
                state[model._meta.label] = list(model._default_manager.order_by("pk").values())
    return state


@dataclass
class Scene:
    world: Any
    course: TreatmentCourse  # Jordan's active sublingual course, ready for dosing
    future: Appointment  # Jordan's preparation visit next week, booked
    today: Appointment  # Jordan's preparation visit now, booked
    today_dosing: Appointment  # Jordan's dosing session now, booked, in the room
    checked_in: Appointment  # Jordan's follow-up earlier today, checked in
    past: Appointment  # Jordan's visit that began 30 minutes ago, still booked (a no-show)
    cancelled: Appointment  # Jordan's cancelled visit next week
    near: Appointment  # Jordan's visit in 2 hours (within the notice period)
    foreign: Appointment  # the Other clinic's
    foreign_room: Room
    inactive_room: Room
    closure: Unavailability
    feed: CalendarFeed  # Frankie's
    token: str
    revoked_token: str
    other_feed: CalendarFeed  # Theo's
    portal: Any  # Jordan's portal user

    def appointment(self, name: str) -> Appointment:
        return getattr(self, name)


def _raw(world, patient, starts_at, *, kind=Kind.PREPARATION, status=Status.BOOKED, staff=(), **extra):
    appointment = Appointment.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=60),
        status=status,
        **extra,
    )
    for member, role in staff:
        AppointmentStaff.objects.create(appointment=appointment, user=member.user, role=role)
    return appointment


@pytest.fixture
def scene(world) -> Scene:
    course = make_ready(world)
    for route in Route.values:  # the shipped examples become version 1 the first time they are read
        protocols.current(world.demo, route)
    types_for(world.demo)
    day = weekday_ahead()
    future = book(world, start=at(day, 10))
    now = timezone.now()
    today = _raw(world, world.patient, now + timedelta(minutes=1), staff=[(world.therapist, "therapist")])
    today_dosing = _raw(
        world,
        world.patient,
        now + timedelta(minutes=2),
        kind=Kind.DOSING,
        route="sublingual",
        course=course,
        room=world.room,
        staff=[(world.therapist, "therapist"), (world.prescriber, "medical")],
    )
    checked = _raw(world, world.patient, now - timedelta(minutes=1), status=Status.CHECKED_IN)
    Appointment.objects.filter(pk=checked.pk).update(kind=Kind.FOLLOW_UP)
    past = _raw(world, world.patient, now - timedelta(minutes=30))
    cancelled = _raw(world, world.patient, at(day, 14), status=Status.CANCELLED)
    near = _raw(world, world.patient, now + timedelta(hours=2))
    foreign = _raw(world, world.other_patient, at(day, 10))
    location = Location.objects.create(clinic=world.other, name="Elsewhere")
    foreign_room = Room.objects.create(clinic=world.other, location=location, name="Their room")
    inactive_room = Room.objects.create(
        clinic=world.demo, location=world.room.location, name="Closed room", is_active=False
    )
    closure = Unavailability.objects.create(
        clinic=world.demo,
        starts_at=at(day + timedelta(days=1), 0),
        ends_at=at(day + timedelta(days=2), 0),
        reason="Training",
        created_by=world.admin.user,
    )
    feed, token = feed_create(member=world.frontdesk, label="Phone")
    old, revoked_token = feed_create(member=world.frontdesk, label="Old")
    feed_revoke(member=world.frontdesk, feed=old)
    other_feed, _token = feed_create(member=world.therapist, label="Theo's")
    portal = PortalAccount.objects.get(patient=world.patient).user
    return Scene(
        world,
        course,
        future,
        today,
        today_dosing,
        checked,
        past,
        cancelled,
        near,
        foreign,
        foreign_room,
        inactive_room,
        closure,
        feed,
        token,
        revoked_token,
        other_feed,
        portal,
    )


# --- The forms: a valid request, and the values worth trying in each field -------------------
@dataclass(frozen=True)
class FormCase:
    url: Callable[[Scene, str], str]
    targets: tuple[str, ...]
    valid: Callable[[Scene, str], dict[str, Any]]
    plausible: Callable[[Scene, str], dict[str, list[Any]]] = lambda s, t: {}
    persona: str = "frontdesk"
    method: str = "post"
    edge_targets: tuple[str, ...] = ()  # where each edge value is tried alone (default: targets)


def schedule_url(name: str) -> Callable[[Scene, str], str]:
    def build(scene: Scene, target: str) -> str:
        appointment = scene.appointment(target)
        return reverse(
            f"scheduling:{name}", kwargs={"clinic": "demo", "appointment_id": appointment.public_id}
        )

    return build


def fixed(name: str, **kwargs: Any) -> Callable[[Scene, str], str]:
    return lambda s, t: reverse(name, kwargs={"clinic": "demo", **kwargs})


APPOINTMENTS = ("future", "today", "today_dosing", "checked_in", "past", "cancelled", "near", "foreign")


def staff_ids(scene: Scene) -> list[Any]:
    w = scene.world
    return [
        [str(w.therapist.user_id)],
        [str(w.therapist.user_id), str(w.prescriber.user_id)],
        [str(w.other_therapist.user_id)],
        [str(w.admin.user_id), str(w.admin.user_id)],
        ["0"],
        ["99999999999999999999"],
        [],
    ]


def rooms(scene: Scene) -> list[str]:
    return [
        str(scene.world.room.pk),
        str(scene.foreign_room.pk),
        str(scene.inactive_room.pk),
        "0",
        "",
        str(scene.world.room.public_id) if hasattr(scene.world.room, "public_id") else "x",
    ]


def slot(scene: Scene) -> dict[str, Any]:
    return {
        "day": weekday_ahead(14).isoformat(),
        "time": "11:00",
        "staff": [str(scene.world.therapist.user_id)],
    }


def slot_plausible(scene: Scene, target: str = "") -> dict[str, list[Any]]:
    today = timezone.localdate(timezone.now(), DENVER)
    return {
        "day": [*DAYS, today.isoformat(), (today - timedelta(days=1)).isoformat(), "2026-02-30"],
        "time": TIMES,
        "room": rooms(scene),
        "staff": staff_ids(scene),
    }


def hours_post(prefix_value: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {}
    for day in range(5):
        data[f"d{day}_from"] = "08:00"
        data[f"d{day}_until"] = "18:00"
    return data


HOURS_PLAUSIBLE = {
    **{f"d{d}_from": ["18:00", "00:00", "23:59", "8", "08:00:00.5"] for d in (0, 6)},
    **{f"d{d}_until": ["08:00", "24:00", "", "07:59"] for d in (0, 6)},
}


def plan_valid(scene: Scene, target: str) -> dict[str, Any]:
    w = scene.world
    data = {
        "start_day": weekday_ahead(21).isoformat(),
        "room": str(w.room.pk),
        "therapist": str(w.therapist.user_id),
        "medical": str(w.prescriber.user_id),
    }
    if target == "confirm":
        data.update(
            {
                "action": "confirm",
                "rows": "2",
                "row-0-kind": "dosing",
                "row-0-day": weekday_ahead(21).isoformat(),
                "row-0-time": "09:00",
                "row-0-include": "on",
                "row-1-kind": "integration",
                "row-1-day": weekday_ahead(22).isoformat(),
                "row-1-time": "13:00",
                "row-1-include": "on",
            }
        )
    return data


def plan_plausible(scene: Scene, target: str) -> dict[str, list[Any]]:
    w = scene.world
    people = [str(w.therapist.user_id), str(w.prescriber.user_id), str(w.other_therapist.user_id), "0"]
    if target == "propose":
        return {
            "start_day": ["0001-01-01", "1999-12-31", "2999-12-31", "3000-01-01", "9999-12-31"],
            "room": rooms(scene),
            "therapist": people,
            "medical": people,
        }
    return {
        "action": ["confirm", "propose", ""],
        "rows": ["0", "-1", "200", "201", "99999999999999999999", "1e3", "2.0"],
        "row-0-kind": [*Kind.values, "dosing ", "nope"],
        "row-1-kind": ["screening", ""],
        "row-0-day": DAYS,
        "row-0-time": TIMES,
        "row-0-include": ["off", ["on", "on"]],
        "row-5-include": ["on"],
        "therapist": people[2:],
        "room": rooms(scene)[1:],
    }


def closure_valid(scene: Scene, target: str) -> dict[str, Any]:
    """A closure in a month, or (as the targets say) at either end of the calendar."""
    day = {"soon": str(weekday_ahead(30)), "year 1": "0001-01-01", "year 9999": "9999-12-31"}[target]
    return {"starts_at": f"{day}T08:00", "ends_at": f"{day}T23:59", "reason": "Staff training"}


def closure_plausible(scene: Scene, target: str) -> dict[str, list[Any]]:
    w = scene.world
    return {
        "starts_at": [f"{d}T23:59" for d in DAYS] + ["2026-03-08T02:30", "2026-11-01T01:30"],
        "ends_at": [f"{d}T00:00" for d in DAYS],
        "room": [str(w.room.pk), str(scene.foreign_room.pk), "0"],
        "user": [str(w.therapist.user_id), str(w.other_admin.user_id), "0", "99999999999999999999"],
        "reason": ["", "x" * 201],
    }


FORMS: dict[str, FormCase] = {
    "book": FormCase(
        fixed("scheduling:book"),
        ("book", "check"),
        lambda s, t: {
            "patient": str(s.world.patient.pk),
            "kind": "preparation",
            **slot(s),
            "action": t,
        },
        lambda s, t: {
            **slot_plausible(s),
            "patient": [
                str(s.world.other_patient.pk),
                str(s.world.patient.public_id),
                "0",
                "99999999999999999999",
            ],
            "kind": [*Kind.values, "DOSING", "screening "],
            "action": ["check", "book", "x"],
        },
        edge_targets=("check",),
    ),
    "move": FormCase(
        schedule_url("move"), APPOINTMENTS, lambda s, t: slot(s), slot_plausible, edge_targets=("future",)
    ),
    "cancel": FormCase(
        schedule_url("cancel"),
        APPOINTMENTS,
        lambda s, t: {"reason": "The patient phoned"},
        lambda s, t: {"reason": ["   ", "x" * 301, "\x00"]},
    ),
    "no-show": FormCase(schedule_url("no_show"), APPOINTMENTS, lambda s, t: {}),
    "check-in (front desk)": FormCase(
        schedule_url("check_in"), APPOINTMENTS, lambda s, t: {}, lambda s, t: {"next": ["1", "//evil"]}
    ),
    "check-in (prescriber)": FormCase(
        schedule_url("check_in"), APPOINTMENTS, lambda s, t: {}, persona="prescriber"
    ),
    "complete": FormCase(schedule_url("complete"), APPOINTMENTS, lambda s, t: {}),
    "hours": FormCase(
        fixed("scheduling:hours"), ("-",), lambda s, t: hours_post(), lambda s, t: HOURS_PLAUSIBLE, "admin"
    ),
    "staff hours": FormCase(
        lambda s, t: reverse(
            "scheduling:staff_hours",
            kwargs={"clinic": "demo", "membership_id": s.world.member(t).pk},
        ),
        ("therapist", "prescriber", "other_therapist"),
        lambda s, t: hours_post(),
        lambda s, t: HOURS_PLAUSIBLE,
        "admin",
        edge_targets=("therapist",),
    ),
    "types": FormCase(
        lambda s, t: reverse("scheduling:type", kwargs={"clinic": "demo", "kind": t}),
        (*Kind.values, "nope"),
        lambda s, t: {"duration_minutes": "45", "needs_therapist": "on", "instructions": "Bring water."},
        lambda s, t: {
            "duration_minutes": ["0", "4", "5", "480", "481", "65536", "-1", "1.5"],
            "needs_medical": ["on", "false", ""],
            "instructions": ["x" * 3001, ""],
        },
        "admin",
    ),
    "closure add": FormCase(
        fixed("scheduling:closure_add"),
        ("soon", "year 1", "year 9999"),
        closure_valid,
        closure_plausible,
        "admin",
        edge_targets=("soon",),
    ),
    "closure remove": FormCase(
        lambda s, t: reverse(
            "scheduling:closure_remove",
            kwargs={"clinic": "demo", "closure_id": s.closure.public_id if t == "real" else uuid.uuid4()},
        ),
        ("real", "unknown"),
        lambda s, t: {},
        persona="admin",
    ),
    "plan": FormCase(
        lambda s, t: reverse("scheduling:plan", kwargs={"clinic": "demo", "course_id": s.course.public_id}),
        ("propose", "confirm"),
        plan_valid,
        plan_plausible,
    ),
    "feeds create": FormCase(
        fixed("calendar:feeds"), ("-",), lambda s, t: {"label": "Tablet"}, lambda s, t: {"label": ["x" * 81]}
    ),
    "feeds revoke": FormCase(
        lambda s, t: reverse(
            "calendar:feed_revoke",
            kwargs={"clinic": "demo", "feed_id": (s.feed if t == "own" else s.other_feed).pk},
        ),
        ("own", "theirs"),
        lambda s, t: {},
    ),
    # --- the calendars (GET) -------------------------------------------------------------------
    **{
        f"calendar {name}": FormCase(
            fixed(f"calendar:{name}"),
            ("-",),
            lambda s, t: {"date": weekday_ahead().isoformat(), "by": "room"},
            lambda s, t: {
                "date": [
                    *DAYS,
                    "2026-03-08",
                    "2026-11-01",
                    "2026-3-8",
                    "20260308",
                    "\uff12\uff10\uff12\uff16-03-08",
                ],
                "by": ["staff", "room", "STAFF", "patient", ""],
                "cancelled": ["1", "0", ["1", "1"]],
            },
            persona="therapist",
            method="get",
        )
        for name in ("day", "week", "today", "today_rows")
    },
    "book page (GET)": FormCase(
        fixed("scheduling:book"),
        ("-",),
        lambda s, t: {"patient": str(s.world.patient.public_id)},
        lambda s, t: {
            "patient": [str(s.world.other_patient.public_id), "bad", str(uuid.uuid4()), "1"],
            "course": [str(s.course.public_id), "bad", str(uuid.uuid4())],
            "date": DAYS,
            "time": TIMES,
            "room": rooms(s),
            "kind": ["dosing", "nope"],
        },
        method="get",
    ),
    # --- the portal (Jordan) ------------------------------------------------------------------
    "portal cancel": FormCase(
        lambda s, t: reverse(
            "portal_appointments:cancel", kwargs={"appointment_id": s.appointment(t).public_id}
        ),
        ("future", "near", "cancelled", "today_dosing", "foreign"),
        lambda s, t: {"reason": "Work"},
        lambda s, t: {"reason": ["x" * 301, "   ", "\x00"]},
        persona="portal",
    ),
    "portal change": FormCase(
        lambda s, t: reverse(
            "portal_appointments:change", kwargs={"appointment_id": s.appointment(t).public_id}
        ),
        ("future", "near", "cancelled", "today_dosing", "foreign"),
        lambda s, t: {"text": "Any morning next week"},
        lambda s, t: {"text": ["x" * 1001, "x" * 1000, "   ", ""]},
        persona="portal",
    ),
    "portal ics": FormCase(
        lambda s, t: reverse(
            "portal_appointments:ics", kwargs={"appointment_id": s.appointment(t).public_id}
        ),
        ("future", "near", "cancelled", "today_dosing", "foreign"),
        lambda s, t: {},
        persona="portal",
        method="get",
    ),
}


@st.composite
def spoiled(draw: st.DrawFn, scene: Scene, case: FormCase) -> tuple[str, dict[str, Any]]:
    """A target and a request: the valid one with some fields replaced, removed or added."""
    target = draw(st.sampled_from(case.targets))
    data = dict(case.valid(scene, target))
    plausible = case.plausible(scene, target)
    names = sorted(set(data) | set(plausible))
    # Half the examples spoil one field only, so the rest of the request gets past the form and
    # the spoiled value reaches the services; the others spoil any number of fields.
    one_field: bool = draw(st.booleans())
    only: str | None = draw(st.sampled_from(names)) if names and one_field else None
    for name in names:
        if only is not None:
            choice = draw(st.sampled_from(["hostile", "plausible", "plausible"])) if name == only else "keep"
        else:
            choice = draw(st.sampled_from(["keep", "keep", "hostile", "plausible", "plausible", "drop"]))
        if choice == "hostile":
            data[name] = draw(VALUE)
        elif choice == "plausible" and plausible.get(name):
            data[name] = draw(st.sampled_from(plausible[name]))
        elif choice == "drop":
            data.pop(name, None)
    extra = draw(
        st.dictionaries(
            st.sampled_from(["version", "id", "clinic", "patient", "course", "next", "csrfmiddlewaretoken"]),
            VALUE,
            max_size=2,
        )
    )
    data.update(extra)
    return target, data


def client_for(scene: Scene, persona: str) -> Client:
    client = Client()
    client.force_login(scene.portal if persona == "portal" else scene.world.member(persona).user)
    return client


def attempt(scene: Scene, client: Client, case: FormCase, target: str, request: dict[str, Any]) -> int:
    """Send the request in a savepoint that is rolled back; never a 500, and a 4xx changes nothing."""
    with transaction.atomic():
        before = domain_state()
        path = case.url(scene, target)
        response = client.get(path, request) if case.method == "get" else client.post(path, request)
        status = response.status_code
        assert status < 500, f"{status} for {path} {request!r:.500}"
        if 400 <= status < 500:
            after = domain_state()
            changed = sorted(label for label in after if after[label] != before.get(label))
            assert not changed, f"{status} for {path} changed {changed}: {request!r:.500}"
        transaction.set_rollback(True)
    return status


@pytest.mark.parametrize("form", sorted(FORMS))
def test_hostile_input_never_gives_a_500_nor_a_half_saved_record(scene, form):
    """Random mixes of spoiled fields, then every listed edge value alone in an otherwise valid
    request (the mixes rarely leave all other fields valid, so the values that reach the
    services are tried one by one too)."""
    case = FORMS[form]
    client = client_for(scene, case.persona)
    seen: dict[int, int] = {}

    @HYPOTHESIS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        target, request = data.draw(spoiled(scene, case))
        status = attempt(scene, client, case, target, request)
        seen[status] = seen.get(status, 0) + 1

    run()
    assert sum(seen.values()) > 0
    for target in case.edge_targets or case.targets:
        valid = case.valid(scene, target)
        attempt(scene, client, case, target, dict(valid))
        for name, values in case.plausible(scene, target).items():
            for value in values:
                attempt(scene, client, case, target, {**valid, name: value})


# --- The public feed address ----------------------------------------------------------------
TOKENS = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=80),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", max_size=300),
)


def test_any_feed_address_but_a_live_one_is_the_same_404_and_changes_nothing(scene):
    anonymous = Client()
    assert anonymous.get(reverse("feeds:ics", kwargs={"token": scene.token})).status_code == 200
    assert anonymous.get(reverse("feeds:ics", kwargs={"token": scene.revoked_token})).status_code == 404
    before = domain_state()

    @HYPOTHESIS
    @given(token=TOKENS, suffix=st.sampled_from([".ics", "", ".ICS", ".ics/", ".ics?x=1"]))
    def run(token: str, suffix: str) -> None:
        if token == scene.token:
            return
        response = anonymous.get(f"/feeds/{quote(token, safe='')}{suffix}")
        assert response.status_code == 404, (token, suffix)
        head = anonymous.head(f"/feeds/{quote(token, safe='')}{suffix}")
        assert head.status_code == 404
        assert anonymous.post(f"/feeds/{quote(scene.token, safe='')}.ics").status_code == 405

    run()
    assert domain_state() == before


# --- Malformed ids in the URL -----------------------------------------------------------------
MALFORMED = ["not-a-uuid", "00000000-0000-0000-0000-00000000000g", "1", "%27%20OR%201%3D1", "0" * 33]


@pytest.mark.parametrize("name", ["appointment", "check_in", "no_show", "complete", "cancel", "move"])
def test_a_malformed_unknown_or_foreign_appointment_id_is_a_404(scene, name):
    client = client_for(scene, "frontdesk")
    real = str(scene.future.public_id)
    path = reverse(f"scheduling:{name}", kwargs={"clinic": "demo", "appointment_id": real})
    before = domain_state()
    for bad in [
        *MALFORMED,
        str(uuid.uuid4()),
        str(scene.foreign.public_id),
        str(scene.world.patient.public_id),
    ]:
        response = client.post(path.replace(real, bad), slot(scene))
        assert response.status_code == 404, f"{name} {bad}"
    assert domain_state() == before


def test_other_url_parameters_never_give_a_500(scene):
    admin = client_for(scene, "admin")
    desk = client_for(scene, "frontdesk")
    patient = client_for(scene, "portal")
    before = domain_state()
    other_membership = scene.world.other_therapist.pk
    for client, path in [
        (admin, "/c/demo/schedule/hours/staff/99999999999999999999/"),
        (admin, f"/c/demo/schedule/hours/staff/{other_membership}/"),
        (admin, "/c/demo/schedule/types/%F0%9F%92%8A/"),
        (admin, "/c/demo/schedule/types/__class__/"),
        (admin, f"/c/demo/schedule/closures/{uuid.uuid4()}/remove/"),
        (desk, "/c/demo/calendar/feeds/99999999999999999999/revoke/"),
        (desk, f"/c/demo/calendar/feeds/{scene.other_feed.pk}/revoke/"),
        (desk, f"/c/demo/schedule/patients/{scene.world.other_patient.public_id}/"),
        (desk, "/c/demo/schedule/patients/not-a-uuid/"),
        (desk, f"/c/demo/schedule/courses/{uuid.uuid4()}/plan/"),
        (desk, f"/c/other/schedule/appointments/{scene.foreign.public_id}/"),
        (patient, f"/portal/appointments/{scene.foreign.public_id}/cancel/"),
        (patient, "/portal/appointments/not-a-uuid/appointment.ics"),
    ]:
        for method in ("get", "post"):
            response = getattr(client, method)(path, {"reason": "x"})
            assert response.status_code == 404, f"{method} {path}"
    assert domain_state() == before
