"""The outcomes downloads as rows: the dashboard's tables, and the de-identified research export.

The research export has one row per questionnaire response and per dosing session of the
period's courses (``queries.course_population``). It carries no direct identifier: patients
and courses appear as pseudonyms (HMAC-SHA256 of the primary key under the project's secret
key, 12 hex characters: stable between exports, not reversible without the key); the age is
a ten-year band at the start of the course; dates are moved by a per-patient offset of
-182..+182 days (never 0) derived from the same HMAC, so the intervals within a patient are
kept but no date is real. No names, contact details, record numbers, exact dates or times,
free text, public ids or staff appear, and nothing from psychotherapy notes is read.

A course's responses are its patient's current (not replaced, not voided) answers from 90 days
before the course starts until the end of the period; a session's dose is the session's total
(first dose and boosters), in mg and, when every dose had a weight, in mg/kg.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Q, Sum
from django.utils.crypto import salted_hmac

from kapflow.clinics.models import Clinic
from kapflow.dosing.models import AdverseEvent, DosingSession, EventKind
from kapflow.measures.models import MeasureResponse
from kapflow.outcomes import queries, stats
from kapflow.outcomes.dashboard import Dashboard
from kapflow.patients.models import SexAtBirth

PATIENT_LABEL = "kapflow.outcomes.research.patient"
COURSE_LABEL = "kapflow.outcomes.research.course"
MAX_SHIFT_DAYS = 182
# Responses from this long before a course starts belong to it (the baseline questionnaires).
BASELINE_WINDOW = timedelta(days=90)

# --- cells --------------------------------------------------------------------------------------
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?%?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A value as a spreadsheet cell: numbers as written, and text that starts like a formula
    quoted with a leading apostrophe so it is shown, never run (as in the ledger CSV)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    if _NUMBER.fullmatch(text):
        return text
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


# --- the dashboard as CSV rows ------------------------------------------------------------------
def dashboard_rows(board: Dashboard, first: date, last: date) -> list[list[str]]:
    """A short heading, then each table: its title, its column headings, its rows, its note;
    a blank line between tables."""
    rows: list[list[str]] = [
        ["Outcomes and safety", cell(board.clinic.name)],
        ["From", f"{first:%Y-%m-%d}", "Until (inclusive)", f"{last:%Y-%m-%d}"],
        [f'Groups of fewer than {board.minimum} are shown as "too few to report".'],
    ]
    for table in board.tables:
        rows.append([])
        rows.append([cell(table.title)])
        rows.append([cell(c) for c in table.columns])
        rows.extend([cell(v) for v in row] for row in table.rows)
        if table.note:
            rows.append([cell(table.note)])
    return rows


# --- pseudonyms and shifted dates ---------------------------------------------------------------
def _digest(label: str, pk: int) -> bytes:
    return salted_hmac(label, str(pk), algorithm="sha256").digest()


def pseudonym(label: str, pk: int) -> str:
    return _digest(label, pk).hex()[:12]


def patient_pseudonym(patient_pk: int) -> str:
    return pseudonym(PATIENT_LABEL, patient_pk)


def course_pseudonym(course_pk: int) -> str:
    return pseudonym(COURSE_LABEL, course_pk)


def shift_days(patient_pk: int) -> int:
    """The patient's date offset: -182..-1 or 1..182 days, from bytes of the HMAC that the
    pseudonym does not show."""
    n = int.from_bytes(_digest(PATIENT_LABEL, patient_pk)[16:24], "big") % (2 * MAX_SHIFT_DAYS)
    return n - MAX_SHIFT_DAYS if n < MAX_SHIFT_DAYS else n - MAX_SHIFT_DAYS + 1


def shifted(day: date, patient_pk: int) -> date:
    return day + timedelta(days=shift_days(patient_pk))


# --- the research export ------------------------------------------------------------------------
EVENT_KINDS = tuple(kind.value for kind in EventKind)
COURSE_COLUMNS = (
    "row_type",
    "patient",
    "course",
    "age_band_at_course_start",
    "sex_at_birth",
    "route",
    "course_status",
    "planned_sessions",
    "days_from_first_dose",
    "shifted_date",
)
RESPONSE_COLUMNS = ("instrument", "total", "band")
SESSION_COLUMNS = (
    "session_number",
    "session_status",
    "dose_mg",
    "mg_per_kg",
    "boosters",
    "minutes_to_discharge",
    *(f"events_{kind}" for kind in EVENT_KINDS),
    "events_serious",
)
RESEARCH_COLUMNS = COURSE_COLUMNS + RESPONSE_COLUMNS + SESSION_COLUMNS


@dataclass(frozen=True)
class Research:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    courses: int


def _days_from(first_dose: datetime | None, at: datetime) -> int | None:
    """Whole days from the course's first dose (negative before it; floor, so an answer an
    hour before the dose is day -1)."""
    if first_dose is None:
        return None
    return (at - first_dose) // timedelta(days=1)


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() // 60)


def _sex(value: str) -> str:
    return "" if value == SexAtBirth.UNKNOWN else value


def research(clinic: Clinic, start: datetime, end: datetime) -> Research:
    """The de-identified rows of the period's courses, sorted by pseudonym and day."""
    zone = clinic.tzinfo
    courses = list(queries.course_population(clinic, start, end).select_related("patient"))
    by_patient: dict[int, list[Any]] = {}
    for course in courses:
        by_patient.setdefault(course.patient_id, []).append(course)

    rows: list[tuple[Any, ...]] = []
    blank_responses = (None,) * len(RESPONSE_COLUMNS)
    blank_sessions = (None,) * len(SESSION_COLUMNS)

    def course_part(course: Any, at: datetime) -> tuple[Any, ...]:
        patient = course.patient
        return (
            patient_pseudonym(patient.pk),
            course_pseudonym(course.pk),
            stats.age_band(patient.age_on(course.starts_on)),
            _sex(patient.sex_at_birth),
            course.route,
            course.status,
            course.planned_dosing_sessions,
            _days_from(course.first_dose, at),
            shifted(at.astimezone(zone).date(), patient.pk),
        )

    responses = (
        MeasureResponse.objects.filter(
            clinic=clinic,
            patient_id__in=by_patient,
            voided_at__isnull=True,
            replaced_by__isnull=True,
            answered_at__lt=end,
        )
        .order_by("answered_at", "id")
        .values_list("patient_id", "instrument_key", "total", "band", "answered_at")
    )
    for patient_id, instrument, total, band, answered_at in responses:
        for course in by_patient[patient_id]:
            window_start = datetime.combine(course.starts_on, datetime.min.time(), zone) - BASELINE_WINDOW
            if answered_at >= window_start:
                rows.append(
                    ("response", *course_part(course, answered_at), instrument, total, band, *blank_sessions)
                )

    sessions = (
        DosingSession.objects.filter(
            course__in=[c.pk for c in courses], voided_at__isnull=True, checked_in_at__lt=end
        )
        .annotate(
            dose_mg=Sum("administrations__dose_mg", filter=Q(administrations__voided_at__isnull=True)),
            mg_per_kg=Sum("administrations__mg_per_kg", filter=Q(administrations__voided_at__isnull=True)),
            doses=Count("administrations", filter=Q(administrations__voided_at__isnull=True), distinct=True),
            weighed=Count(
                "administrations",
                filter=Q(administrations__voided_at__isnull=True, administrations__mg_per_kg__isnull=False),
                distinct=True,
            ),
            boosters=Count(
                "administrations",
                filter=Q(administrations__voided_at__isnull=True, administrations__booster=True),
                distinct=True,
            ),
            first_given=Min("administrations__started_at", filter=Q(administrations__voided_at__isnull=True)),
        )
        .order_by("course_id", "number")
    )
    # Aggregates over two joins would multiply each other: the events are counted apart.
    event_counts = _event_counts([s.pk for s in sessions])
    course_by_pk = {c.pk: c for c in courses}
    for session in sessions:
        course = course_by_pk[session.course_id]
        at = session.first_administered_at or session.first_given or session.checked_in_at
        counts = event_counts.get(session.pk, {})
        rows.append(
            (
                "session",
                *course_part(course, at),
                *blank_responses,
                session.number,
                session.status,
                _amount(session.dose_mg),
                _amount(session.mg_per_kg) if session.doses and session.weighed == session.doses else None,
                session.boosters,
                _minutes(session.first_administered_at, session.discharged_at),
                *(counts.get(kind, 0) for kind in EVENT_KINDS),
                counts.get("serious", 0),
            )
        )
    rows.sort(key=_order)
    return Research(columns=RESEARCH_COLUMNS, rows=rows, courses=len(courses))


