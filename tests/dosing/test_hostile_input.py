"""Hostile input into every form of the dosing session, the stock ledger and the protocol editor.

Each example starts from a form that would be accepted and spoils some of its fields (huge,
negative, NaN/Infinity, unicode, 100,000 characters, SQL-ish text, a list where one value is
expected, a missing field, a wrong version, another clinic's lot or room, a time like 25:99),
posts it as the person allowed to use the form, and checks: never a 500; after a 4xx nothing in
the dosing, course or measure tables changed; and every lot's balance is the sum of its ledger
entries and never below zero. Each example runs in a savepoint that is rolled back, so one
accepted post (a cancellation, a discharge) does not lock the session for the next example.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapflow.clinics.models import Location, Room
from kapflow.core.roles import Role
from kapflow.dosing import protocols, services, stock
from kapflow.dosing.models import DosingSession, StockLot
from kapflow.dosing.protocol_forms import initial_for
from kapflow.screening.models import Route
from tests.conftest import make_member
from tests.dosing.helpers import backdate, checked_in, dosed, make_lot, make_ready, second_patient

STATE_APPS = ("kapflow.dosing", "kapflow.courses", "kapflow.measures")
EXAMPLES = 40
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

LONG = "x" * 100_000
NASTY = [
    "",
    " ",
    "0",
    "-0",
    "-1",
    "-200",
    "0.001",
    "1e309",
    "1E+999999",
    "1e-999999",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "9" * 40,
    "9" * 5000,
    "99999999999999999999",
    "-99999999999999999999",
    "0x1A",
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "\uff11\uff12\uff10",  # full-width digits
    "25:99",
    "24:00",
    "23:59:60",
    "-01:00",
    "12:00 PM",
    "00:00",
    "23:59",
    "2026-13-45",
    "0000-00-00",
    "9999-12-31",
    "'; DROP TABLE dosing_dosingsession; --",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "\x00",
    "null",
    "None",
    "true",
    "on",
    "[]",
    "{}",
    "💊" * 20,
    "\u202egnirts",
    "e\u0301",
    LONG,
    str(uuid.uuid4()),
]
SCALAR = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.times().map(lambda t: t.isoformat()),
)
VALUE = st.one_of(SCALAR, st.lists(SCALAR, min_size=0, max_size=3))


def domain_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of the dosing, course and measure tables (history tables included)."""
    state = {}
    for config in apps.get_app_configs():
        if config.name.startswith(STATE_APPS):
            for model in config.get_models():
                state[model._meta.label] = list(model._default_manager.order_by("pk").values())
    return state


def assert_ledger_holds() -> None:
    for lot in StockLot.objects.all():
        total = lot.entries.aggregate(t=Sum("quantity_mg"))["t"] or Decimal(0)
        assert lot.balance_mg == total, f"lot {lot.lot_number}: balance {lot.balance_mg}, entries {total}"
        assert lot.balance_mg >= 0, f"lot {lot.lot_number} is negative"


@dataclass
class Scene:
    """What the forms are posted against (built once per test; every example is rolled back)."""

    world: Any
    open_session: DosingSession  # Jordan, checked in, pre-dose record complete
    cancelled: DosingSession  # Jordan's earlier session, cancelled (locked)
    dosed: DosingSession  # Morgan, dosed 125 minutes ago, ready to discharge
    fresh_course: Any  # Casey's active course, no session yet (check-in)
    lot: StockLot
    empty_lot: StockLot
    expired_lot: StockLot
    foreign_lot: StockLot  # the Other clinic's
    foreign_room: Room

    def session(self, name: str) -> DosingSession:
        return getattr(self, name)


def third_patient(world):
    from datetime import date

    from kapflow.patients import services as patient_services

    casey = patient_services.patient_create(
        member=world.frontdesk,
        data={
            "legal_given_name": "Casey",
            "legal_family_name": "Nguyen",
            "date_of_birth": date(1991, 9, 9),
            "record_number": "R-3",
        },
    )
    for clinician in (world.therapist, world.prescriber):
        patient_services.care_team_add(member=world.frontdesk, patient=casey, membership_id=clinician.pk)
    return casey


