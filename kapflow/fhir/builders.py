"""Model rows as FHIR R4 resources: plain JSON-ready dicts, ids the rows' public UUIDs.

Each ``to_*`` reads only the row and what the caller loaded with it (``select_related`` /
``prefetch_related``, and only the columns named, in ``kapflow.fhir.mapping``), so building a
resource never queries the database: reading a new column means naming it there too. Never
mapped: psychotherapy notes, clinical note text, discharge notes, reasons. Staff appear as
``{"type": "Practitioner", "display": name}`` (kapflow emits no Practitioner).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.urls import reverse

from kapflow.accounts.models import User
from kapflow.clinics.models import Clinic
from kapflow.consent.models import ConsentSignature
from kapflow.courses.models import TreatmentCourse, Visit
from kapflow.dosing.models import Administration, AdverseEvent, DosingSession
from kapflow.fhir import codes
from kapflow.fhir.codes import LOINC, SNOMED, coding, concept, number, quantity
from kapflow.measures.instruments.model import Instrument, Item, Option
from kapflow.measures.models import MeasureResponse
from kapflow.patients.models import Patient
from kapflow.screening.models import MedicalScreening

Resource = dict[str, Any]
ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")


# --- small parts ------------------------------------------------------------------------------
def iso(moment: datetime | date) -> str:
    return moment.isoformat()


def ref(resource_type: str, public_id: Any) -> dict[str, str]:
    return {"reference": f"{resource_type}/{public_id}"}


def patient_ref(row: Any) -> dict[str, str]:
    """The subject of a row with a ``patient`` (loaded with it)."""
    return ref("Patient", row.patient.public_id)


def practitioner(user: User) -> dict[str, str]:
    return {"type": "Practitioner", "display": str(user)}


def meta(row: Any) -> dict[str, str]:
    return {"versionId": str(row.version), "lastUpdated": iso(row.updated_at)}


def observation_id(public_id: Any, suffix: str) -> str:
    """Rows that give several observations (a set of vitals) give each its own id."""
    return f"{public_id}-{suffix}"


# --- Patient and EpisodeOfCare ------------------------------------------------------------------
def to_patient(patient: Patient, clinic: Clinic) -> Resource:
    names: list[dict[str, Any]] = [
        {"use": "official", "family": patient.legal_family_name, "given": [patient.legal_given_name]}
    ]
    if patient.preferred_name:
        names.append({"use": "usual", "family": patient.legal_family_name, "given": [patient.preferred_name]})
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient.public_id),
        "meta": meta(patient),
        "identifier": [
            {
                "use": "usual",
                "type": concept(codes.IDENTIFIER_TYPE, "MR", "Medical record number"),
                "system": f"{codes.KAPFLOW}/clinics/{clinic.slug}/record-number",
                "value": patient.record_number,
            }
        ],
        "active": patient.voided_at is None,
        "name": names,
        "gender": codes.GENDER.get(patient.sex_at_birth, "unknown"),
        "birthDate": iso(patient.date_of_birth),
    }
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    if patient.emergency_contact_name:
        contact: dict[str, Any] = {"name": {"text": patient.emergency_contact_name}}
        if patient.emergency_contact_relationship:
            contact["relationship"] = [{"text": patient.emergency_contact_relationship}]
        if patient.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.emergency_contact_phone}]
        resource["contact"] = [contact]
    return resource


def to_episode_of_care(course: TreatmentCourse) -> Resource:
    """The treatment course. ``therapists`` and ``medical_staff`` prefetched: the first
    therapist (else medical professional) is the care manager."""
    staff = sorted(course.therapists.all(), key=str) or sorted(course.medical_staff.all(), key=str)
    period: dict[str, str] = {"start": iso(course.starts_on)}
    if course.ended_on:
        period["end"] = iso(course.ended_on)
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": str(course.public_id),
        "meta": meta(course),
        "status": codes.EPISODE_STATUS[course.status],
        "type": [{"text": f"Ketamine-assisted psychotherapy ({course.route})"}],
        "patient": patient_ref(course),
        "period": period,
    }
    if staff:
        resource["careManager"] = practitioner(staff[0])
    return resource


# --- Encounter ----------------------------------------------------------------------------------
def _encounter(row: Any, *, status: str, type_text: str, period: dict[str, str]) -> Resource:
    return {
        "resourceType": "Encounter",
        "id": str(row.public_id),
        "meta": meta(row),
        "status": status,
        "class": codes.AMBULATORY,
        "type": [{"text": type_text}],
        "subject": patient_ref(row),
        "period": period,
    }


def _participant(user: User) -> list[dict[str, Any]]:
    return [
        {
            "type": [concept(codes.PARTICIPANT_TYPE, "PPRF", "primary performer")],
            "individual": practitioner(user),
        }
    ]


def to_screening_encounter(screening: MedicalScreening) -> Resource:
    resource = _encounter(
        screening,
        status="finished",
        type_text="Medical screening",
        period={"start": iso(screening.created_at)},
    )
    resource["serviceType"] = {"text": "Medical screening for ketamine-assisted psychotherapy"}
    if screening.created_by is not None:
        resource["participant"] = _participant(screening.created_by)
    return resource


def to_visit_encounter(visit: Visit) -> Resource:
    """A preparation, integration or follow-up visit (never its note)."""
    kind = visit.get_kind_display()
    resource = _encounter(
        visit, status="finished", type_text=f"{kind} visit", period={"start": iso(visit.happened_on)}
    )
    resource["serviceType"] = {"text": "Ketamine-assisted psychotherapy"}
    resource["participant"] = _participant(visit.staff)
    resource["episodeOfCare"] = [ref("EpisodeOfCare", visit.course.public_id)]
    return resource


def to_session_encounter(session: DosingSession) -> Resource:
    """A dosing session (its notes, reasons and checklist stay in kapflow)."""
    period = {"start": iso(session.checked_in_at)}
    if session.discharged_at:
        period["end"] = iso(session.discharged_at)
    resource = _encounter(
        session,
        status=codes.SESSION_STATUS[session.status],
        type_text=f"Dosing session {session.number} ({session.route})",
        period=period,
    )
    resource["serviceType"] = {"text": "Ketamine dosing session"}
    resource["episodeOfCare"] = [ref("EpisodeOfCare", session.course.public_id)]
    if session.room is not None:
        resource["location"] = [{"location": {"display": session.room.name}}]
    return resource


# --- Questionnaire and QuestionnaireResponse ----------------------------------------------------
def questionnaire_id(instrument: Instrument) -> str:
    return ID_UNSAFE.sub("-", f"{instrument.key}-v{instrument.version}")[:64]


def questionnaire_url(clinic: Clinic, instrument_key: str) -> str:
    from kapflow.measures.instruments.builtin import BUILT_IN

    if instrument_key in BUILT_IN:
        return f"{codes.KAPFLOW}/Questionnaire/{instrument_key}"
    return f"{codes.KAPFLOW}/clinics/{clinic.slug}/Questionnaire/{instrument_key}"


def answer_coding(instrument: Instrument, option: Option) -> dict[str, Any]:
    if option.code:
        return coding(LOINC, option.code, option.label)
    return coding(f"{codes.KAPFLOW}/CodeSystem/{instrument.key}-answers", str(option.value), option.label)


def _question(instrument: Instrument, item: Item) -> dict[str, Any]:
    question: dict[str, Any] = {
        "linkId": item.id,
        "text": item.text,
        "type": "choice",
        "required": item.show_if is None,
        "answerOption": [
            {
                "valueCoding": answer_coding(instrument, option),
                "extension": [{"url": codes.ORDINAL_VALUE, "valueDecimal": option.value}],
            }
            for option in item.options
        ],
    }
    if item.code:
        question["code"] = [coding(LOINC, item.code, item.text[:200])]
    if item.show_if is not None:
        shown_if = instrument.item(item.show_if.item)
        question["enableWhen"] = [
            {
                "question": shown_if.id,
                "operator": "=",
                "answerCoding": answer_coding(instrument, shown_if.option(v)),
            }
            for v in sorted(item.show_if.values)
        ]
        if len(item.show_if.values) > 1:
            question["enableBehavior"] = "any"
    return question


def computable_name(text: str) -> str:
    """A name as FHIR's que-0 wants it: a capital letter, then letters, digits and underscores."""
    name = re.sub(r"[^A-Za-z0-9_]", "", text)
    return name[:1].upper() + name[1:] if name[:1].isalpha() else f"Q{name}"


