"""Who may do what: the one place that answers "may this user do this action on this record".

Pure: no Django imports. Callers describe the actor (role, clinic, user) and, for actions
on a patient, the patient's clinic and current care team; ``decide`` answers with a reason.
Views, services and (later) the API all ask here, so no path has a rule of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kapflow.core.roles import CLINICAL_ROLES, MEDICAL_ROLES, Role


class Action(StrEnum):
    # Clinic-wide actions
    PATIENT_SEARCH = "patient.search"
    PATIENT_CREATE = "patient.create"
    STAFF_MANAGE = "staff.manage"
    CLINIC_CONFIGURE = "clinic.configure"
    AUDIT_VIEW = "audit.view"
    INTAKE_VIEW = "intake.view"
    INTAKE_MANAGE = "intake.manage"
    INSTRUMENT_MANAGE = "instrument.manage"
    # Actions on one patient
    DEMOGRAPHICS_VIEW = "demographics.view"
    DEMOGRAPHICS_EDIT = "demographics.edit"
    CARE_TEAM_MANAGE = "care_team.manage"
    CLINICAL_VIEW = "clinical.view"
    CLINICAL_EDIT = "clinical.edit"
    PORTAL_INVITE = "portal.invite"
    SCREENING_RECORD = "screening.record"
    ELIGIBILITY_DECIDE = "eligibility.decide"
    DOSING_MEDICAL = "dosing.medical"
    DOSE_ADMINISTER = "dose.administer"
    # Scheduling (clinic-wide)
    SCHEDULE_VIEW = "schedule.view"
    SCHEDULE_MANAGE = "schedule.manage"
    # Outcomes and reports (clinic-wide)
    OUTCOMES_VIEW = "outcomes.view"
    OUTCOMES_EXPORT = "outcomes.export"
    # The controlled-substance ledger (clinic-wide)
    STOCK_VIEW = "stock.view"
    STOCK_MANAGE = "stock.manage"
    # FHIR bulk data export of a group of patients or the whole clinic (clinic-wide)
    BULK_EXPORT = "bulk.export"


# Plain words for refusals people read on the 403 page and in the access log.
ROLE_WORDS: dict[Role, str] = {
    Role.CLINIC_ADMIN: "a clinic admin",
    Role.FRONT_DESK: "front desk staff",
    Role.THERAPIST: "a therapist",
    Role.PRESCRIBER: "a prescriber",
    Role.NURSE: "a nurse",
}
ACTION_WORDS: dict[Action, str] = {
    Action.PATIENT_SEARCH: "search patients",
    Action.PATIENT_CREATE: "create patient records",
    Action.STAFF_MANAGE: "manage staff",
    Action.CLINIC_CONFIGURE: "change clinic settings",
    Action.AUDIT_VIEW: "read the access log",
    Action.INTAKE_VIEW: "read appointment requests",
    Action.INTAKE_MANAGE: "work on appointment requests",
    Action.INSTRUMENT_MANAGE: "add the clinic's own questionnaires",
    Action.PORTAL_INVITE: "invite a patient to the portal",
    Action.SCREENING_RECORD: "record a medical screening (medical professionals only)",
    Action.ELIGIBILITY_DECIDE: "decide eligibility (prescribers only)",
    Action.DOSING_MEDICAL: "check in, monitor or discharge a dosing session (medical professionals only)",
    Action.DOSE_ADMINISTER: "record a medication administration (medical professionals only)",
    Action.SCHEDULE_VIEW: "see the clinic's calendars",
    Action.SCHEDULE_MANAGE: "book, move or cancel appointments",
    Action.OUTCOMES_VIEW: "see the clinic's outcomes and safety figures",
    Action.OUTCOMES_EXPORT: "export reports and de-identified research data",
    Action.STOCK_VIEW: "read the controlled-substance ledger",
    Action.STOCK_MANAGE: "record controlled-substance stock (medical professionals only)",
    Action.BULK_EXPORT: "export the clinic's records in bulk (FHIR $export)",
    Action.DEMOGRAPHICS_VIEW: "see patient details",
    Action.DEMOGRAPHICS_EDIT: "edit patient details",
    Action.CARE_TEAM_MANAGE: "change a care team",
    Action.CLINICAL_VIEW: "read clinical information",
    Action.CLINICAL_EDIT: "write clinical information",
}

ALL_STAFF = frozenset(Role)
ADMIN_AND_DESK = frozenset({Role.CLINIC_ADMIN, Role.FRONT_DESK})

# Which roles may take each action at all, before any care-team condition.
ROLE_GRANTS: dict[Action, frozenset[Role]] = {
    Action.PATIENT_SEARCH: ALL_STAFF,
    Action.PATIENT_CREATE: ADMIN_AND_DESK,
    Action.STAFF_MANAGE: frozenset({Role.CLINIC_ADMIN}),
    Action.CLINIC_CONFIGURE: frozenset({Role.CLINIC_ADMIN}),
    Action.AUDIT_VIEW: frozenset({Role.CLINIC_ADMIN}),
    Action.INTAKE_VIEW: ADMIN_AND_DESK,
    Action.INTAKE_MANAGE: ADMIN_AND_DESK,
    Action.INSTRUMENT_MANAGE: frozenset({Role.CLINIC_ADMIN}),
    Action.DEMOGRAPHICS_VIEW: ALL_STAFF,
    Action.DEMOGRAPHICS_EDIT: ALL_STAFF,
    Action.CARE_TEAM_MANAGE: ADMIN_AND_DESK,
    Action.CLINICAL_VIEW: CLINICAL_ROLES,
    Action.CLINICAL_EDIT: CLINICAL_ROLES,
    Action.PORTAL_INVITE: ADMIN_AND_DESK,
    Action.SCREENING_RECORD: MEDICAL_ROLES,
    Action.ELIGIBILITY_DECIDE: frozenset({Role.PRESCRIBER}),
    Action.DOSING_MEDICAL: MEDICAL_ROLES,
    Action.DOSE_ADMINISTER: MEDICAL_ROLES,
    Action.SCHEDULE_VIEW: ALL_STAFF,
    Action.SCHEDULE_MANAGE: ALL_STAFF,
    Action.OUTCOMES_VIEW: MEDICAL_ROLES | {Role.CLINIC_ADMIN},
    Action.OUTCOMES_EXPORT: MEDICAL_ROLES | {Role.CLINIC_ADMIN},
    Action.STOCK_VIEW: MEDICAL_ROLES | {Role.CLINIC_ADMIN},
    Action.STOCK_MANAGE: MEDICAL_ROLES,
    Action.BULK_EXPORT: frozenset({Role.CLINIC_ADMIN}),
}

# Actions a clinician may take on a patient only while on that patient's care team.
CARE_TEAM_ONLY: frozenset[Action] = frozenset(
    {
        Action.CLINICAL_VIEW,
        Action.CLINICAL_EDIT,
        Action.DEMOGRAPHICS_EDIT,
        Action.SCREENING_RECORD,
        Action.ELIGIBILITY_DECIDE,
        Action.DOSING_MEDICAL,
        Action.DOSE_ADMINISTER,
    }
)
PATIENT_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.DEMOGRAPHICS_VIEW,
        Action.DEMOGRAPHICS_EDIT,
        Action.CARE_TEAM_MANAGE,
        Action.CLINICAL_VIEW,
        Action.CLINICAL_EDIT,
        Action.PORTAL_INVITE,
        Action.SCREENING_RECORD,
        Action.ELIGIBILITY_DECIDE,
        Action.DOSING_MEDICAL,
        Action.DOSE_ADMINISTER,
    }
)


@dataclass(frozen=True)
class Actor:
    user_id: int
    clinic_id: int
    role: Role


@dataclass(frozen=True)
class PatientFacts:
    clinic_id: int
    care_team_user_ids: frozenset[int]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    # True when the actor must not even learn that the record exists (answer 404, not 403).
    hide: bool = False

    def __bool__(self) -> bool:
        return self.allowed


def decide(actor: Actor, action: Action, patient: PatientFacts | None = None) -> Decision:
    """May ``actor`` take ``action`` (on ``patient``, for patient actions)?"""
    if action in PATIENT_ACTIONS:
        if patient is None:
            raise ValueError(f"{action} is an action on a patient; pass the patient's facts.")
        if patient.clinic_id != actor.clinic_id:
            return Decision(False, "The patient belongs to another clinic.", hide=True)
    if actor.role not in ROLE_GRANTS[action]:
        return Decision(False, f"As {ROLE_WORDS[actor.role]} you may not {ACTION_WORDS[action]} ({action}).")
    if (
        patient is not None
        and action in CARE_TEAM_ONLY
        and actor.role in CLINICAL_ROLES
        and actor.user_id not in patient.care_team_user_ids
    ):
        return Decision(
            False,
            f"Only clinicians on this patient's care team may {ACTION_WORDS[action]}; "
            "ask the front desk or clinic admin to add you.",
        )
    return Decision(True, "allowed")
