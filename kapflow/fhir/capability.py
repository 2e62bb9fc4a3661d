"""The CapabilityStatement at ``/fhir/metadata``: what a FHIR client may ask kapflow."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import version
from typing import Any

from kapflow.fhir.codes import FHIR_VERSION
from kapflow.fhir.mapping import RESOURCE_TYPES
from kapflow.fhir.search import DESCRIPTIONS, PARAMETERS

BULK = "http://hl7.org/fhir/uv/bulkdata"
SOFTWARE_VERSION = version("kapflow")
SECURITY = (
    "Send a personal API token (made in your kapflow profile, or with `kapflow token create EMAIL`) as "
    "`Authorization: Bearer <token>`. A token belongs to one clinic and sees what its person may see: "
    "clinical resources of the patients on their care teams, demographics of the clinic's patients."
)


def _resource(resource_type: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": resource_type,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            {"name": name, "type": DESCRIPTIONS[name][0], "documentation": DESCRIPTIONS[name][1]}
            for name in sorted(PARAMETERS[resource_type])
        ],
    }
    if resource_type == "Patient":
        entry["operation"] = [{"name": "export", "definition": f"{BULK}/OperationDefinition/patient-export"}]
    if resource_type == "Group":
        entry["operation"] = [{"name": "export", "definition": f"{BULK}/OperationDefinition/group-export"}]
        entry["documentation"] = (
            "Course cohorts: Group/cohort-YYYY-MM is the patients whose treatment course started that month."
        )
    return entry


def capability_statement(base_url: str, now: datetime) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now.isoformat(),
        "publisher": "kapflow",
        "kind": "instance",
        "instantiates": [f"{BULK}/CapabilityStatement/bulk-data"],
        "software": {"name": "kapflow", "version": SOFTWARE_VERSION},
        "implementation": {
            "description": "kapflow FHIR R4 server (read, search, bulk export)",
            "url": base_url,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Psychotherapy notes and clinical note text are never available here.",
                "security": {"cors": False, "description": SECURITY},
                "resource": [_resource(resource_type) for resource_type in (*RESOURCE_TYPES, "Group")],
                "operation": [{"name": "export", "definition": f"{BULK}/OperationDefinition/export"}],
            }
        ],
    }
