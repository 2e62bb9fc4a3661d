"""Observations: questionnaire totals (survey), vital signs (LOINC, UCUM), MOAA/S and
dissociation scores, from responses, monitoring readings, screenings and dosing sessions.

A row that gives several observations (a set of vitals) gives each its own id: the row's
public id and a suffix ("-bp", "-hr", "-spo2", "-rr", "-weight", "-height", "-bmi", "-moaas",
"-dissociation", "-total").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kapflow.dosing.models import DosingSession, Reading
from kapflow.fhir import codes
from kapflow.fhir.builders import (
    Resource,
    iso,
    meta,
    observation_id,
    patient_ref,
    practitioner,
    ref,
    response_status,
)
from kapflow.fhir.codes import LOINC, VITALS, coding, concept, quantity
from kapflow.measures.instruments.model import Instrument
from kapflow.measures.models import MeasureResponse
from kapflow.screening.models import MedicalScreening


# --- Observation --------------------------------------------------------------------------------
def _observation(
    *, id: str, row: Any, category: list[dict[str, Any]], code: dict[str, Any], when: datetime
) -> Resource:
    return {
        "resourceType": "Observation",
        "id": id,
        "meta": meta(row),
        "status": "final",
        "category": category,
        "code": code,
        "subject": patient_ref(row),
        "effectiveDateTime": iso(when),
    }


def to_score_observation(response: MeasureResponse, instrument: Instrument | None) -> Resource:
    """A questionnaire's total (PHQ-9 44261-6, GAD-7 70274-6; text only for other instruments)."""
    name = instrument.short_name if instrument is not None else response.instrument_name
    if instrument is not None and instrument.loinc_total:
        code = concept(LOINC, instrument.loinc_total, f"{name} total score", text=f"{name} total score")
    elif response.instrument_key == "moaas":
        code = {"text": "MOAA/S"}
    else:
        code = {"text": f"{name} total score"}
    resource = _observation(
        id=observation_id(response.public_id, "total"),
        row=response,
        category=codes.SURVEY,
        code=code,
        when=response.answered_at,
    )
    status = response_status(response)
    resource["status"] = {"entered-in-error": "entered-in-error", "amended": "corrected"}.get(status, "final")
    resource["valueInteger"] = response.total
    resource["derivedFrom"] = [ref("QuestionnaireResponse", response.public_id)]
    if response.band:
        resource["interpretation"] = [{"text": response.band}]
    if response.source == "portal":
        resource["performer"] = [patient_ref(response)]
    elif response.created_by is not None:
        resource["performer"] = [practitioner(response.created_by)]
    return resource


def vital_sign(
    *,
    row: Any,
    suffix: str,
    key: str,
    when: datetime,
    encounter: Any,
    value: Any = None,
    components: Any = (),
) -> Resource:
    """One vital-sign Observation: ``value`` for a single measure, ``components`` for the BP panel
    as ``((key, value), ...)``."""
    loinc, display, unit = VITALS[key]
    code = concept(LOINC, loinc, display, text=display)
    if key == "spo2":
        code["coding"].append(coding(LOINC, *codes.SPO2_BASE))
    resource = _observation(
        id=observation_id(row.public_id, suffix), row=row, category=codes.VITAL_SIGNS, code=code, when=when
    )
    resource["meta"]["profile"] = [codes.VITAL_SIGNS_PROFILE]
    resource["encounter"] = ref("Encounter", encounter.public_id)
    if components:
        resource["component"] = [
            {
                "code": concept(LOINC, VITALS[part][0], VITALS[part][1]),
                "valueQuantity": quantity(v, VITALS[part][2]),
            }
            for part, v in components
        ]
    else:
        resource["valueQuantity"] = quantity(value, unit)
    return resource


# Reading / screening fields behind each vital-sign suffix.
READING_VITALS = {"hr": "heart_rate", "spo2": "spo2", "rr": "respiratory_rate"}
SCREENING_VITALS = {"hr": "heart_rate", "weight": "weight_kg", "height": "height_cm", "bmi": "bmi"}


def to_reading_observation(reading: Reading, suffix: str) -> Resource:
    """``suffix``: "bp", "hr", "spo2", "rr" (vitals), "moaas" or "dissociation"."""
    if suffix in ("moaas", "dissociation"):
        moaas = suffix == "moaas"
        resource = _observation(
            id=observation_id(reading.public_id, suffix),
            row=reading,
            category=codes.SURVEY,
            code={"text": "MOAA/S" if moaas else "Dissociation score"},
            when=reading.taken_at,
        )
        resource["valueInteger"] = reading.moaas if moaas else reading.score
        resource["encounter"] = ref("Encounter", reading.session.public_id)
    elif suffix == "bp":
        resource = vital_sign(
            row=reading,
            suffix="bp",
            key="bp",
            when=reading.taken_at,
            encounter=reading.session,
            components=(("systolic", reading.systolic), ("diastolic", reading.diastolic)),
        )
    else:
        resource = vital_sign(
            row=reading,
            suffix=suffix,
            key=suffix,
            when=reading.taken_at,
            encounter=reading.session,
            value=getattr(reading, READING_VITALS[suffix]),
        )
    resource["performer"] = [practitioner(reading.recorded_by)]
    return resource


def to_screening_observation(screening: MedicalScreening, suffix: str) -> Resource:
    """``suffix``: "bp", "hr", "weight", "height" or "bmi" as measured at the screening."""
    if suffix == "bp":
        parts: dict[str, Any] = {
            "components": (("systolic", screening.systolic), ("diastolic", screening.diastolic))
        }
    else:
        parts = {"value": getattr(screening, SCREENING_VITALS[suffix])}
    resource = vital_sign(
        row=screening, suffix=suffix, key=suffix, when=screening.created_at, encounter=screening, **parts
    )
    if screening.created_by is not None:
        resource["performer"] = [practitioner(screening.created_by)]
    return resource


def to_session_weight_observation(session: DosingSession) -> Resource:
    return vital_sign(
        row=session,
        suffix="weight",
        key="weight",
        when=session.weight_at or session.checked_in_at,
        encounter=session,
        value=session.weight_kg,
    )
