"""Form data for the patient pages, as a browser would post it."""

from __future__ import annotations

from django.urls import reverse

from kapflow.patients.models import Patient

BLANK_PATIENT = {
    "record_number": "",
    "legal_given_name": "Sam",
    "legal_family_name": "Lee",
    "preferred_name": "",
    "pronouns": "",
    "date_of_birth": "1979-05-06",
    "sex_at_birth": "unknown",
    "gender_identity": "",
    "email": "",
    "phone": "",
    "address": "",
    "emergency_contact_name": "",
    "emergency_contact_relationship": "",
    "emergency_contact_phone": "",
}


def new_patient(**fields: str) -> dict[str, str]:
    return dict(BLANK_PATIENT, **fields)


def as_posted(patient: Patient, **changes: str) -> dict[str, str]:
    """The edit form of ``patient`` as loaded now, with ``changes`` typed in."""
    data = {name: str(getattr(patient, name)) for name in BLANK_PATIENT}
    data["version"] = str(patient.version)
    data.update(changes)
    return data


def url(name: str, patient: Patient | None = None, clinic: str = "demo", **kwargs: object) -> str:
    if patient is not None:
        kwargs["patient_id"] = patient.public_id
    return reverse(f"patients:{name}", kwargs={"clinic": clinic, **kwargs})
