"""The clinic dashboard as tables: each a title, column headings and rows of plain values, so
the page, the CSV and the tests read the same figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case, CharField, Value, When

from kapflow.clinics.models import Clinic
from kapflow.dosing.models import EventKind
from kapflow.outcomes import queries, stats

TOO_FEW = "too few to report"


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""


@dataclass
class Dashboard:
    clinic: Clinic
    start: datetime
    end: datetime
    minimum: int
    tables: list[Table] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def _rate(successes: int, n: int, minimum: int) -> str:
    return stats.Rate(successes, n, minimum).text()


def _mean(value: float | None, n: int, minimum: int) -> str:
    if n < max(minimum, 1) or value is None:
        return TOO_FEW
    return f"{value:+.1f}"


def _outcome_row(label: str, counts: queries.OutcomeCounts, minimum: int) -> tuple[Any, ...]:
    return (
        label,
        counts.courses,
        counts.without_baseline,
        _rate(counts.responders, counts.response_eligible, minimum),
        _rate(counts.remitters, counts.remission_eligible, minimum),
        _mean(counts.phq_mean_change, counts.remission_eligible, minimum),
        _mean(counts.gad_mean_change, counts.gad_eligible, minimum),
    )


OUTCOME_COLUMNS = (
    "Group",
    "Courses",
    "Without a baseline (left out)",
    "PHQ-9 response",
    "PHQ-9 remission",
    "Mean PHQ-9 change",
    "Mean GAD-7 change",
)


def _grouped(courses: list[dict[str, Any]], column: str, minimum: int) -> list[tuple[Any, ...]]:
    """A row per value of ``column`` among the courses (read once by ``queries.outcome_rows``)."""
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for course in courses:
        groups[course[column]].append(course)
    return [_outcome_row(str(v), queries.tally(groups[v]), minimum) for v in sorted(groups, key=str)]


def _session_band_expr() -> Case:
    whens = [
        When(sessions_held__range=(low, high), then=Value(label)) for low, high, label in stats.SESSION_BANDS
    ]
    return Case(*whens, default=Value("none held"), output_field=CharField())


def _dose_band_expr() -> Case:
    whens = [
        When(max_mg_per_kg__gte=low, max_mg_per_kg__lt=high, then=Value(label))
        for low, high, label in stats.DOSE_BANDS
    ]
    return Case(
        When(max_mg_per_kg__isnull=True, then=Value("no weight recorded")), *whens, output_field=CharField()
    )


def build(clinic: Clinic, start: datetime, end: datetime) -> Dashboard:
    minimum = clinic.report_min_group
    board = Dashboard(clinic=clinic, start=start, end=end, minimum=minimum)
    population = queries.course_population(clinic, start, end).annotate(
        session_band=_session_band_expr(), dose_band=_dose_band_expr()
    )
    courses = queries.outcome_rows(population, "route", "sessions_held", "session_band", "dose_band")
    overall = queries.tally(courses)
    sessions = queries.sessions_in(clinic, start, end)
    session_count = sessions.count()
    board.headline = {
        "courses": overall.courses,
        "sessions": session_count,
        "without_baseline": overall.without_baseline,
        "response": stats.Rate(overall.responders, overall.response_eligible, minimum),
        "remission": stats.Rate(overall.remitters, overall.remission_eligible, minimum),
    }
    board.tables.append(
        Table(
            "outcomes",
            "Response and remission (PHQ-9), and mean change",
            OUTCOME_COLUMNS,
            [
                _outcome_row("All courses", overall, minimum),
                *_grouped(courses, "route", minimum),
            ],
            note=f"Response: {stats.RESPONSE_SOURCE}. Remission: {stats.REMISSION_SOURCE}. "
            "Baseline: the last score before the course's first dosing session; courses without one "
            "are left out and counted. Intervals: 95% Wilson score. For comparison: "
            f"{stats.HULL}.",
        )
    )
    board.tables.append(
        Table(
            "by_sessions",
            "By number of dosing sessions held",
            OUTCOME_COLUMNS,
            # Courses still in their first session have none held yet: in "All courses" only.
            _grouped([c for c in courses if c["sessions_held"] >= 1], "session_band", minimum),
        )
    )
    board.tables.append(
        Table(
            "by_dose",
            "By dose band (largest first dose per kilogram)",
            OUTCOME_COLUMNS,
            _grouped(courses, "dose_band", minimum),
        )
    )
    events = queries.events_by_kind(clinic, start, end)
    reportable = session_count >= max(minimum, 1)
    event_rows = []
    for kind in EventKind:
        n = events.get(kind.value, 0)
        rate = stats.per_hundred(n, session_count) if reportable else None
        event_rows.append((str(kind.label), n, f"{rate:.1f}" if rate is not None else TOO_FEW))
    serious = queries.serious_events(clinic, start, end)
    event_rows.append(
        (
            "Serious (any type)",
            serious,
            f"{stats.per_hundred(serious, session_count):.1f}" if reportable else TOO_FEW,
        )
    )
    board.tables.append(
        Table(
            "events",
            "Adverse events per 100 dosing sessions",
            ("Type", "Events", "Per 100 sessions"),
            event_rows,
        )
    )
    bp = queries.bp_breaches(clinic, start, end)
    board.tables.append(
        Table(
            "bp",
            "Blood-pressure thresholds crossed (sessions)",
            ("Sessions", "With a caution-level reading", "With a hard-stop reading"),
            [(bp["sessions"], bp["caution"], bp["hard_stop"])],
        )
    )
    board.tables.append(
        Table(
            "discharge",
            "Time from first dose to discharge, by route (minutes)",
            ("Route", "Sessions", "Mean", "Shortest", "Longest"),
            [
                (
                    r["route"],
                    r["n"],
                    *(
                        f"{r[k]:.0f}" if r["n"] >= minimum and r[k] is not None else TOO_FEW
                        for k in ("mean", "shortest", "longest")
                    ),
                )
                for r in queries.discharge_minutes_by_route(clinic, start, end)
            ],
        )
    )
    integration = queries.integration_on_time(clinic, start, end)
    board.tables.append(
        Table(
            "integration",
            f"Integration visits within {clinic.integration_due_days} days of the dosing session",
            ("Discharged sessions", "With an integration visit in time", "Rate"),
            [
                (
                    integration["sessions"],
                    integration["on_time"],
                    _rate(integration["on_time"], integration["sessions"], minimum),
                )
            ],
        )
    )
    measures = queries.measures_on_time(clinic, start, end)
    board.tables.append(
        Table(
            "measures",
            "Questionnaires due in the period",
            ("Due", "Completed", "Within 7 days of due", "On time"),
            [
                (
                    measures["due"],
                    measures["completed"],
                    measures["on_time"],
                    _rate(measures["on_time"], measures["due"], minimum),
                )
            ],
        )
    )
    return board
