"""Is a resource valid FHIR R4? ``fhir.resources`` (R4B models) checks structure, types and
cardinality; the required value sets it does not check (statuses and the like) and our own
coding rules (vital signs in LOINC and UCUM, routes in SNOMED CT) are checked here."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"

# Required bindings (http://hl7.org/fhir/R4/...): element path -> allowed codes.
REQUIRED: dict[str, dict[str, set[str]]] = {
    "Patient": {"gender": {"male", "female", "other", "unknown"}},
    "EpisodeOfCare": {
        "status": {"planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"}
    },
    "Encounter": {
        "status": {
            "planned",
            "arrived",
            "triaged",
            "in-progress",
            "onleave",
            "finished",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    },
    "Questionnaire": {"status": {"draft", "active", "retired", "unknown"}},
    "QuestionnaireResponse": {
        "status": {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
    },
    "Observation": {
        "status": {
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    },
    "MedicationAdministration": {
        "status": {
            "in-progress",
            "not-done",
            "on-hold",
            "completed",
            "entered-in-error",
            "stopped",
            "unknown",
        }
    },
    "Consent": {"status": {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}},
    "AdverseEvent": {"actuality": {"actual", "potential"}},
    "Group": {"type": {"person", "animal", "practitioner", "device", "medication", "substance"}},
    "Bundle": {"type": {"searchset"}},
    "CapabilityStatement": {"status": {"active"}, "kind": {"instance"}, "fhirVersion": {"4.0.1"}},
    "OperationOutcome": {},
}
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string",
              "text", "url", "choice", "open-choice", "attachment", "reference", "quantity"}  # fmt: skip
AE_CODES = {
    "seriousness": (
        "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
        {"serious", "non-serious"},
    ),
    "severity": (
        "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
        {"mild", "moderate", "severe"},
    ),
    "outcome": (
        "http://terminology.hl7.org/CodeSystem/adverse-event-outcome",
        {"resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown"},
    ),
}


def codes_of(concept: dict[str, Any], system: str) -> set[str]:
    return {c["code"] for c in concept.get("coding", []) if c.get("system") == system}


def assert_valid(resource: dict[str, Any]) -> None:
    """Validate with the R4B model, then the required codes, then kapflow's coding rules."""
    kind = resource["resourceType"]
    get_fhir_model_class(kind).model_validate(resource)
    assert_no_empty_values(resource)
    for element, allowed in REQUIRED[kind].items():
        assert resource[element] in allowed, f"{kind}.{element} = {resource[element]!r}"
    check = CHECKS.get(kind)
    if check is not None:
        check(resource)
    if kind == "Bundle":
        for entry in resource.get("entry", []):
            assert entry["fullUrl"].endswith(
                f"/{entry['resource']['resourceType']}/{entry['resource']['id']}"
            )
            assert_valid(entry["resource"])


def assert_no_empty_values(value: Any, path: str = "") -> None:
    """FHIR JSON never has empty arrays, objects or strings, nor nulls (an absent element is left out)."""
    assert value not in ([], {}, "", None), f"empty value at {path or 'the top'}"
    if isinstance(value, dict):
        for key, inner in value.items():
            assert_no_empty_values(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            assert_no_empty_values(inner, f"{path}[{index}]")


def _quantity(quantity: dict[str, Any]) -> None:
    assert quantity["system"] == UCUM and quantity["code"] == quantity["unit"], quantity
    assert isinstance(quantity["value"], int | float)


def _observation(resource: dict[str, Any]) -> None:
    categories = {
        code
        for c in resource["category"]
        for code in codes_of(c, "http://terminology.hl7.org/CodeSystem/observation-category")
    }
    assert categories & {"vital-signs", "survey"}, resource["category"]
    if "vital-signs" in categories:
        assert codes_of(resource["code"], LOINC), "a vital sign is coded in LOINC"
        assert "effectiveDateTime" in resource and resource["subject"]["reference"].startswith("Patient/")
        if "85354-9" in codes_of(resource["code"], LOINC):
            parts = {code for c in resource["component"] for code in codes_of(c["code"], LOINC)}
            assert parts == {"8480-6", "8462-4"}
            for component in resource["component"]:
                _quantity(component["valueQuantity"])
                assert component["valueQuantity"]["unit"] == "mm[Hg]"
        else:
            _quantity(resource["valueQuantity"])
    elif "valueInteger" not in resource:
        raise AssertionError(f"a survey observation carries an integer: {resource}")


def _medication_administration(resource: dict[str, Any]) -> None:
    assert "6130" in codes_of(
        resource["medicationCodeableConcept"], "http://www.nlm.nih.gov/research/umls/rxnorm"
    )
    assert codes_of(resource["dosage"]["route"], SNOMED) <= {
        "37839007",
        "54471007",
        "78421000",
        "47625008",
        "46713006",
    }
    assert codes_of(resource["dosage"]["route"], SNOMED), "the route is coded in SNOMED CT"
    _quantity(resource["dosage"]["dose"])
    assert resource["context"]["reference"].startswith("Encounter/")
    functions = [
        codes_of(p["function"], "http://terminology.hl7.org/CodeSystem/med-admin-perform-function")
        for p in resource["performer"]
    ]
    assert functions == [{"performer"}]


def _adverse_event(resource: dict[str, Any]) -> None:
    for element, (system, allowed) in AE_CODES.items():
        found = codes_of(resource[element], system)
        assert found and found <= allowed, (element, resource[element])


def _consent(resource: dict[str, Any]) -> None:
    assert codes_of(resource["scope"], "http://terminology.hl7.org/CodeSystem/consentscope") == {"treatment"}
    assert resource.get("policy") or resource.get("policyRule"), "ppc-1: a policy or a policy rule"


def _encounter(resource: dict[str, Any]) -> None:
    assert resource["class"]["code"] == "AMB"


def _questionnaire(resource: dict[str, Any]) -> None:
    for item in resource["item"]:
        assert item["type"] in ITEM_TYPES


CHECKS = {
    "Observation": _observation,
    "MedicationAdministration": _medication_administration,
    "AdverseEvent": _adverse_event,
    "Consent": _consent,
    "Encounter": _encounter,
    "Questionnaire": _questionnaire,
}
