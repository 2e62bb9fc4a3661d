"""The FHIR search parameters kapflow supports, read from a query string.

Anything else is refused with a 400 OperationOutcome (a reader must not believe a filter was
applied when it was not). Paging is ``_count`` (default 50, at most 200; 0 gives the total
only) and ``_offset`` (the next link carries it).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kapflow.fhir import codes
from kapflow.fhir.base import InvalidSearch
from kapflow.fhir.mapping import Narrow, Source
from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.patients.models import Patient

DEFAULT_COUNT = 50
MAX_COUNT = 200
PAGING = frozenset({"_count", "_offset", "_format"})
BY_PATIENT = frozenset({"patient", "subject"})
PARAMETERS: dict[str, frozenset[str]] = {
    "Patient": frozenset({"_id", "name", "birthdate", "identifier"}),
    "EpisodeOfCare": BY_PATIENT,
    "Encounter": BY_PATIENT,
    "Questionnaire": frozenset({"_id"}),
    "QuestionnaireResponse": BY_PATIENT,
    "Observation": BY_PATIENT | {"category", "code"},
    "MedicationAdministration": BY_PATIENT,
    "Consent": BY_PATIENT,
    "AdverseEvent": BY_PATIENT,
    "Group": frozenset({"_id"}),
}
# The CapabilityStatement's description of each parameter: (FHIR type, what it matches).
DESCRIPTIONS = {
    "_id": ("token", "The resource id"),
    "name": ("string", "Start of any part of a legal or preferred name (case-insensitive)"),
    "birthdate": ("date", "Date of birth: YYYY, YYYY-MM or YYYY-MM-DD, with eq, ge, gt, le or lt"),
    "identifier": ("token", "The clinic's record number ([system|]value)"),
    "patient": ("reference", "The patient: Patient/<id> or <id>"),
    "subject": ("reference", "The patient: Patient/<id> or <id>"),
    "category": ("token", "vital-signs or survey"),
    "code": ("token", "A LOINC code ([http://loinc.org|]code), e.g. 44261-6 for the PHQ-9 total"),
}
SURVEY_SUFFIXES = frozenset({"total", "moaas", "dissociation"})
DATE = re.compile(r"^(eq|ge|gt|le|lt)?(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass
class Search:
    resource_type: str
    params: dict[str, list[str]]
    count: int = DEFAULT_COUNT
    offset: int = 0
    patient_id: uuid.UUID | None = None
    narrow: Narrow | None = field(default=None)

    def values(self, name: str) -> list[str]:
        return self.params.get(name, [])


def _int(name: str, text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidSearch({name: _("Give a whole number.")}) from None
    if value < minimum:
        raise InvalidSearch({name: _("Give a number of at least %(n)d.") % {"n": minimum}})
    return value


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise InvalidSearch({name: _("Give this parameter once.")})
    return values[0] if values else None


def patient_reference(name: str, text: str) -> uuid.UUID:
    """``Patient/<id>``, ``<base>/Patient/<id>`` or a bare ``<id>``."""
    if "," in text:
        raise InvalidSearch({name: _("Search one patient at a time.")})
    if "/" in text:
        kind, _slash, text = text.rstrip("/").rpartition("/")
        if not kind.endswith("Patient"):
            raise InvalidSearch({name: _("Only patients are subjects in kapflow: give Patient/<id>.")})
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidSearch({name: _("This is not a patient id.")}) from None


def parse(resource_type: str, params: Mapping[str, Sequence[str]]) -> Search:
    """The search, or ``InvalidSearch`` naming the first parameter kapflow cannot apply."""
    allowed = PARAMETERS[resource_type] | PAGING
    for name, values in params.items():
        if "\x00" in name or any("\x00" in value for value in values):
            # No record holds a NUL, and PostgreSQL refuses to compare text with one.
            raise InvalidSearch({name.replace("\x00", ""): _("A search value cannot hold a NUL character.")})
    unknown = sorted(name for name in params if name not in allowed)
    if unknown:
        supported = ", ".join(sorted(PARAMETERS[resource_type])) or _("none")
        raise InvalidSearch(
            {unknown[0]: _("kapflow does not support this search parameter here (supported: %(names)s).")
             % {"names": supported}}
        )  # fmt: skip
    search = Search(resource_type, {name: list(values) for name, values in params.items() if values})
    count = _one(params, "_count")
    if count is not None:
        search.count = min(_int("_count", count, 0), MAX_COUNT)
    offset = _one(params, "_offset")
    if offset is not None:
        search.offset = _int("_offset", offset, 0)
    references = [(name, value) for name in ("patient", "subject") for value in search.values(name)]
    if len(references) > 1:
        raise InvalidSearch({references[1][0]: _("Give one patient (patient or subject, once).")})
    if references:
        search.patient_id = patient_reference(*references[0])
    if resource_type == "Observation":
        search.narrow = observation_narrow(search)
    return search


# --- Patient ------------------------------------------------------------------------------------
def _birthdate(text: str) -> Q:
    match = DATE.match(text)
    if match is None:
        raise InvalidSearch(
            {"birthdate": _("Give a date as YYYY, YYYY-MM or YYYY-MM-DD, e.g. ge1980-01-01.")}
        )
    prefix, year, month, day = match[1] or "eq", int(match[2]), match[3], match[4]
    try:
        start = date(year, int(month or 1), int(day or 1))
    except ValueError:
        raise InvalidSearch({"birthdate": _("This is not a calendar date.")}) from None
    # The day after the day, month or year given; none after the last day Python knows
    # (9999-12-31), which is no reason to refuse the search.
    end: date | None
    try:
        if day:
            end = start + timedelta(days=1)
        elif month:
            end = date(year + (start.month == 12), start.month % 12 + 1, 1)
        else:
            end = date(year + 1, 1, 1)
    except (ValueError, OverflowError):
        end = None
    before_end = Q(date_of_birth__lt=end) if end is not None else Q()
    return {
        "eq": Q(date_of_birth__gte=start) & before_end,
        "ge": Q(date_of_birth__gte=start),
        "gt": Q(date_of_birth__gte=end) if end is not None else Q(pk__in=[]),
        "le": before_end,
        "lt": Q(date_of_birth__lt=start),
    }[prefix]


def _name(text: str) -> Q:
    found = Q()
    for part in (p.strip() for p in text.split(",")):
        if part:
            found |= (
                Q(legal_given_name__istartswith=part)
                | Q(legal_family_name__istartswith=part)
                | Q(preferred_name__istartswith=part)
            )
    return found


def _ids(text: str) -> list[uuid.UUID]:
    found = []
    for part in text.split(","):
        try:
            found.append(uuid.UUID(part.strip()))
        except ValueError:
            continue  # an id kapflow never gives out matches nothing
    return found


def patients(search: Search, scope: QuerySet[Patient]) -> QuerySet[Patient]:
    """The patients of ``scope`` matching a Patient search."""
    for text in search.values("_id"):
        scope = scope.filter(public_id__in=_ids(text))
    for text in search.values("name"):
        scope = scope.filter(_name(text))
    for text in search.values("birthdate"):
        scope = scope.filter(_birthdate(text))
    for text in search.values("identifier"):
        values = [part.rpartition("|")[2].strip() for part in text.split(",")]
        condition = Q()
        for value in values:
            condition |= Q(record_number__iexact=value)
        scope = scope.filter(condition)
    return scope


# --- Observation --------------------------------------------------------------------------------
def _tokens(name: str, text: str, system: str = "") -> set[str]:
    found = set()
    for part in text.split(","):
        given_system, bar, code = part.strip().rpartition("|")
        if bar and given_system and system and given_system != system:
            raise InvalidSearch({name: _("kapflow codes this with %(system)s.") % {"system": system}})
        if code:
            found.add(code)
    return found


def observation_narrow(search: Search) -> Narrow | None:
    """``category`` and ``code`` pick the Observation sources (and, for totals, instruments)."""
    categories: set[str] | None = None
    for text in search.values("category"):
        wanted = _tokens("category", text, codes.OBSERVATION_CATEGORY)
        categories = wanted if categories is None else categories & wanted
    loinc: set[str] | None = None
    for text in search.values("code"):
        wanted = _tokens("code", text, codes.LOINC)
        loinc = wanted if loinc is None else loinc & wanted
    if categories is None and loinc is None:
        return None
    totals = {i.loinc_total: i.key for i in BUILT_IN.values() if i.loinc_total}

    def narrow(source: Source, rows: QuerySet[Any]) -> QuerySet[Any] | None:
        category = "survey" if source.suffix in SURVEY_SUFFIXES else "vital-signs"
        if categories is not None and category not in categories:
            return None
        if loinc is None:
            return rows
        if source.suffix == "total":
            keys = [totals[code] for code in loinc if code in totals]
            return rows.filter(instrument_key__in=keys) if keys else None
        vital = codes.VITALS.get(source.suffix)
        return rows if vital is not None and vital[0] in loinc else None

    return narrow