def to_questionnaire(instrument: Instrument, clinic: Clinic) -> Resource:
    resource: Resource = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument),
        "url": questionnaire_url(clinic, instrument.key),
        "version": instrument.version,
        "name": computable_name(instrument.short_name),
        "title": f"{instrument.name} ({instrument.short_name})",
        "status": "active",
        "subjectType": ["Patient"],
        "item": [_question(instrument, item) for item in instrument.items],
    }
    if instrument.loinc_panel:
        resource["code"] = [coding(LOINC, instrument.loinc_panel, instrument.name)]
    if instrument.intro:
        resource["description"] = instrument.intro
    return resource


def _answer(instrument: Instrument | None, item_id: str, value: Any) -> dict[str, Any]:
    if instrument is not None and isinstance(value, int):
        try:
            return {"valueCoding": answer_coding(instrument, instrument.item(item_id).option(value))}
        except KeyError:
            pass
    return {"valueInteger": int(value)}


def response_status(response: MeasureResponse) -> str:
    """A response a correction replaced was entered in error; the correction is amended."""
    if getattr(response, "replaced_by", None) is not None:
        return "entered-in-error"
    return "amended" if response.replaces_id else "completed"


def to_questionnaire_response(
    response: MeasureResponse, instrument: Instrument | None, clinic: Clinic
) -> Resource:
    """``instrument``: the version the patient answered (``None`` when no longer known: the
    answers are then plain integers). ``replaced_by`` loaded with the row."""
    answers: dict[str, Any] = response.answers or {}
    order = [item.id for item in instrument.items] if instrument is not None else []
    item_ids = [i for i in order if i in answers] + sorted(k for k in answers if k not in order)
    items = []
    for item_id in item_ids:
        if answers[item_id] is None:
            continue
        entry: dict[str, Any] = {
            "linkId": item_id,
            "answer": [_answer(instrument, item_id, answers[item_id])],
        }
        if instrument is not None and item_id in order:
            entry["text"] = instrument.item(item_id).text
        items.append(entry)
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.public_id),
        "meta": meta(response),
        "questionnaire": f"{questionnaire_url(clinic, response.instrument_key)}|{response.instrument_version}",
        "status": response_status(response),
        "subject": patient_ref(response),
        "authored": iso(response.answered_at),
    }
    if items:
        resource["item"] = items
    if response.source == "portal":
        resource["author"] = resource["source"] = patient_ref(response)
    elif response.created_by is not None:
        resource["author"] = practitioner(response.created_by)
    return resource


