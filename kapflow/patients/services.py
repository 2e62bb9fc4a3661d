"""Writes to the patient record. Each checks permission, saves and audits in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.core.roles import MEDICAL_ROLES, Role
from kapflow.patients.models import CareTeamMember, CareTeamRole, ClinicalBackground, Patient

STALE_EDIT = _(
    "Someone else saved this record while you were editing it. Your changes are shown below "
    "and have not been saved; compare them with the current record, then save again."
)


class DuplicateRecordNumber(ApplicationError):
    status = 400


def _duplicate(record_number: str) -> DuplicateRecordNumber:
    return DuplicateRecordNumber(
        _("Record number %(number)s is already used in this clinic.") % {"number": record_number}
    )


def _next_record_number(clinic: Clinic) -> str:
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    while True:
        number = f"KAP-{locked.next_record_number:06d}"
        locked.next_record_number += 1
        if not Patient.objects.filter(clinic=clinic, record_number=number).exists():
            break
    locked.save(update_fields=["next_record_number"])
    return number


def patient_create(*, member: Membership, data: dict[str, Any]) -> Patient:
    require(member, Action.PATIENT_CREATE)
    data = {k: v for k, v in data.items() if k != "version"}
    record_number = (data.pop("record_number", "") or "").strip()
    try:
        with transaction.atomic():
            if not record_number:
                record_number = _next_record_number(member.clinic)
            elif Patient.objects.filter(clinic=member.clinic, record_number__iexact=record_number).exists():
                raise _duplicate(record_number)
            patient = Patient.objects.create(
                clinic=member.clinic,
                record_number=record_number,
                created_by=member.user,
                updated_by=member.user,
                **data,
            )
            audit.record(
                user=member.user,
                clinic=member.clinic,
                patient=patient,
                action=AuditAction.CREATE,
                category=DataCategory.DEMOGRAPHICS,
            )
    except IntegrityError:
        raise _duplicate(record_number) from None
    return patient


def patient_update(
    *, member: Membership, patient: Patient, data: dict[str, Any], base_version: int | None
) -> Patient:
    require(member, Action.DEMOGRAPHICS_EDIT, patient)
    data = {k: v for k, v in data.items() if k != "version"}
    record_number = (data.pop("record_number", "") or patient.record_number).strip()
    try:
        with transaction.atomic():
            current = Patient.objects.select_for_update().get(pk=patient.pk)
            if base_version is not None and current.version != base_version:
                raise Conflict(STALE_EDIT)
            if (
                record_number.lower() != current.record_number.lower()
                and Patient.objects.filter(clinic=member.clinic, record_number__iexact=record_number).exists()
            ):
                raise _duplicate(record_number)
            changed = [name for name, value in data.items() if getattr(current, name) != value]
            if record_number != current.record_number:
                changed.append("record_number")
            for name, value in data.items():
                setattr(current, name, value)
            current.record_number = record_number
            current.version += 1
            current.updated_by = member.user
            current.save()
            audit.record(
                user=member.user,
                clinic=member.clinic,
                patient=current,
                action=AuditAction.UPDATE,
                category=DataCategory.DEMOGRAPHICS,
                detail="changed: " + (", ".join(changed) or "nothing"),
            )
    except IntegrityError:
        raise _duplicate(record_number) from None
    return current


def eligible_team_members(clinic: Clinic) -> list[Membership]:
    return list(
        Membership.objects.filter(
            clinic=clinic,
            is_active=True,
            role__in=[Role.THERAPIST, Role.PRESCRIBER, Role.NURSE],
        ).select_related("user")
    )


def care_team_add(*, member: Membership, patient: Patient, membership_id: int) -> CareTeamMember:
    require(member, Action.CARE_TEAM_MANAGE, patient)
    clinician = next((m for m in eligible_team_members(member.clinic) if m.pk == membership_id), None)
    if clinician is None:
        raise ApplicationError(_("Choose an active therapist, prescriber or nurse of this clinic."))
    team_role = CareTeamRole.MEDICAL if clinician.role in MEDICAL_ROLES else CareTeamRole.THERAPIST
    with transaction.atomic():
        if patient.care_team.filter(user=clinician.user, removed_at__isnull=True).exists():
            raise ApplicationError(_("%(name)s is already on the care team.") % {"name": clinician.user})
        row = CareTeamMember.objects.create(
            clinic=member.clinic,
            patient=patient,
            user=clinician.user,
            team_role=team_role,
            added_by=member.user,
        )
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=patient,
            action=AuditAction.UPDATE,
            category=DataCategory.CARE_TEAM,
            detail=f"added {clinician.user.email} as {team_role}",
        )
    return row


def care_team_remove(*, member: Membership, patient: Patient, row_id: int) -> None:
    require(member, Action.CARE_TEAM_MANAGE, patient)
    with transaction.atomic():
        row = patient.care_team.select_for_update().filter(pk=row_id, removed_at__isnull=True).first()
        if row is None:
            raise ApplicationError(_("That person is no longer on the care team."))
        row.removed_at = timezone.now()
        row.removed_by = member.user
        row.save(update_fields=["removed_at", "removed_by"])
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=patient,
            action=AuditAction.UPDATE,
            category=DataCategory.CARE_TEAM,
            detail=f"removed {row.user.email}",
        )


def clinical_background_save(
    *, member: Membership, patient: Patient, data: dict[str, Any], base_version: int | None
) -> ClinicalBackground:
    require(member, Action.CLINICAL_EDIT, patient)
    data = {k: v for k, v in data.items() if k != "version"}
    with transaction.atomic():
        current = ClinicalBackground.objects.select_for_update().filter(patient=patient).first()
        if current is None:
            current = ClinicalBackground.objects.create(
                clinic=patient.clinic, patient=patient, updated_by=member.user, **data
            )
            action = AuditAction.CREATE
        else:
            if base_version is not None and current.version != base_version:
                raise Conflict(STALE_EDIT)
            for name, value in data.items():
                setattr(current, name, value)
            current.version += 1
            current.updated_by = member.user
            current.save()
            action = AuditAction.UPDATE
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=patient,
            action=action,
            category=DataCategory.CLINICAL,
        )
    return current
