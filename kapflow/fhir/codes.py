"""The code systems and codes kapflow's FHIR resources use (docs: ../shared/docs/DOMAIN.md).

Pure: no Django. A value kapflow stores is mapped to the code a FHIR reader expects here, in
one place, so the builders and the tests agree on them.
"""

from __future__ import annotations

from typing import Any

FHIR_VERSION = "4.0.1"
KAPFLOW = "https://kapflow.org/fhir"  # our canonical base (identifiers, code systems, questionnaires)

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ADMIN_FUNCTION = "http://terminology.hl7.org/CodeSystem/med-admin-perform-function"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"

KETAMINE_RXNORM = "6130"

# kapflow route -> SNOMED CT route of administration.
ROUTES: dict[str, tuple[str, str]] = {
    "sublingual": ("37839007", "Sublingual route"),
    "buccal": ("54471007", "Buccal route"),
    "intramuscular": ("78421000", "Intramuscular route"),
    "intravenous": ("47625008", "Intravenous route"),
    "nasal": ("46713006", "Nasal route"),
}

# Vital signs: key -> (LOINC code, display, UCUM unit).
VITALS: dict[str, tuple[str, str, str]] = {
    "bp": ("85354-9", "Blood pressure panel with all children optional", "mm[Hg]"),
    "systolic": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "hr": ("8867-4", "Heart rate", "/min"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    "rr": ("9279-1", "Respiratory rate", "/min"),
    "weight": ("29463-7", "Body weight", "kg"),
    "height": ("8302-2", "Body height", "cm"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2"),
}
# The base vital-signs profile asks for 2708-6 beside the pulse-oximetry code.
SPO2_BASE = ("2708-6", "Oxygen saturation in Arterial blood")

# kapflow status -> FHIR status.
EPISODE_STATUS = {
    "planned": "planned",
    "active": "active",
    "paused": "onhold",
    "completed": "finished",
    "discontinued": "cancelled",
}
SESSION_STATUS = {
    "checked_in": "arrived",
    "in_session": "in-progress",
    "discharged": "finished",
    "cancelled": "cancelled",
}
GENDER = {
    "female": "female",
    "male": "male",
    "intersex": "other",
    "unknown": "unknown",
    "declined": "unknown",
}
AE_SEVERITY_CODES = {"mild": "mild", "moderate": "moderate", "severe": "severe", "life_threatening": "severe"}
AE_OUTCOME_CODES = {
    "resolved": ("resolved", "Resolved"),
    "resolving": ("recovering", "Recovering"),
    "ongoing": ("ongoing", "Ongoing"),
    "transferred": ("ongoing", "Ongoing"),
}


def coding(system: str, code: str, display: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(system: str, code: str, display: str = "", text: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        found["text"] = text
    return found


def category(code: str, display: str) -> list[dict[str, Any]]:
    return [concept(OBSERVATION_CATEGORY, code, display)]


VITAL_SIGNS = category("vital-signs", "Vital Signs")
SURVEY = category("survey", "Survey")
AMBULATORY = coding(ACT_CODE, "AMB", "ambulatory")


def quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": number(value), "unit": unit, "system": UCUM, "code": unit}


def number(value: Any) -> int | float:
    """A Decimal (or int) as a JSON number: integral values without a fraction."""
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float