# --- MedicationAdministration, Consent, AdverseEvent --------------------------------------------
def to_medication_administration(given: Administration) -> Resource:
    """A dose: performer the medical professional who gave it (a therapist never does)."""
    route_code, route_display = codes.ROUTES[given.route]
    dose_text = f"{number(given.dose_mg)} mg {given.route}"
    if given.mg_per_kg is not None:
        dose_text += f" ({number(given.mg_per_kg)} mg/kg)"
    dosage: dict[str, Any] = {
        "text": dose_text,
        "route": concept(SNOMED, route_code, route_display, text=given.route),
        "dose": quantity(given.dose_mg, "mg"),
    }
    if given.route == "intravenous" and given.ended_at is not None and given.ended_at > given.started_at:
        minutes = (given.ended_at - given.started_at).total_seconds() / 60
        dosage["rateRatio"] = {
            "numerator": quantity(given.dose_mg, "mg"),
            "denominator": quantity(round(minutes, 2), "min"),
        }
    resource: Resource = {
        "resourceType": "MedicationAdministration",
        "id": str(given.public_id),
        "meta": meta(given),
        "status": "completed",
        "medicationCodeableConcept": concept(
            codes.RXNORM, codes.KETAMINE_RXNORM, "ketamine", text=given.drug
        ),
        "subject": patient_ref(given),
        "context": ref("Encounter", given.session.public_id),
        "performer": [
            {
                "function": concept(codes.ADMIN_FUNCTION, "performer", "Performer"),
                "actor": practitioner(given.administered_by),
            }
        ],
        "dosage": dosage,
    }
    if given.ended_at is not None:
        resource["effectivePeriod"] = {"start": iso(given.started_at), "end": iso(given.ended_at)}
    else:
        resource["effectiveDateTime"] = iso(given.started_at)
    return resource


