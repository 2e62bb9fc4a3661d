"""Regressions found in review: the default period on 29 February (a 500), integration visits
due "three days after" counted in calendar days across a daylight-saving change, a voided
questionnaire never counted as a baseline or latest score, and the dashboard's groups found by
the database (DISTINCT) rather than by reading every course."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kapflow.measures.models import MeasureResponse
from kapflow.outcomes import course as outcomes
from kapflow.outcomes import dashboard, queries
from kapflow.outcomes.forms import default_period
from tests.outcomes import fixtures
from tests.outcomes.fixtures import DENVER, END, START


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (date(2028, 2, 29), date(2027, 3, 1)),  # a leap day: a year before is 28 February
        (date(2028, 3, 1), date(2027, 3, 2)),
        (date(2027, 2, 28), date(2026, 3, 1)),
    ],
)
def test_the_default_period_is_the_last_twelve_months_even_on_a_leap_day(monkeypatch, today, first):
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=DENVER).astimezone(UTC)
    monkeypatch.setattr(timezone, "now", lambda: noon)
    with timezone.override(DENVER):
        assert default_period() == {"start": first, "end": today}


def test_the_dashboard_opens_on_a_leap_day(world, login, monkeypatch):
    noon = datetime(2028, 2, 29, 12, tzinfo=DENVER).astimezone(UTC)
    monkeypatch.setattr(timezone, "now", lambda: noon)
    client = login(world.admin)
    for name in ("dashboard", "dashboard_csv", "research_csv"):
        assert client.get(reverse(f"outcomes:{name}", kwargs={"clinic": "demo"})).status_code == 200, name


def _one_session(world, first_dose: datetime, visit_days: list[date]) -> fixtures._Builder:
    """One discharged session (checked in 30 minutes before ``first_dose``) and its visits."""
    b = fixtures._Builder(world)
    b.course("S", "sublingual")
    b.session("S", 1, first_dose, discharge_after=90)
    for day in visit_days:
        b.visit("S", day)
    return b


@pytest.mark.parametrize(
    ("visit", "on_time"),
    [(date(2025, 3, 11), 1), (date(2025, 3, 12), 0)],
)
def test_integration_due_days_are_calendar_days_when_the_clocks_go_forward(world, visit, on_time):
    # Checked in at 23:15 on Saturday 8 March 2025; the clocks go forward that night. Due within
    # 3 days: through 11 March. 72 hours later is 00:15 on 12 March on the clock.
    _one_session(world, datetime(2025, 3, 8, 23, 45, tzinfo=DENVER), [visit])
    assert queries.integration_on_time(world.demo, START, END) == {"sessions": 1, "on_time": on_time}


@pytest.mark.parametrize(
    ("visit", "on_time"),
    [(date(2025, 11, 4), 1), (date(2025, 11, 5), 0)],
)
def test_integration_due_days_are_calendar_days_when_the_clocks_go_back(world, visit, on_time):
    # Checked in at 00:15 on Saturday 1 November 2025; the clocks go back on 2 November. Due
    # through 4 November. 72 hours later is 23:15 on 3 November on the clock.
    _one_session(world, datetime(2025, 11, 1, 0, 45, tzinfo=DENVER), [visit])
    start, end = datetime(2025, 11, 1, tzinfo=DENVER), datetime(2025, 12, 1, tzinfo=DENVER)
    assert queries.integration_on_time(world.demo, start, end) == {"sessions": 1, "on_time": on_time}


def test_a_voided_score_is_neither_baseline_nor_latest(world):
    fixed = fixtures.build(world)
    course = fixed.courses["C"]  # PHQ-9 16 before the first dose, 4 (a corrected 9) on 25 March
    voided = {
        "voided_at": fixtures.at(31, 12),
        "voided_by": world.prescriber.user,
        "void_reason": "Entered for the wrong patient.",
    }
    baseline = MeasureResponse.objects.get(patient=course.patient, instrument_key="phq9", total=16)
    latest = MeasureResponse.objects.get(patient=course.patient, instrument_key="phq9", total=4)
    MeasureResponse.objects.filter(pk__in=[baseline.pk, latest.pk]).update(**voided)
    figures = outcomes.course_outcomes(course)
    assert figures.phq9.baseline is None and figures.phq9.latest is None
    assert [p.total for p in figures.phq9.points] == []
    row = queries.annotated_courses(world.demo).get(pk=course.pk)
    assert (row.phq_base, row.phq_latest) == (None, None)


def test_the_dashboard_reads_the_course_population_once(world):
    """Every group (route, sessions held, dose band) is tallied from one read of the courses:
    a query per group evaluated each course's score subqueries again (issue #12)."""
    fixtures.build(world)
    with CaptureQueriesContext(connection) as captured:
        built = dashboard.build(world.demo, START, END)
    courses = [q["sql"] for q in captured.captured_queries if 'FROM "courses_treatmentcourse"' in q["sql"]]
    assert len(courses) == 1
    assert [row[0] for row in built.table("by_dose").rows] == [
        "0.5 to under 1 mg/kg",
        "1 to under 2 mg/kg",
        "2 to under 4 mg/kg",
        "no weight recorded",
        "under 0.5 mg/kg",
    ]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_dashboard_answers_only_get(world, login, method):
    path = reverse("outcomes:dashboard", kwargs={"clinic": "demo"})
    assert getattr(login(world.admin), method)(path).status_code == 405
