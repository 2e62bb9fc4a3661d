"""The reports' figures, computed in the database (aggregates, not loops over rows).

Each function takes the clinic and a period [start, end) and answers plain numbers; the pure
``stats`` module turns them into rates with intervals. The course population of a period is
the courses with a first dose given in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Avg,
    Count,
    DateField,
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


def outcome_counts(courses: QuerySet[Any]) -> OutcomeCounts:
    both = Q(phq_base__isnull=False, phq_latest__isnull=False)
    gad_both = Q(gad_base__isnull=False, gad_latest__isnull=False)
    totals = courses.annotate(
        phq_change=F("phq_latest") - F("phq_base"),
        phq_latest_twice=F("phq_latest") * 2,
        gad_change=F("gad_latest") - F("gad_base"),
    ).aggregate(
        courses=Count("pk"),
        with_baseline=Count("pk", filter=Q(phq_base__isnull=False)),
        response_eligible=Count("pk", filter=both & Q(phq_base__gt=9)),
        responders=Count("pk", filter=both & Q(phq_base__gt=9, phq_latest_twice__lte=F("phq_base"))),
        remission_eligible=Count("pk", filter=both),
        remitters=Count("pk", filter=both & Q(phq_latest__lt=5)),
        phq_mean_change=Avg("phq_change", filter=both),
        gad_eligible=Count("pk", filter=gad_both),
        gad_mean_change=Avg("gad_change", filter=gad_both),
    )
    return OutcomeCounts(
        courses=totals["courses"],
        with_baseline=totals["with_baseline"],
        without_baseline=totals["courses"] - totals["with_baseline"],
        response_eligible=totals["response_eligible"],
        responders=totals["responders"],
        remission_eligible=totals["remission_eligible"],
        remitters=totals["remitters"],
        phq_mean_change=float(totals["phq_mean_change"]) if totals["phq_mean_change"] is not None else None,
        gad_eligible=totals["gad_eligible"],
        gad_mean_change=float(totals["gad_mean_change"]) if totals["gad_mean_change"] is not None else None,
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
    # Days added to the local date, not hours to the moment: across a daylight-saving change
    # 72 hours after 23:30 is not three days later on the calendar.
    last = ExpressionWrapper(F("session_day") + due, output_field=DateField())
    visit = Visit.objects.filter(
        course=OuterRef("course"),
        kind=VisitKind.INTEGRATION,
        voided_at__isnull=True,
        happened_on__gte=OuterRef("session_day"),
        happened_on__lte=OuterRef("due_day"),
    )
    sessions = (
        sessions_in(clinic, start, end)
        .filter(status=SessionStatus.DISCHARGED)
        .annotate(session_day=TruncDate("checked_in_at", tzinfo=zone))
        .annotate(due_day=last)
        .annotate(integrated=Exists(visit))
    )
    return sessions.aggregate(sessions=Count("pk"), on_time=Count("pk", filter=Q(integrated=True)))


def measures_on_time(clinic: Clinic, start: datetime, end: datetime) -> dict[str, int]:
    """Questionnaires due in the period: answered, and answered within a week of due."""
    answered_soon = MeasureResponse.objects.filter(
        request=OuterRef("pk"),
        answered_at__lte=F("request__due_at") + Value(ON_TIME, output_field=DurationField()),
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
