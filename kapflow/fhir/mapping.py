"""kapflow as FHIR R4: which rows give which resources, for read, search and bulk export.

The contract the read views and ``$export`` share:

- ``RESOURCE_TYPES``: the patient-data types kapflow emits (and Questionnaire).
- ``to_<type>(row, ...)`` builders (``kapflow.fhir.builders``, ``kapflow.fhir.observations``),
  re-exported here.
- ``patient_resources(resource_type, clinic, patients)``: every resource of a type for those
  patients, streamed (``iterator(chunk_size=...)``) with the related rows loaded per chunk, so
  memory stays flat and the number of queries does not grow with the rows.
- ``resource(resource_type, clinic, id)``: one resource and its patient, or ``NotFound``.
- ``sources(resource_type)``, ``count`` and ``page``: the same rows for a searchset.
- ``group_patients`` / ``to_group`` / ``group_resource``: course cohorts ("cohort-YYYY-MM").

Each resource comes from exactly one row of one *source* (a queryset and a builder), so a
search can count and page in SQL. Access is not checked here: the callers pass the patients
the member may see (``kapflow.patients.selectors``). Psychotherapy notes have no source.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Model, Prefetch, Q, QuerySet

from kapflow.accounts.models import User
from kapflow.clinics.models import Clinic
from kapflow.consent.models import ConsentSignature
from kapflow.courses.models import TreatmentCourse, Visit, VisitKind
from kapflow.dosing.models import Administration, AdverseEvent, DosingSession, Reading, ReadingKind
from kapflow.fhir.builders import (
    Resource,
    questionnaire_id,
    to_adverse_event,
    to_consent,
    to_episode_of_care,
    to_group,
    to_medication_administration,
    to_patient,
    to_questionnaire,
    to_questionnaire_response,
    to_screening_encounter,
    to_session_encounter,
    to_visit_encounter,
)
from kapflow.fhir.observations import (
    to_reading_observation,
    to_score_observation,
    to_screening_observation,
    to_session_weight_observation,
)
from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import parse_definition
from kapflow.measures.instruments.model import DefinitionError, Instrument
from kapflow.measures.models import ClinicInstrument, MeasureResponse
from kapflow.measures.registry import available
from kapflow.patients.models import Patient
from kapflow.screening.models import MedicalScreening

__all__ = [
    "CHUNK",
    "RESOURCE_TYPES",
    "Instruments",
    "Narrow",
    "NotFound",
    "Resource",
    "Source",
    "count",
    "group_name",
    "group_patients",
    "group_resource",
    "group_resources",
    "instruments",
    "page",
    "patient_resources",
    "questionnaires",
    "resource",
    "sources",
    "to_adverse_event",
    "to_consent",
    "to_episode_of_care",
    "to_group",
    "to_medication_administration",
    "to_patient",
    "to_questionnaire",
    "to_questionnaire_response",
    "to_reading_observation",
    "to_score_observation",
    "to_screening_encounter",
    "to_screening_observation",
    "to_session_encounter",
    "to_session_weight_observation",
    "to_visit_encounter",
]

RESOURCE_TYPES: tuple[str, ...] = (
    "Patient",
    "EpisodeOfCare",
    "Encounter",
    "Questionnaire",
    "QuestionnaireResponse",
    "Observation",
    "MedicationAdministration",
    "Consent",
    "AdverseEvent",
)
CHUNK = 500
GROUP_ID = re.compile(r"^cohort-(\d{4})-(\d{2})$")
VISIT_KINDS = (
    VisitKind.PREPARATION,
    VisitKind.INTEGRATION,
    VisitKind.FOLLOW_UP,
)  # a dosing visit is the guide's note


class NotFound(LookupError):
    """No resource of that type and id in this clinic."""


class Instruments:
    """Every instrument version a clinic's responses may name (built-in and uploaded), read once."""

    def __init__(self, clinic: Clinic) -> None:
        self.clinic = clinic
        self._found: dict[tuple[str, str], Instrument] | None = None

    def get(self, key: str, version: str) -> Instrument | None:
        if self._found is None:
            self._found = {(i.key, i.version): i for i in BUILT_IN.values()}
            for row in ClinicInstrument.objects.filter(clinic=self.clinic).order_by("uploaded_at"):
                try:
                    instrument = parse_definition(row.definition)
                except DefinitionError:
                    continue
                self._found[(instrument.key, instrument.version)] = instrument
        return self._found.get((key, version))