def to_consent(signature: ConsentSignature, clinic: Clinic) -> Resource:
    """A signed consent (``template``, ``witness`` and ``withdrawal`` loaded with it)."""
    withdrawal = getattr(signature, "withdrawal", None)
    template = signature.template
    resource: Resource = {
        "resourceType": "Consent",
        "id": str(signature.public_id),
        "meta": meta(signature),
        "status": "inactive" if withdrawal is not None else "active",
        "scope": concept(codes.CONSENT_SCOPE, "treatment", "Treatment"),
        "category": [concept(LOINC, "59284-0", "Patient Consent", text=template.title)],
        "patient": patient_ref(signature),
        "dateTime": iso(signature.signed_at),
        "performer": [patient_ref(signature)],
        "policy": [{"uri": f"{codes.KAPFLOW}/clinics/{clinic.slug}/consent-templates/v{template.version}"}],
        "provision": {"type": "permit", "period": {"start": iso(signature.signed_at)}},
    }
    if withdrawal is not None:
        resource["provision"]["period"]["end"] = iso(withdrawal.withdrawn_at)
    if signature.pdf_sha256:
        url = reverse(
            "consent:pdf",
            kwargs={
                "clinic": clinic.slug,
                "patient_id": signature.patient.public_id,
                "signature_id": signature.public_id,
            },
        )
        resource["sourceAttachment"] = {
            "contentType": "application/pdf",
            "url": url,
            "title": f"{template.title} (version {template.version}), signed",
            "creation": iso(signature.signed_at),
        }
    witness = getattr(signature, "witness", None)
    if witness is not None:
        resource["verification"] = [{"verified": True, "verificationDate": iso(witness.witnessed_at)}]
    return resource


def to_adverse_event(event: AdverseEvent) -> Resource:
    """``session`` loaded with it, its ``administrations`` prefetched (the suspected doses)."""
    suspects = [
        given for given in event.session.administrations.all() if given.started_at <= event.occurred_at
    ]
    outcome_code, outcome_display = codes.AE_OUTCOME_CODES[event.outcome]
    resource: Resource = {
        "resourceType": "AdverseEvent",
        "id": str(event.public_id),
        "meta": meta(event),
        "actuality": "actual",
        "event": concept(
            f"{codes.KAPFLOW}/CodeSystem/adverse-event-kind",
            event.kind,
            event.get_kind_display(),
            text=event.description or event.get_kind_display(),
        ),
        "subject": patient_ref(event),
        "encounter": ref("Encounter", event.session.public_id),
        "date": iso(event.occurred_at),
        "recordedDate": iso(event.created_at),
        "recorder": practitioner(event.recorded_by),
        "seriousness": concept(
            codes.AE_SERIOUSNESS,
            "serious" if event.serious else "non-serious",
            "Serious" if event.serious else "Non-serious",
        ),
        "severity": concept(
            codes.AE_SEVERITY, codes.AE_SEVERITY_CODES[event.severity], text=event.get_severity_display()
        ),
        "outcome": concept(codes.AE_OUTCOME, outcome_code, outcome_display, text=event.get_outcome_display()),
    }
    if suspects:
        resource["suspectEntity"] = [
            {"instance": ref("MedicationAdministration", given.public_id)} for given in suspects
        ]
    return resource


# --- Group (a course cohort, for bulk export) --------------------------------------------------
def to_group(group_id: str, name: str, patients: Iterable[Patient]) -> Resource:
    members = [{"entity": ref("Patient", patient.public_id)} for patient in patients]
    group: Resource = {
        "resourceType": "Group",
        "id": group_id,
        "type": "person",
        "actual": True,
        "name": name,
        "quantity": len(members),
    }
    if members:  # FHIR JSON never has an empty array
        group["member"] = members
    return group
