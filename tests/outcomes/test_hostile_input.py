"""Hostile input into every query of outcomes: the dashboard's period (?start=&end=), both CSV
downloads, a course's chart (?instrument=) and its progress summary PDF.

Each example starts from a query that would be accepted and spoils some of its parameters
(dates in year 1 or 9999, 30 February, a period ending before it starts, lists, unicode, 100,000
characters, SQL-ish text, unknown parameters), sends it as someone allowed to read the page, and
checks: never a 500, a period that does not parse is a 400, and nothing in the clinical tables
changed (these pages only read). Other methods are refused, and another clinic's or an unknown
course is not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapflow.patients import services as patient_services
from tests.dosing.test_hostile_input import VALUE
from tests.outcomes import fixtures

STATE_APPS = (
    "kapflow.scheduling",
    "kapflow.dosing",
    "kapflow.courses",
    "kapflow.measures",
    "kapflow.patients",
    "kapflow.clinics",
)
EXAMPLES = 40


def hypothesis(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


DAYS = [
    "2025-03-01",
    "2025-03-31",
    "2025-04-01",
    "0001-01-01",
    "1999-12-31",
    "2000-01-01",
    "2999-12-31",
    "3000-01-01",
    "9999-12-31",
    "2025-02-29",
    "2024-02-29",
    "2025-02-30",
    "2025-3-1",
    "03/01/2025",
    "2025-03-01T00:00",
    "",
]


def domain_state() -> dict[str, list[dict[str, Any]]]:
    state = {}
    for config in apps.get_app_configs():
        if config.name.startswith(STATE_APPS):
            for model in config.get_models():
                state[model._meta.label] = list(model._default_manager.order_by("pk").values())
    return state


@dataclass
class Scene:
    world: Any
    fixed: fixtures.Fixed
    other: fixtures.Fixed

    def course_id(self, target: str) -> Any:
        if target == "unknown":
            return uuid.uuid4()
        if target == "other clinic":
            return self.other.courses["Z"].public_id
        return self.fixed.courses[target].public_id


@pytest.fixture
def scene(world) -> Scene:
    world.demo.report_min_group = 1
    world.demo.save()
    fixed = fixtures.build(world)
    for key in ("A", "F"):  # Priya on the care team of two courses' patients
        patient_services.care_team_add(
            member=world.frontdesk, patient=fixed.patients[key], membership_id=world.prescriber.pk
        )
    return Scene(world, fixed, fixtures.build_other(world))


@dataclass(frozen=True)
class QueryCase:
    url: Callable[[Scene, str], str]
    targets: tuple[str, ...]
    valid: dict[str, Any]
    plausible: dict[str, list[Any]]
    persona: str
    examples: int = EXAMPLES


def clinic_url(name: str) -> Callable[[Scene, str], str]:
    return lambda s, t: reverse(f"outcomes:{name}", kwargs={"clinic": "demo"})


def course_url(name: str) -> Callable[[Scene, str], str]:
    return lambda s, t: reverse(f"outcomes:{name}", kwargs={"clinic": "demo", "course_id": s.course_id(t)})


PERIOD = {"start": "2025-03-01", "end": "2025-03-31"}
PERIOD_EDGES = {"start": DAYS, "end": DAYS}
COURSES = ("A", "F", "other clinic", "unknown")
CASES: dict[str, QueryCase] = {
    "dashboard": QueryCase(clinic_url("dashboard"), ("-",), PERIOD, PERIOD_EDGES, "admin"),
    "dashboard csv": QueryCase(clinic_url("dashboard_csv"), ("-",), PERIOD, PERIOD_EDGES, "prescriber"),
    "research csv": QueryCase(clinic_url("research_csv"), ("-",), PERIOD, PERIOD_EDGES, "admin"),
    "course chart": QueryCase(
        course_url("course_chart"),
        COURSES,
        {"instrument": "phq9"},
        {"instrument": ["gad7", "PHQ9", "cssrs", "moaas", "", "phq9 ", "../gad7", ["phq9", "gad7"]]},
        "prescriber",
    ),
    "course pdf": QueryCase(
        course_url("course_pdf"), COURSES, {}, {"instrument": ["gad7"]}, "prescriber", examples=8
    ),
}
PERIOD_NAMES = ("dashboard", "dashboard csv", "research csv")


@st.composite
def spoiled(draw: st.DrawFn, case: QueryCase) -> tuple[str, dict[str, Any]]:
    target = draw(st.sampled_from(case.targets))
    query = dict(case.valid)
    for name in sorted(set(query) | set(case.plausible)):
        choice = draw(st.sampled_from(["keep", "hostile", "plausible", "plausible", "drop"]))
        if choice == "hostile":
            query[name] = draw(VALUE)
        elif choice == "plausible" and case.plausible.get(name):
            query[name] = draw(st.sampled_from(case.plausible[name]))
        elif choice == "drop":
            query.pop(name, None)
    extra = draw(
        st.dictionaries(st.sampled_from(["clinic", "patient", "course", "format", "page"]), VALUE, max_size=2)
    )
    return target, {**query, **extra}


def attempt(scene: Scene, client: Client, case: QueryCase, target: str, query: dict[str, Any]) -> int:
    """A read: never a 500, and never a change, whatever it answers."""
    before = domain_state()
    path = case.url(scene, target)
    status = client.get(path, query).status_code
    assert status < 500, f"{status} for {path} {query!r:.500}"
    assert domain_state() == before, f"{status} for {path} changed the database: {query!r:.500}"
    return status


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_queries_never_give_a_500_and_change_nothing(scene, name):
    case = CASES[name]
    client = Client()
    client.force_login(scene.world.member(case.persona).user)
    seen: dict[int, int] = {}

    @hypothesis(case.examples)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        target, query = data.draw(spoiled(case))
        status = attempt(scene, client, case, target, query)
        seen[status] = seen.get(status, 0) + 1

    run()
    assert sum(seen.values()) > 0
    # Then every edge value alone in an otherwise valid query, at every target.
    for target in case.targets:
        expected = 404 if target in ("other clinic", "unknown") else 200
        assert attempt(scene, client, case, target, dict(case.valid)) == expected, target
        for field, values in case.plausible.items():
            for value in values:
                attempt(scene, client, case, target, {**case.valid, field: value})


@pytest.mark.parametrize("name", PERIOD_NAMES)
@pytest.mark.parametrize(
    "query",
    [
        {"start": "2025-03-31", "end": "2025-03-01"},  # ends before it starts
        {"start": "9999-12-31", "end": "9999-12-31"},
        {"start": "0001-01-01", "end": "2025-03-31"},
        {"start": "2025-02-30", "end": "2025-03-31"},
        {"start": "2025-03-01"},
        {"end": "2025-03-31"},
        {"start": ["2025-03-01", "x"], "end": "nope"},
    ],
)
def test_a_period_that_does_not_parse_is_a_400(scene, name, query):
    client = Client()
    client.force_login(scene.world.admin.user)
    before = domain_state()
    response = client.get(CASES[name].url(scene, "-"), query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")  # the form with its errors, no CSV
    assert domain_state() == before


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_refused_and_change_nothing(scene, name, method):
    case = CASES[name]
    client = Client()
    client.force_login(scene.world.member(case.persona).user)
    before = domain_state()
    response = getattr(client, method)(case.url(scene, case.targets[0]), PERIOD)
    assert response.status_code == 405, response.status_code
    assert domain_state() == before


@pytest.mark.parametrize("name", sorted(CASES))
def test_another_clinics_address_is_not_found(scene, name):
    client = Client()
    client.force_login(scene.world.admin.user)
    path = CASES[name].url(scene, CASES[name].targets[0]).replace("/c/demo/", "/c/other/")
    assert client.get(path, PERIOD).status_code == 404