@pytest.fixture
def scene(world) -> Scene:
    lot = make_lot(world)
    course = make_ready(world)
    first = services.session_check_in(member=world.prescriber, course=course)
    cancelled = services.session_cancel(member=world.prescriber, session=first, reason="Felt unwell")
    open_session = checked_in(world, course)

    morgan = second_patient(world)
    dosed_session = dosed(world, make_ready(world, patient=morgan), lot)
    backdate(dosed_session, 125)
    services.reading_record(
        member=world.prescriber,
        session=dosed_session,
        kind="vitals",
        values={"systolic": 122, "diastolic": 78},
    )
    services.reading_record(member=world.prescriber, session=dosed_session, kind="moaas", moaas=5)
    dosed_session.refresh_from_db()

    fresh_course = make_ready(world, patient=third_patient(world))

    empty = make_lot(world, quantity="10", lot_number="EMPTY")
    stock.waste_record(
        member=world.prescriber,
        lot=empty,
        quantity_mg=Decimal(10),
        witness_id=world.nurse.user_id,
        reason="x",
    )
    expired = make_lot(world, lot_number="OLD")
    StockLot.objects.filter(pk=expired.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    other_prescriber = make_member(world.other, "opal@other.test", "Opal Other", Role.PRESCRIBER)
    foreign = stock.lot_receive(
        member=other_prescriber,
        lot_number="LOT-A1",
        form="100 mg troche",
        quantity_mg=Decimal(500),
        expires_on=timezone.localdate() + timedelta(days=100),
    )
    location = Location.objects.create(clinic=world.other, name="Elsewhere")
    foreign_room = Room.objects.create(clinic=world.other, location=location, name="Their room")
    return Scene(
        world,
        open_session,
        cancelled,
        dosed_session,
        fresh_course,
        lot,
        empty,
        expired,
        foreign,
        foreign_room,
    )


# --- The forms: a valid post, and the values worth trying in each field --------------------
@dataclass(frozen=True)
class FormCase:
    url: Callable[[Scene, str], str]  # (scene, session or route name) -> path
    targets: tuple[str, ...]  # the sessions (or routes) to post to
    valid: Callable[[Scene, str], dict[str, Any]]
    plausible: Callable[[Scene, str], dict[str, list[Any]]] = lambda s, t: {}
    persona: str = "prescriber"
    method: str = "post"


def session_url(name: str, **extra: Any) -> Callable[[Scene, str], str]:
    def build(scene: Scene, target: str) -> str:
        session = scene.session(target)
        return reverse(f"dosing:{name}", kwargs={"clinic": "demo", "session_id": session.public_id, **extra})

    return build


SESSIONS = ("open_session", "dosed", "cancelled")


def times(scene: Scene, target: str) -> list[str]:
    now = timezone.localtime()
    return [f"{(now - timedelta(minutes=m)):%H:%M}" for m in (0, 5, 90, 600)] + [
        f"{(now + timedelta(minutes=30)):%H:%M}"
    ]


def lots(scene: Scene, target: str) -> list[str]:
    return [
        str(scene.lot.pk),
        str(scene.empty_lot.pk),
        str(scene.expired_lot.pk),
        str(scene.foreign_lot.pk),
        str(scene.lot.public_id),
    ]


def versions(scene: Scene, target: str) -> list[str]:
    v = scene.session(target).version
    return [str(v), str(v - 1), str(v + 1)]


def witnesses(scene: Scene, target: str = "") -> list[str]:
    w = scene.world
    return [
        str(w.nurse.user_id),
        str(w.prescriber.user_id),  # oneself
        str(w.therapist.user_id),  # not a medical professional
        str(w.other_admin.user_id),  # another clinic
        str(w.admin.user_id),
        "0",
        "99999999999999999999",  # beyond any key: SQLite cannot bind it
        "-9223372036854775809",
    ]


READINGS = {
    "vitals": FormCase(
        session_url("reading", kind="vitals"),
        SESSIONS,
        lambda s, t: {"vitals-systolic": "128", "vitals-diastolic": "80", "vitals-heart_rate": "72"},
        lambda s, t: {
            "vitals-systolic": ["30", "50", "300", "301", "190"],
            "vitals-diastolic": ["19", "200", "130"],
            "vitals-spo2": ["49", "101", "100"],
            "vitals-respiratory_rate": ["1", "61"],
            "vitals-taken_at": times(s, t),
        },
    ),
    "moaas": FormCase(
        session_url("reading", kind="moaas"),
        SESSIONS,
        lambda s, t: {"moaas-moaas": "5"},
        lambda s, t: {"moaas-moaas": ["-1", "6", "0", "5.0"], "moaas-taken_at": times(s, t)},
    ),
    "dissociation": FormCase(
        session_url("reading", kind="dissociation"),
        SESSIONS,
        lambda s, t: {"dissociation-score": "12"},
        lambda s, t: {"dissociation-score": ["1001", "-1", "0"], "dissociation-taken_at": times(s, t)},
    ),
    "observation": FormCase(
        session_url("reading", kind="observation"),
        SESSIONS,
        lambda s, t: {"observation-note": "Calm, eyes closed."},
        lambda s, t: {"observation-note": ["x" * 3001, "   "], "observation-taken_at": times(s, t)},
    ),
    "unknown kind": FormCase(
        session_url("reading", kind="mood"),
        SESSIONS,
        lambda s, t: {"mood-note": "fine", "vitals-systolic": "120", "vitals-diastolic": "80"},
    ),
}
FORMS: dict[str, FormCase] = {
    "predose": FormCase(
        session_url("predose"),
        SESSIONS,
        lambda s, t: {
            "predose-weight_kg": "70.0",
            "predose-fasting_confirmed": "on",
            "predose-escort_confirmed": "on",
            "predose-escort_name": "Sam",
            "predose-intentions_reviewed": "on",
            "predose-pregnancy_test": "not_applicable",
            "predose-concomitant_medications": "None",
        },
        lambda s, t: {
            "predose-weight_kg": ["19.9", "350.1", "70.05", "71"],
            "predose-pregnancy_test": ["positive", "maybe"],
            "predose-escort_name": ["", "   "],
        },
    ),
    **{f"reading {kind}": case for kind, case in READINGS.items()},
    "override": FormCase(
        session_url("override"),
        SESSIONS,
        lambda s, t: {"override-check": "vitals", "override-reason": "Anxious; normal at home"},
        lambda s, t: {
            "override-check": ["screening", "fasting", "weight", "VITALS", "__class__", "vitals "],
            "override-reason": ["x" * 1001, "   "],
        },
    ),
    "administer": FormCase(
        session_url("administer"),
        SESSIONS,
        lambda s, t: {
            "dose-dose_mg": "200",
            "dose-lot": str(s.lot.pk),
            "dose-version": str(s.session(t).version),
        },
        lambda s, t: {
            "dose-dose_mg": ["0", "0.01", "10000", "1000.01", "99999.99", "450", "100", "2000"],
            "dose-lot": lots(s, t),
            "dose-version": versions(s, t),
            "dose-started_at": times(s, t),
            "dose-ended_at": times(s, t),
            "dose-witness": witnesses(s),
            "dose-override_reason": ["Because", "x" * 2001],
        },
    ),
    "event": FormCase(
        session_url("event"),
        SESSIONS,
        lambda s, t: {"event-kind": "nausea_vomiting", "event-severity": "mild", "event-outcome": "resolved"},
        lambda s, t: {
            "event-kind": ["other", "sneezing"],
            "event-severity": ["fatal"],
            "event-serious": ["on", "off", "false"],
            "event-occurred_at": times(s, t),
            "event-description": ["", "x" * 3001],
        },
    ),
    "discharge": FormCase(
        session_url("discharge"),
        SESSIONS,
        lambda s, t: {"discharge-confirmed": ["walks_unaided", "escort_present", "no_driving"]},
        lambda s, t: {
            "discharge-confirmed": [["walks_unaided"], ["min_observation"], ["flies"]],
            "discharge-note": ["x" * 3001],
        },
    ),
    "cancel": FormCase(
        session_url("cancel"),
        SESSIONS,
        lambda s, t: {"cancel-reason": "Felt unwell"},
        lambda s, t: {"cancel-reason": ["x" * 2001, "   "]},
    ),
    "addendum": FormCase(
        session_url("addendum"),
        SESSIONS,
        lambda s, t: {"addendum-text": "Called the next morning: well."},
        lambda s, t: {"addendum-text": ["x" * 10001, "   "]},
    ),
    "guide note": FormCase(session_url("guide_note"), SESSIONS, lambda s, t: {}),
    "check-in": FormCase(
        lambda s, t: reverse(
            "dosing:check_in",
            kwargs={
                "clinic": "demo",
                "course_id": (s.fresh_course if t == "fresh" else s.open_session.course).public_id,
            },
        ),
        ("fresh", "busy"),
        lambda s, t: {"room": str(s.world.room.pk)},
        lambda s, t: {"room": [str(s.foreign_room.pk), "0", "", "1.5"]},
    ),
    # --- the ledger -----------------------------------------------------------------------
    "receive": FormCase(
        lambda s, t: reverse("stock:receive", kwargs={"clinic": "demo"}),
        ("-",),
        lambda s, t: {
            "receive-lot_number": "LOT-NEW",
            "receive-form": "100 mg troche",
            "receive-quantity_mg": "1000",
            "receive-expires_on": f"{timezone.localdate() + timedelta(days=200):%Y-%m-%d}",
            "receive-supplier": "Pharmacy",
        },
        lambda s, t: {
            "receive-lot_number": ["LOT-A1", "OLD", " "],
            "receive-quantity_mg": ["0", "1000000", "1000000.01", "0.005", "-5"],
            "receive-expires_on": [f"{timezone.localdate() - timedelta(days=1):%Y-%m-%d}", "9999-12-31"],
        },
    ),
    "waste": FormCase(
        lambda s, t: reverse("stock:waste", kwargs={"clinic": "demo", "lot_id": getattr(s, t).public_id}),
        ("lot", "empty_lot", "expired_lot"),
        lambda s, t: {
            "waste-quantity_mg": "10",
            "waste-witness": str(s.world.nurse.user_id),
            "waste-reason": "Dropped",
        },
        lambda s, t: {
            "waste-quantity_mg": ["2000", "2000.01", "0", "1800", "0.001"],
            "waste-witness": witnesses(s),
            "waste-reason": ["   ", "x" * 2001],
        },
    ),
    "count": FormCase(
        lambda s, t: reverse("stock:count", kwargs={"clinic": "demo", "lot_id": getattr(s, t).public_id}),
        ("lot", "empty_lot", "expired_lot"),
        lambda s, t: {
            "count-counted_mg": str(getattr(s, t).balance_mg),
            "count-witness": "",
            "count-reason": "",
        },
        lambda s, t: {
            "count-counted_mg": ["0", "1990", "1000000", "1000000.01", "-1"],
            "count-witness": witnesses(s),
            "count-reason": ["Crumbled", "   "],
        },
    ),
    "report": FormCase(
        lambda s, t: reverse(t, kwargs={"clinic": "demo"}),
        ("stock:report", "stock:report_csv"),
        lambda s, t: {"start": f"{timezone.localdate():%Y-%m-%d}", "end": f"{timezone.localdate():%Y-%m-%d}"},
        lambda s, t: {
            "start": ["1969-12-31", "1970-01-01", "9998-12-31", "9999-12-31", "0001-01-01"],
            "end": ["1969-12-31", "9998-12-31", "9999-12-31", "2026-02-30"],
        },
        method="get",
    ),
    # --- the protocol editor ----------------------------------------------------------------
    "protocol": FormCase(
        lambda s, t: reverse("protocols:edit", kwargs={"clinic": "demo", "route": t}),
        tuple(Route.values),
        lambda s, t: protocol_post(s, t),
        lambda s, t: {
            "base_version": ["0", "1", "2", "-1"],
            "dose_unit": ["mg", "mg_per_kg", "g"],
            "dose_min": ["0", "0.01", "20", "1000", "1000.01"],
            "dose_max": ["0.5", "400", "1000", "1001"],
            "max_cumulative": ["0.75", "1", "400", "1001"],
            "infusion_minutes": ["0", "40", "601"],
            "min_observation_minutes": ["14", "15", "1440", "1441"],
            "monitoring_vitals": ["0, 20, 20", "1441", "-5", "0;10 20", ""],
            "monitoring_moaas": ["0, 20", "abc"],
            "before_systolic_caution": ["170", "49", "301"],
            "before_systolic_hard_stop": ["150", ""],
            "during_spo2_low_caution": ["80", "101"],
            "during_spo2_low_hard_stop": ["95"],
            "discharge_criteria": [["min_observation"], ["nothing"], []],
            "dissociation_instrument": ["phq9", "nope", "x" * 41],
            "weight_valid_days": ["0", "366"],
            "fasting_food_hours": ["25", "-1"],
            "change_note": ["", "x" * 301],
        },
        persona="admin",
    ),
}


def protocol_post(scene: Scene, route: str) -> dict[str, Any]:
    version = protocols.current(scene.world.demo, route)
    initial = initial_for(protocols.parsed(version), version.version)
    data: dict[str, Any] = {}
    for name, value in initial.items():
        if value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        elif isinstance(value, list):
            data[name] = value
        else:
            data[name] = str(value)
    data["change_note"] = "Medical director: tightened"
    return data


@st.composite
def spoiled(draw: st.DrawFn, scene: Scene, case: FormCase) -> tuple[str, dict[str, Any]]:
    """A target and a post: the valid one with some fields replaced, removed or added."""
    target = draw(st.sampled_from(case.targets))
    data = dict(case.valid(scene, target))
    plausible = case.plausible(scene, target)
    names = sorted(set(data) | set(plausible))
    for name in names:
        choice = draw(st.sampled_from(["keep", "keep", "hostile", "plausible", "drop"]))
        if choice == "hostile":
            data[name] = draw(VALUE)
        elif choice == "plausible" and plausible.get(name):
            data[name] = draw(st.sampled_from(plausible[name]))
        elif choice == "drop":
            data.pop(name, None)
    extra = draw(
        st.dictionaries(
            st.sampled_from(["version", "id", "clinic", "patient", "csrfmiddlewaretoken"]), VALUE, max_size=2
        )
    )
    data.update(extra)
    return target, data


def client_for(scene: Scene, persona: str) -> Client:
    client = Client()
    client.force_login(scene.world.member(persona).user)
    return client


@pytest.mark.parametrize("form", sorted(FORMS))
def test_hostile_input_never_gives_a_500_nor_a_half_saved_record(scene, form):
    case = FORMS[form]
    client = client_for(scene, case.persona)
    seen: dict[int, int] = {}

    @HYPOTHESIS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        target, post = data.draw(spoiled(scene, case))
        with transaction.atomic():
            before = domain_state()
            path = case.url(scene, target)
            response = client.get(path, post) if case.method == "get" else client.post(path, post)
            status = response.status_code
            seen[status] = seen.get(status, 0) + 1
            assert status < 500, f"{status} for {path} {post!r:.500}"
            if 400 <= status < 500:
                assert domain_state() == before, f"{status} for {path} changed the database: {post!r:.500}"
            assert_ledger_holds()
            transaction.set_rollback(True)

    run()
    assert sum(seen.values()) > 0


# --- URL parameters ---------------------------------------------------------------------------
SESSION_ROUTES = [
    ("session", "get", {}),
    ("live", "get", {}),
    ("pdf", "get", {}),
    ("predose", "post", {}),
    ("reading", "post", {"kind": "vitals"}),
    ("override", "post", {}),
    ("administer", "post", {}),
    ("event", "post", {}),
    ("discharge", "post", {}),
    ("cancel", "post", {}),
    ("addendum", "post", {}),
    ("guide_note", "post", {}),
]
MALFORMED = ["not-a-uuid", "00000000-0000-0000-0000-00000000000g", "1", "%27%20OR%201%3D1", "0" * 33]


@pytest.mark.parametrize(("name", "method", "extra"), SESSION_ROUTES)
def test_a_malformed_or_unknown_session_id_is_a_404(scene, name, method, extra):
    client = client_for(scene, "prescriber")
    real = str(scene.open_session.public_id)
    path = reverse(f"dosing:{name}", kwargs={"clinic": "demo", "session_id": real, **extra})
    for bad in [*MALFORMED, str(uuid.uuid4()), str(scene.world.patient.public_id)]:
        before = domain_state()
        response = getattr(client, method)(path.replace(real, bad))
        assert response.status_code == 404, f"{name} {bad}"
        assert domain_state() == before


def test_other_url_parameters_never_give_a_500(scene):
    client = client_for(scene, "prescriber")
    admin = client_for(scene, "admin")
    before = domain_state()
    s = scene.open_session.public_id
    foreign = scene.foreign_lot.public_id
    for path, expected in [
        (f"/c/demo/dosing/{s}/readings/mood/", 400),
        (f"/c/demo/dosing/{s}/readings/%F0%9F%92%8A/", 404),
        (f"/c/demo/stock/{foreign}/", 404),
        (f"/c/demo/stock/{foreign}/waste/", 404),
        (f"/c/demo/stock/{foreign}/count/", 404),
        ("/c/demo/stock/not-a-uuid/waste/", 404),
        (f"/c/demo/dosing/courses/{uuid.uuid4()}/check-in/", 404),
        ("/c/demo/dosing/courses/nope/check-in/", 404),
        (f"/c/demo/dosing/patients/{scene.world.other_patient.public_id}/", 404),
    ]:
        response = client.post(path, {"vitals-systolic": "120", "vitals-diastolic": "80"})
        assert response.status_code == expected, path
    for path in [
        "/c/demo/protocols/nope/",
        "/c/demo/protocols/sublingual/history/99999999999999999999/",
        "/c/demo/protocols/sublingual/history/0/",
        "/c/demo/protocols/..%2F/",
    ]:
        assert admin.get(path).status_code == 404, path
    assert domain_state() == before
    assert_ledger_holds()
