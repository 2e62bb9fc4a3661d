"""One course's outcomes: PHQ-9 and GAD-7 from baseline to latest, response and remission (or
why they cannot be judged), the definitions with their sources, the trajectory chart with each
dosing session marked, and the progress summary PDF.

The figures come from ``queries.annotated_courses``, the same SQL as the clinic dashboard, so a
course reads the same here as it counts there. Nothing here checks access: callers pass a course
they fetched with ``courses.selectors.access_course``. Psychotherapy notes are never read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from kapflow.consent.pdf import _weasyprint
from kapflow.courses.models import NoteStatus, TreatmentCourse, Visit
from kapflow.dosing.models import DosingSession, SessionStatus
from kapflow.measures import registry
from kapflow.measures.charts import BandArea, Point, trajectory_svg
from kapflow.measures.models import MeasureResponse
from kapflow.outcomes import queries, stats

INSTRUMENTS = (queries.PHQ9, queries.GAD7)

NO_DOSE = "no dose given yet"
NO_BASELINE = "no baseline"
NO_LATER_SCORE = "no score since the first dose"
NOT_ELIGIBLE = "baseline 9 or less: not eligible for response"

BASELINE_DEFINITION = "the last score before the course's first dosing session"
LATEST_DEFINITION = "the most recent score since the first dosing session"
DEFINITIONS = (
    ("Response", stats.RESPONSE_SOURCE),
    ("Remission", stats.REMISSION_SOURCE),
    ("Baseline", BASELINE_DEFINITION),
    ("Latest", LATEST_DEFINITION),
    ("Published comparison", stats.HULL),
)


@dataclass(frozen=True)
class Score:
    total: int
    at: datetime  # aware


@dataclass(frozen=True)
class Judgement:
    """Response or remission: met (True/False), or None with the reason it cannot be judged."""

    met: bool | None
    reason: str
    definition: str

    @property
    def text(self) -> str:
        if self.met is None:
            return f"not judged: {self.reason}"
        return "yes" if self.met else "no"


@dataclass(frozen=True)
class SessionMark:
    """A dosing session as marked on the chart's time axis."""

    number: int
    at: datetime  # the first dose, or the check-in when no dose was given yet
    status: str

    @property
    def label(self) -> str:
        return f"S{self.number}"


@dataclass(frozen=True)
class ChartRow:
    """A line of the table under a chart: a score, or a dosing session (``total`` None)."""

    at: datetime
    what: str
    total: int | None
    note: str


@dataclass(frozen=True)
class InstrumentOutcome:
    key: str
    name: str
    baseline: Score | None
    latest: Score | None
    points: tuple[MeasureResponse, ...]  # the scores the chart draws, oldest first
    rows: tuple[ChartRow, ...]  # the chart as a table: scores and dosing sessions by time

    @property
    def change(self) -> int | None:
        if self.baseline is None or self.latest is None:
            return None
        return self.latest.total - self.baseline.total

    @property
    def percent_change(self) -> float | None:
        return stats.percent_change(
            self.baseline.total if self.baseline else None, self.latest.total if self.latest else None
        )

    @property
    def change_text(self) -> str:
        return "—" if self.change is None else f"{self.change:+d}"

    @property
    def percent_text(self) -> str:
        value = self.percent_change
        return "—" if value is None else f"{value:+.1f}%"


@dataclass(frozen=True)
class CourseOutcomes:
    course: TreatmentCourse
    first_dose: datetime | None
    sessions_held: int
    phq9: InstrumentOutcome
    gad7: InstrumentOutcome
    response: Judgement
    remission: Judgement
    sessions: tuple[SessionMark, ...]
    definitions: tuple[tuple[str, str], ...] = DEFINITIONS

    @property
    def instruments(self) -> tuple[InstrumentOutcome, ...]:
        return (self.phq9, self.gad7)

    def instrument(self, key: str) -> InstrumentOutcome:
        return next(i for i in self.instruments if i.key == key)