def _event_counts(session_pks: Sequence[int]) -> dict[int, dict[str, int]]:
    """Adverse events (not voided) per session: by kind, and the serious ones."""
    found: dict[int, dict[str, int]] = {}
    rows = (
        AdverseEvent.objects.filter(session_id__in=session_pks, voided_at__isnull=True)
        .values("session_id", "kind")
        .annotate(n=Count("pk"), serious=Count("pk", filter=Q(serious=True)))
    )
    for row in rows:
        counts = found.setdefault(row["session_id"], {})
        counts[row["kind"]] = counts.get(row["kind"], 0) + row["n"]
        counts["serious"] = counts.get("serious", 0) + row["serious"]
    return found


def _amount(value: Any) -> str | None:
    if value is None:
        return None
    return f"{Decimal(str(value)).normalize():f}"


_AT = {name: index for index, name in enumerate(RESEARCH_COLUMNS)}


def _order(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """By pseudonym, then in time (never by database order, which would tell the order of entry)."""
    days = row[_AT["days_from_first_dose"]]
    return (
        row[_AT["patient"]],
        row[_AT["course"]],
        row[_AT["shifted_date"]],
        days if days is not None else 0,
        row[_AT["row_type"]],
        row[_AT["instrument"]] or "",
        row[_AT["total"]] if row[_AT["total"]] is not None else -1,
        row[_AT["session_number"]] or 0,
    )


def research_rows(result: Research) -> Iterable[list[str]]:
    yield list(result.columns)
    for row in result.rows:
        yield [cell(f"{v:%Y-%m-%d}" if isinstance(v, date) else v) for v in row]
