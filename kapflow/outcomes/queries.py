"""The reports' figures, computed in the database (aggregates, not loops over rows).

Each function takes the clinic and a period [start, end) and answers plain numbers; the pure
``stats`` module turns them into rates with intervals. The course population of a period is
the courses with a first dose given in it.

One figure is read as rows and counted here instead (issue #12, the dashboard under a
second): a course's scores are correlated subqueries, which an aggregate evaluates again for
every filter that names them, so the population is read once (``outcome_rows``) and tallied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Avg,
    Count,
    DateField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate

from kapflow.clinics.models import Clinic
from kapflow.courses.models import TreatmentCourse, Visit, VisitKind
from kapflow.dosing.models import Administration, AdverseEvent, DosingSession, Reading, SessionStatus
from kapflow.measures.models import MeasureRequest, MeasureResponse, RequestStatus

PHQ9, GAD7 = "phq9", "gad7"
ON_TIME = timedelta(days=7)  # a questionnaire answered within a week of its due time is on time


def _score(
    instrument: str, *, before: Any = None, after: Any = None, until: datetime | None = None
) -> Subquery:
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
    if until is not None:
        responses = responses.filter(answered_at__lt=until)
    return Subquery(
        responses.order_by("-answered_at", "-id").values("total")[:1], output_field=IntegerField()
    )


def annotated_courses(clinic: Clinic, *, until: datetime | None = None) -> QuerySet[Any]:
    """Courses with their first dose, baseline and latest PHQ-9/GAD-7, sessions held and largest
    dose per kilogram, all as SQL annotations."""
    sessions = DosingSession.objects.filter(course=OuterRef("pk"), voided_at__isnull=True)
    first_dose = Subquery(
        sessions.filter(first_administered_at__isnull=False)
        .order_by("first_administered_at")
        .values("first_administered_at")[:1]
    )
    held = Subquery(
        sessions.filter(status=SessionStatus.DISCHARGED)
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")[:1],
        output_field=IntegerField(),
    )
    dose = Subquery(
        Administration.objects.filter(
            session__course=OuterRef("pk"),
            session__voided_at__isnull=True,
            voided_at__isnull=True,
            booster=False,
        )
        .values("session__course")
        .annotate(m=Max("mg_per_kg"))
        .values("m")[:1]
    )
    courses = TreatmentCourse.objects.filter(clinic=clinic, voided_at__isnull=True).annotate(
        first_dose=first_dose
    )
    return courses.annotate(
        phq_base=_score(PHQ9, before=OuterRef("first_dose")),
        phq_latest=_score(PHQ9, after=OuterRef("first_dose"), until=until),
        gad_base=_score(GAD7, before=OuterRef("first_dose")),
        gad_latest=_score(GAD7, after=OuterRef("first_dose"), until=until),
        sessions_held=Coalesce(held, Value(0)),
        max_mg_per_kg=dose,
    )


def course_population(clinic: Clinic, start: datetime, end: datetime) -> QuerySet[Any]:
    return annotated_courses(clinic, until=end).filter(first_dose__gte=start, first_dose__lt=end)


@dataclass(frozen=True)
class OutcomeCounts:
    courses: int
    with_baseline: int
    without_baseline: int
    response_eligible: int  # baseline above 9 and a later score
    responders: int
    remission_eligible: int  # baseline and a later score
    remitters: int
    phq_mean_change: float | None
    gad_eligible: int
    gad_mean_change: float | None


SCORES = ("phq_base", "phq_latest", "gad_base", "gad_latest")


def outcome_rows(courses: QuerySet[Any], *columns: str) -> list[dict[str, Any]]:
    """The courses' scores (and ``columns``) in one query, to tally and group in Python."""
    return list(courses.order_by().values(*SCORES, *columns))


def outcome_counts(courses: QuerySet[Any]) -> OutcomeCounts:
    return tally(outcome_rows(courses))


def tally(rows: Iterable[Mapping[str, Any]]) -> OutcomeCounts:
    """Response, remission and mean change of courses read by ``outcome_rows``."""
    courses = with_baseline = response_eligible = responders = remitters = 0
    phq_changes: list[int] = []  # of the courses with a baseline and a later score
    gad_changes: list[int] = []
    for row in rows:
        courses += 1
        base, latest = row["phq_base"], row["phq_latest"]
        if base is not None:
            with_baseline += 1
        if base is not None and latest is not None:
            phq_changes.append(latest - base)
            if latest < 5:
                remitters += 1
            if base > 9:
                response_eligible += 1
                if latest * 2 <= base:
                    responders += 1
        if row["gad_base"] is not None and row["gad_latest"] is not None:
            gad_changes.append(row["gad_latest"] - row["gad_base"])
    return OutcomeCounts(
        courses=courses,
        with_baseline=with_baseline,
        without_baseline=courses - with_baseline,
        response_eligible=response_eligible,
        responders=responders,
        remission_eligible=len(phq_changes),
        remitters=remitters,
        phq_mean_change=sum(phq_changes) / len(phq_changes) if phq_changes else None,
        gad_eligible=len(gad_changes),
        gad_mean_change=sum(gad_changes) / len(gad_changes) if gad_changes else None,
    )