def _answered_at(instrument: str, *, before: Any = None, after: Any = None) -> Subquery:
    """The time of the score ``queries._score`` picks (same filters, same order)."""
    responses = MeasureResponse.objects.filter(
        patient=OuterRef("patient"),
        instrument_key=instrument,
        replaced_by__isnull=True,
        voided_at__isnull=True,
        total__isnull=False,
    )
    if before is not None:
        responses = responses.filter(answered_at__lt=before)
    if after is not None:
        responses = responses.filter(answered_at__gte=after)
    return Subquery(responses.order_by("-answered_at", "-id").values("answered_at")[:1])


def _row(course: TreatmentCourse) -> Any:
    first = OuterRef("first_dose")
    return (
        queries.annotated_courses(course.clinic)
        .filter(pk=course.pk)
        .annotate(
            phq_base_at=_answered_at(queries.PHQ9, before=first),
            phq_latest_at=_answered_at(queries.PHQ9, after=first),
            gad_base_at=_answered_at(queries.GAD7, before=first),
            gad_latest_at=_answered_at(queries.GAD7, after=first),
        )
        .get()
    )


def _score(total: int | None, at: datetime | None) -> Score | None:
    return None if total is None or at is None else Score(total, at)


def response_judgement(first_dose: datetime | None, baseline: int | None, latest: int | None) -> Judgement:
    met = stats.is_response(baseline, latest)
    reason = ""
    if met is None:
        if first_dose is None:
            reason = NO_DOSE
        elif baseline is None:
            reason = NO_BASELINE
        elif baseline <= 9:
            reason = NOT_ELIGIBLE
        else:
            reason = NO_LATER_SCORE
    return Judgement(met, reason, stats.RESPONSE_SOURCE)


def remission_judgement(first_dose: datetime | None, baseline: int | None, latest: int | None) -> Judgement:
    """Judged only with a baseline, as on the dashboard (a course without one is left out)."""
    if first_dose is None:
        return Judgement(None, NO_DOSE, stats.REMISSION_SOURCE)
    if baseline is None:
        return Judgement(None, NO_BASELINE, stats.REMISSION_SOURCE)
    if latest is None:
        return Judgement(None, NO_LATER_SCORE, stats.REMISSION_SOURCE)
    return Judgement(stats.is_remission(latest), "", stats.REMISSION_SOURCE)


def _sessions(course: TreatmentCourse) -> tuple[SessionMark, ...]:
    sessions = (
        DosingSession.objects.filter(course=course, voided_at__isnull=True)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("number")
    )
    return tuple(
        SessionMark(s.number, s.first_administered_at or s.checked_in_at, s.get_status_display())
        for s in sessions
    )


def _window_start(course: TreatmentCourse, baseline: Score | None) -> datetime:
    """From the baseline (the chart circles its first point as such), else the course's start."""
    if baseline is not None:
        return baseline.at
    return datetime.combine(course.starts_on, time.min, tzinfo=course.clinic.tzinfo)


def _instrument(
    course: TreatmentCourse,
    key: str,
    baseline: Score | None,
    latest: Score | None,
    sessions: tuple[SessionMark, ...],
) -> InstrumentOutcome:
    name = registry.instrument_for(course.clinic, key).short_name
    points = tuple(
        MeasureResponse.objects.filter(
            patient=course.patient,
            instrument_key=key,
            replaced_by__isnull=True,
            voided_at__isnull=True,
            total__isnull=False,
            answered_at__gte=_window_start(course, baseline),
        ).order_by("answered_at", "id")
    )
    rows = []
    for response in points:
        assert response.total is not None
        note = response.band
        if baseline and response.answered_at == baseline.at:
            note = f"baseline; {note}" if note else "baseline"
        elif baseline:
            note = f"{response.total - baseline.total:+d} from baseline" + (f"; {note}" if note else "")
        rows.append(ChartRow(response.answered_at, name, response.total, note))
    rows.extend(ChartRow(s.at, f"Dosing session {s.number} ({s.label})", None, s.status) for s in sessions)
    rows.sort(key=lambda r: r.at)
    return InstrumentOutcome(key, name, baseline, latest, points, tuple(rows))