def instruments(clinic: Clinic) -> Instruments:
    return Instruments(clinic)


@dataclass(frozen=True)
class Source:
    """One kind of row giving one resource each. ``suffix`` is added to the row's public id
    for rows that give several resources of one type (a set of vitals: "-bp", "-hr"...)."""

    resource_type: str
    suffix: str
    model: type[Model]
    rows: Callable[[Clinic, QuerySet[Patient]], QuerySet[Any]]
    build: Callable[[Any, Clinic, Instruments], Resource]


# The columns the builders read, besides each row's public id, version, update time and its
# patient's public id: nothing else is loaded, so a resource costs what it shows (issue #12:
# unread columns and whole related rows were most of an export's time). A builder reading a
# column not named here would query once per row (tests/fhir/test_mapping.py makes sure not).
RECORD = ("public_id", "version", "updated_at", "patient__public_id")
STAFF = ("full_name", "email")  # what str(user) reads


def _staff(relation: str) -> tuple[str, ...]:
    return tuple(f"{relation}__{name}" for name in STAFF)


def _of(model: type[Model], clinic: Clinic, patients: QuerySet[Patient], *read: str) -> QuerySet[Any]:
    """The clinic's rows of ``patients`` (not voided) by primary key, loading only the columns
    ``read`` names; ``relation__column`` loads that relation with the row."""
    related = {name.split("__")[0] for name in read if "__" in name}
    return (
        model._default_manager.filter(clinic=clinic, patient__in=patients, voided_at__isnull=True)
        .select_related("patient", *sorted(related))
        .only(*RECORD, *read)
        .order_by("pk")
    )