def sessions_in(clinic: Clinic, start: datetime, end: datetime) -> QuerySet[DosingSession]:
    return DosingSession.objects.filter(
        clinic=clinic, voided_at__isnull=True, first_administered_at__gte=start, first_administered_at__lt=end
    )


def events_by_kind(clinic: Clinic, start: datetime, end: datetime) -> dict[str, int]:
    rows = (
        AdverseEvent.objects.filter(session__in=sessions_in(clinic, start, end), voided_at__isnull=True)
        .values("kind")
        .annotate(n=Count("pk"))
    )
    return {row["kind"]: row["n"] for row in rows}


def serious_events(clinic: Clinic, start: datetime, end: datetime) -> int:
    return AdverseEvent.objects.filter(
        session__in=sessions_in(clinic, start, end), voided_at__isnull=True, serious=True
    ).count()


def bp_breaches(clinic: Clinic, start: datetime, end: datetime) -> dict[str, int]:
    """Sessions with a blood-pressure reading past a caution level / a hard stop (any phase)."""
    readings = Reading.objects.filter(session=OuterRef("pk"), kind="vitals", voided_at__isnull=True).exclude(
        breaches=[]
    )
    sessions = sessions_in(clinic, start, end)
    return sessions.aggregate(
        sessions=Count("pk"),
        caution=Count("pk", filter=Exists(readings.filter(_bp_breach("caution")))),
        hard_stop=Count("pk", filter=Exists(readings.filter(_bp_breach("hard_stop")))),
    )


def _bp_breach(level: str) -> Q:
    """A stored breach of systolic or diastolic pressure at ``level``. The reading's own level is
    its worst breach of any limit (a heart-rate hard stop beside a systolic caution), so the level
    is matched inside the breach. Text search in the stored JSON: SQLite keeps the keys as written
    ({"limit": ..., "level": ...}), PostgreSQL's jsonb puts "level" before "limit"."""
    found = Q()
    for limit in ("systolic", "diastolic"):
        found |= Q(breaches__icontains=f'"limit": "{limit}", "level": "{level}"')
        found |= Q(breaches__icontains=f'"level": "{level}", "limit": "{limit}"')
    return found


def discharge_minutes_by_route(clinic: Clinic, start: datetime, end: datetime) -> list[dict[str, Any]]:
    elapsed = ExpressionWrapper(F("discharged_at") - F("first_administered_at"), output_field=DurationField())
    rows = (
        sessions_in(clinic, start, end)
        .filter(status=SessionStatus.DISCHARGED)
        .values("route")
        .annotate(n=Count("pk"), mean=Avg(elapsed), shortest=Min(elapsed), longest=Max(elapsed))
        .order_by("route")
    )
    return [
        {
            "route": r["route"],
            "n": r["n"],
            "mean": _minutes(r["mean"]),
            "shortest": _minutes(r["shortest"]),
            "longest": _minutes(r["longest"]),
        }
        for r in rows
    ]


def _minutes(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 60
    return float(value) / 60_000_000  # SQLite hands back microseconds


def integration_on_time(clinic: Clinic, start: datetime, end: datetime) -> dict[str, int]:
    """Discharged sessions of the period, and those with an integration visit of their course
    on the session's local day or within the clinic's due days after it."""
    zone = ZoneInfo(clinic.time_zone)
    due = Value(timedelta(days=clinic.integration_due_days), output_field=DurationField())
    checked_in = ExpressionWrapper(OuterRef("checked_in_at"), output_field=DateTimeField())
    session_day = TruncDate(checked_in, tzinfo=zone)
    # Days added to the local date, not hours to the moment: across a daylight-saving change
    # 72 hours after 23:30 is not three days later on the calendar.
    last = ExpressionWrapper(session_day + due, output_field=DateField())
    # Worked out in the lookup only, where the visits' index bounds it once per session (on
    # SQLite each day is a Python function call: not selected, not compared per visit).
    visit = Visit.objects.filter(
        course=OuterRef("course"),
        kind=VisitKind.INTEGRATION,
        voided_at__isnull=True,
        happened_on__gte=session_day,
        happened_on__lte=last,
    )
    sessions = sessions_in(clinic, start, end).filter(status=SessionStatus.DISCHARGED)
    return sessions.aggregate(sessions=Count("pk"), on_time=Count("pk", filter=Exists(visit)))


def measures_on_time(clinic: Clinic, start: datetime, end: datetime) -> dict[str, int]:
    """Questionnaires due in the period: answered, and answered within a week of due."""
    answered_soon = MeasureResponse.objects.filter(
        request=OuterRef("pk"),
        answered_at__lte=OuterRef("due_at") + Value(ON_TIME, output_field=DurationField()),
    )
    requests = MeasureRequest.objects.filter(clinic=clinic, due_at__gte=start, due_at__lt=end).exclude(
        status=RequestStatus.CANCELLED
    )
    return requests.aggregate(
        due=Count("pk"),
        completed=Count("pk", filter=Q(status=RequestStatus.COMPLETED)),
        on_time=Count("pk", filter=Exists(answered_soon)),
    )


def dose_value(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