def course_outcomes(course: TreatmentCourse) -> CourseOutcomes:
    """The course's figures, judgements and chart data (no access check: see the module)."""
    row = _row(course)
    sessions = _sessions(course)
    phq_base = _score(row.phq_base, row.phq_base_at)
    phq_latest = _score(row.phq_latest, row.phq_latest_at)
    return CourseOutcomes(
        course=course,
        first_dose=row.first_dose,
        sessions_held=row.sessions_held,
        phq9=_instrument(course, queries.PHQ9, phq_base, phq_latest, sessions),
        gad7=_instrument(
            course,
            queries.GAD7,
            _score(row.gad_base, row.gad_base_at),
            _score(row.gad_latest, row.gad_latest_at),
            sessions,
        ),
        response=response_judgement(row.first_dose, row.phq_base, row.phq_latest),
        remission=remission_judgement(row.first_dose, row.phq_base, row.phq_latest),
        sessions=sessions,
    )


def _local(at: datetime, course: TreatmentCourse) -> datetime:
    """Naive clinic-local time: matplotlib draws dates in UTC unless told otherwise."""
    return timezone.localtime(at, course.clinic.tzinfo).replace(tzinfo=None)


def chart_svg(outcomes: CourseOutcomes, key: str) -> str:
    """The trajectory of ``key`` over the course with a vertical marker per dosing session."""
    course = outcomes.course
    instrument = registry.instrument_for(course.clinic, key)
    outcome = outcomes.instrument(key)
    points = [Point(_local(r.answered_at, course), r.total) for r in outcome.points if r.total is not None]
    y_max = instrument.max_total or max([p.total for p in points] or [1])
    return trajectory_svg(
        title=f"{instrument.short_name} during the course (dosing sessions marked S1, S2, …)",
        points=points,
        bands=[BandArea(b.low, b.high, b.label) for b in instrument.bands],
        y_max=y_max,
        markers=[(_local(s.at, course), s.label) for s in outcomes.sessions],
    )


@dataclass(frozen=True)
class TimelineRow:
    on: date
    what: str
    status: str


def timeline(course: TreatmentCourse) -> list[TimelineRow]:
    """Visits (kind, date, the status of their note: never its content) and dosing sessions
    (date, status), in date order. Psychotherapy notes are not part of a course's timeline."""
    rows = []
    for visit in Visit.objects.filter(course=course, voided_at__isnull=True).select_related("note"):
        note = getattr(visit, "note", None)
        if note is None:
            status = "no note"
        elif note.status == NoteStatus.SIGNED:
            status = "note signed"
        else:
            status = "note in draft"
        rows.append(TimelineRow(visit.happened_on, f"{visit.get_kind_display()} visit", status))
    for session in DosingSession.objects.filter(course=course, voided_at__isnull=True).order_by("number"):
        day = timezone.localtime(session.first_administered_at or session.checked_in_at, course.clinic.tzinfo)
        rows.append(TimelineRow(day.date(), f"Dosing session {session.number}", session.get_status_display()))
    rows.sort(key=lambda r: r.on)
    return rows


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def summary_pdf(outcomes: CourseOutcomes) -> bytes | None:
    """The patient progress summary as PDF, or None when WeasyPrint cannot be loaded here."""
    weasyprint = _weasyprint()
    if weasyprint is None:
        return None
    course = outcomes.course
    html = render_to_string(
        "outcomes/summary_pdf.html",
        {
            "clinic": course.clinic,
            "patient": course.patient,
            "course": course,
            "outcomes": outcomes,
            "charts": [(i, _data_uri(chart_svg(outcomes, i.key))) for i in outcomes.instruments],
            "timeline": timeline(course),
            "printed_at": timezone.now(),
        },
    )
    data: bytes = weasyprint.HTML(string=html, base_url=None).write_pdf()
    return data