def _patients(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    return patients.filter(clinic=clinic).order_by("pk")


def _courses(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    staff = User.objects.only(*STAFF)
    return _of(
        TreatmentCourse, clinic, patients, "status", "route", "starts_on", "ended_on"
    ).prefetch_related(Prefetch("therapists", queryset=staff), Prefetch("medical_staff", queryset=staff))


def _screenings(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    vitals = ("systolic", "diastolic", "heart_rate", "weight_kg", "height_cm", "bmi")
    return _of(MedicalScreening, clinic, patients, "created_at", *vitals, *_staff("created_by"))


def _visits(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    read = ("kind", "happened_on", "course__public_id", *_staff("staff"))
    return _of(Visit, clinic, patients, *read).filter(kind__in=VISIT_KINDS)


def _sessions(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    read = ("status", "number", "route", "checked_in_at", "discharged_at", "course__public_id", "room__name")
    return _of(DosingSession, clinic, patients, *read)


def _responses(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    instrument = ("instrument_key", "instrument_version", "instrument_name")
    read = (*instrument, "answers", "total", "band", "answered_at", "source", "replaces", "replaced_by__id")
    return _of(MeasureResponse, clinic, patients, *read, *_staff("created_by"))


def _scores(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    return _responses(clinic, patients).defer("answers").filter(total__isnull=False)


def _readings(kind: str, *present: str) -> Callable[[Clinic, QuerySet[Patient]], QuerySet[Any]]:
    values = ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate", "moaas", "score")

    def rows(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
        read = ("kind", "taken_at", *values, "session__public_id", *_staff("recorded_by"))
        found = _of(Reading, clinic, patients, *read).filter(kind=kind)
        return found.filter(**{f"{field}__isnull": False for field in present})

    return rows


def _weighed_sessions(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    read = ("weight_kg", "weight_at", "checked_in_at")
    return _of(DosingSession, clinic, patients, *read).filter(weight_kg__isnull=False)


def _administrations(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    dose = ("drug", "route", "dose_mg", "mg_per_kg", "started_at", "ended_at")
    return _of(Administration, clinic, patients, *dose, "session__public_id", *_staff("administered_by"))


def _consents(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    template = ("template__title", "template__version")
    read = ("signed_at", "pdf_sha256", *template, "witness__witnessed_at", "withdrawal__withdrawn_at")
    return _of(ConsentSignature, clinic, patients, *read)


def _events(clinic: Clinic, patients: QuerySet[Patient]) -> QuerySet[Any]:
    doses = Prefetch(
        "session__administrations",
        queryset=Administration.objects.filter(voided_at__isnull=True).only(
            "public_id", "started_at", "session"
        ),
    )
    read = ("kind", "description", "severity", "serious", "outcome", "occurred_at", "created_at")
    return _of(
        AdverseEvent, clinic, patients, *read, "session__public_id", *_staff("recorded_by")
    ).prefetch_related(doses)


def _reading_source(suffix: str, kind: str, *present: str) -> Source:
    return Source(
        "Observation",
        suffix,
        Reading,
        _readings(kind, *present),
        lambda row, c, i: to_reading_observation(row, suffix),
    )


def _screening_source(suffix: str) -> Source:
    return Source(
        "Observation",
        suffix,
        MedicalScreening,
        _screenings,
        lambda row, c, i: to_screening_observation(row, suffix),
    )


SOURCES: dict[str, tuple[Source, ...]] = {
    "Patient": (Source("Patient", "", Patient, _patients, lambda row, c, i: to_patient(row, c)),),
    "EpisodeOfCare": (
        Source("EpisodeOfCare", "", TreatmentCourse, _courses, lambda row, c, i: to_episode_of_care(row)),
    ),
    "Encounter": (
        Source("Encounter", "", MedicalScreening, _screenings, lambda row, c, i: to_screening_encounter(row)),
        Source("Encounter", "", Visit, _visits, lambda row, c, i: to_visit_encounter(row)),
        Source("Encounter", "", DosingSession, _sessions, lambda row, c, i: to_session_encounter(row)),
    ),
    "QuestionnaireResponse": (
        Source(
            "QuestionnaireResponse",
            "",
            MeasureResponse,
            _responses,
            lambda row, c, i: to_questionnaire_response(
                row, i.get(row.instrument_key, row.instrument_version), c
            ),
        ),
    ),
    "Observation": (
        Source(
            "Observation",
            "total",
            MeasureResponse,
            _scores,
            lambda row, c, i: to_score_observation(row, i.get(row.instrument_key, row.instrument_version)),
        ),
        _reading_source("bp", ReadingKind.VITALS, "systolic", "diastolic"),
        _reading_source("hr", ReadingKind.VITALS, "heart_rate"),
        _reading_source("spo2", ReadingKind.VITALS, "spo2"),
        _reading_source("rr", ReadingKind.VITALS, "respiratory_rate"),
        _reading_source("moaas", ReadingKind.MOAAS, "moaas"),
        _reading_source("dissociation", ReadingKind.DISSOCIATION, "score"),
        Source(
            "Observation",
            "weight",
            DosingSession,
            _weighed_sessions,
            lambda row, c, i: to_session_weight_observation(row),
        ),
        *(_screening_source(suffix) for suffix in ("bp", "hr", "weight", "height", "bmi")),
    ),
    "MedicationAdministration": (
        Source(
            "MedicationAdministration",
            "",
            Administration,
            _administrations,
            lambda row, c, i: to_medication_administration(row),
        ),
    ),
    "Consent": (Source("Consent", "", ConsentSignature, _consents, lambda row, c, i: to_consent(row, c)),),
    "AdverseEvent": (
        Source("AdverseEvent", "", AdverseEvent, _events, lambda row, c, i: to_adverse_event(row)),
    ),
}


def sources(resource_type: str) -> tuple[Source, ...]:
    """The sources of a patient-data type (``KeyError`` for Questionnaire or an unknown type)."""
    return SOURCES[resource_type]


def questionnaires(clinic: Clinic) -> list[Resource]:
    """The clinic's instruments (built-in and its active uploads), newest version of each."""
    return [to_questionnaire(instrument, clinic) for instrument in available(clinic)]


def patient_resources(resource_type: str, clinic: Clinic, patients: QuerySet[Patient]) -> Iterator[Resource]:
    """Every resource of ``resource_type`` for ``patients`` (Questionnaire: the clinic's
    instruments, whoever the patients are), streamed in chunks of ``CHUNK`` rows."""
    if resource_type == "Questionnaire":
        yield from questionnaires(clinic)
        return
    known = instruments(clinic)
    for source in sources(resource_type):
        for row in source.rows(clinic, patients).iterator(chunk_size=CHUNK):
            yield source.build(row, clinic, known)


# Narrows a source's rows for a search (``None``: the source has nothing that matches).
Narrow = Callable[[Source, QuerySet[Any]], QuerySet[Any] | None]


def _searched(
    resource_type: str, clinic: Clinic, patients: QuerySet[Patient], narrow: Narrow | None
) -> Iterator[tuple[Source, QuerySet[Any]]]:
    for source in sources(resource_type):
        rows: QuerySet[Any] | None = source.rows(clinic, patients)
        if narrow is not None and rows is not None:
            rows = narrow(source, rows)
        if rows is not None:
            yield source, rows


def count(
    resource_type: str, clinic: Clinic, patients: QuerySet[Patient], narrow: Narrow | None = None
) -> int:
    return sum(rows.count() for _source, rows in _searched(resource_type, clinic, patients, narrow))


def page(
    resource_type: str,
    clinic: Clinic,
    patients: QuerySet[Patient],
    *,
    offset: int,
    limit: int,
    narrow: Narrow | None = None,
) -> list[Resource]:
    """Resources ``offset`` .. ``offset + limit`` of the type's sources taken one after another."""
    known = instruments(clinic)
    found: list[Resource] = []
    for source, rows in _searched(resource_type, clinic, patients, narrow):
        if len(found) >= limit:
            break
        size = rows.count()
        if offset >= size:
            offset -= size
            continue
        for row in rows[offset : offset + limit - len(found)]:
            found.append(source.build(row, clinic, known))
        offset = 0
    return found


def _split(resource_type: str, resource_id: str) -> tuple[uuid.UUID, str]:
    try:
        public_id = uuid.UUID(resource_id[:36])
    except ValueError:
        raise NotFound(resource_id) from None
    rest = resource_id[36:]
    if rest and not rest.startswith("-"):
        raise NotFound(resource_id)
    return public_id, rest[1:]


def resource(resource_type: str, clinic: Clinic, resource_id: str) -> tuple[Resource, Patient | None]:
    """The resource with this id in ``clinic`` and the patient it belongs to (``None`` for a
    Questionnaire); ``NotFound`` when the clinic has none (another clinic's id included)."""
    if resource_type == "Questionnaire":
        for instrument in available(clinic):
            if questionnaire_id(instrument) == resource_id:
                return to_questionnaire(instrument, clinic), None
        raise NotFound(resource_id)
    if resource_type not in SOURCES:
        raise NotFound(resource_type)
    public_id, suffix = _split(resource_type, resource_id)
    everyone = Patient.objects.filter(clinic=clinic)
    for source in sources(resource_type):
        if source.suffix != suffix:
            continue
        row = source.rows(clinic, everyone).filter(public_id=public_id).first()
        if row is not None:
            patient = row if resource_type == "Patient" else row.patient
            return source.build(row, clinic, instruments(clinic)), patient
    raise NotFound(resource_id)


def owner_elsewhere(resource_type: str, resource_id: str) -> Patient | None:
    """The patient (of any clinic) whose record has this id, to name in a denied access entry."""
    try:
        public_id = _split(resource_type, resource_id)[0]
    except NotFound:
        return None
    for source in SOURCES.get(resource_type, ()):
        row: Any = source.model._default_manager.filter(public_id=public_id).first()
        if row is not None:
            return row if isinstance(row, Patient) else row.patient
    return None


# --- Groups: course cohorts ---------------------------------------------------------------------
def _month(group_id: str) -> tuple[date, date | None]:
    """The first day of the cohort's month and of the next (``None`` after December 9999)."""
    match = GROUP_ID.match(group_id)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise NotFound(group_id)
    try:
        start = date(int(match[1]), int(match[2]), 1)
    except ValueError:  # year 0000
        raise NotFound(group_id) from None
    if start.year == date.max.year and start.month == 12:
        return start, None
    return start, date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def group_name(group_id: str) -> str:
    start, _end = _month(group_id)
    return f"Patients whose treatment course started in {start:%B %Y}"


def group_patients(clinic: Clinic, group_id: str) -> QuerySet[Patient]:
    """The patients of ``clinic`` with a (not voided) treatment course that started in the
    month named by ``group_id`` ("cohort-YYYY-MM"); ``NotFound`` for a malformed id."""
    start, end = _month(group_id)
    started = Q(courses__starts_on__gte=start, courses__voided_at__isnull=True)
    if end is not None:
        started &= Q(courses__starts_on__lt=end)
    ids = Patient.objects.filter(started, clinic=clinic, voided_at__isnull=True).values("pk")
    return Patient.objects.filter(pk__in=ids).order_by("pk")


def group_resource(clinic: Clinic, group_id: str, patients: QuerySet[Patient]) -> Resource:
    """The cohort as a Group listing those of its members that are in ``patients``."""
    return group_resources(clinic, [group_id], patients)[0]


def group_resources(clinic: Clinic, group_ids: Sequence[str], patients: QuerySet[Patient]) -> list[Resource]:
    """Several cohorts as Groups, each listing those of its members that are in ``patients``,
    in two queries however many cohorts (``group_patients``, for a page of them at once)."""
    months = {group_id: _month(group_id) for group_id in group_ids}
    in_any_month = Q(pk__in=[])
    for start, end in months.values():
        in_any_month |= Q(starts_on__gte=start, starts_on__lt=end) if end else Q(starts_on__gte=start)
    courses = (
        TreatmentCourse.objects.filter(
            in_any_month,
            clinic=clinic,
            voided_at__isnull=True,
            patient__clinic=clinic,
            patient__voided_at__isnull=True,
            patient__in=patients.values("pk"),
        )
        .values_list("patient_id", "starts_on")
        .order_by("patient_id")
    )
    members: dict[str, list[int]] = {group_id: [] for group_id in group_ids}
    for patient_id, starts_on in courses:
        for group_id, (start, end) in months.items():
            if (
                start <= starts_on
                and (end is None or starts_on < end)
                and patient_id not in members[group_id]
            ):
                members[group_id].append(patient_id)
    wanted = {pk for found in members.values() for pk in found}
    by_pk = {p.pk: p for p in Patient.objects.filter(pk__in=wanted).only("public_id")} if wanted else {}
    return [
        to_group(group_id, group_name(group_id), [by_pk[pk] for pk in members[group_id]])
        for group_id in group_ids
    ]


def group_ids(clinic: Clinic) -> list[str]:
    """Every cohort of the clinic, oldest first."""
    months = (
        TreatmentCourse.objects.filter(clinic=clinic, voided_at__isnull=True)
        .dates("starts_on", "month")
        .order_by("starts_on")
    )
    return [f"cohort-{month:%Y-%m}" for month in months]
