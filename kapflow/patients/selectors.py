"""Reads of patient data, always scoped to the member's clinic and checked for access."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from django.db.models import Q, QuerySet

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import actor_for, deny, require
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import CARE_TEAM_ONLY, Action, PatientFacts, decide
from kapflow.patients.models import CareTeamMember, ClinicalBackground, Patient

SEARCH_LIMIT = 50
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")


def parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def patient_search(*, member: Membership, query: str) -> list[Patient]:
    """Patients of the member's clinic matching a name, a date of birth or a record number."""
    require(member, Action.PATIENT_SEARCH)
    query = query.strip()
    patients: QuerySet[Patient] = Patient.objects.filter(clinic=member.clinic, voided_at__isnull=True)
    if not query:
        return []
    born = parse_date(query)
    if born is not None:
        patients = patients.filter(date_of_birth=born)
    else:
        condition = Q(record_number__iexact=query)
        words = [w for w in re.split(r"[\s,]+", query) if w][:4]
        name_match = Q()
        for word in words:
            name_match &= (
                Q(legal_given_name__icontains=word)
                | Q(legal_family_name__icontains=word)
                | Q(preferred_name__icontains=word)
            )
        patients = patients.filter(condition | name_match)
    found = list(patients[:SEARCH_LIMIT])
    audit.record(
        user=member.user,
        clinic=member.clinic,
        action=AuditAction.VIEW,
        category=DataCategory.DEMOGRAPHICS,
        detail=f"patient search: {len(found)} result(s)",
    )
    return found


def my_patients(*, member: Membership) -> list[Patient]:
    """Patients on whose current care team the member is (for a clinician's home page)."""
    return list(
        Patient.objects.filter(
            clinic=member.clinic,
            voided_at__isnull=True,
            care_team__user=member.user,
            care_team__removed_at__isnull=True,
        ).distinct()
    )


def clinical_patients(*, member: Membership, action: Action = Action.CLINICAL_VIEW) -> QuerySet[Patient]:
    """Every patient the member may take ``action`` on: their care teams' patients for a
    care-team action, the whole clinic otherwise. A role never allowed it is refused (logged)."""
    best_case = PatientFacts(clinic_id=member.clinic_id, care_team_user_ids=frozenset({member.user_id}))
    decision = decide(actor_for(member), action, best_case)
    if not decision.allowed:
        deny(member, action, decision.reason)
    patients = Patient.objects.filter(clinic=member.clinic, voided_at__isnull=True)
    if action in CARE_TEAM_ONLY:
        patients = patients.filter(care_team__user=member.user, care_team__removed_at__isnull=True).distinct()
    return patients


def access_patient(
    *, member: Membership, public_id: uuid.UUID | str, action: Action, log_view: bool = True
) -> Patient:
    """The patient, if the member may take ``action`` on them; 404 or 403 (logged) if not."""
    patient = Patient.objects.filter(clinic=member.clinic, public_id=public_id).first()
    if patient is None:
        elsewhere = Patient.objects.filter(public_id=public_id).first()
        deny(member, action, "no patient with that id in this clinic", elsewhere, hide=True)
        raise AssertionError("deny() always raises")
    require(member, action, patient)
    if log_view:
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=patient,
            action=AuditAction.VIEW,
            category=DataCategory.CLINICAL if action == Action.CLINICAL_VIEW else DataCategory.DEMOGRAPHICS,
        )
    return patient


def care_team(patient: Patient) -> list[CareTeamMember]:
    return list(patient.care_team.filter(removed_at__isnull=True).select_related("user"))


def clinical_background(*, member: Membership, patient: Patient) -> ClinicalBackground | None:
    require(member, Action.CLINICAL_VIEW, patient)
    return ClinicalBackground.objects.filter(patient=patient).first()
