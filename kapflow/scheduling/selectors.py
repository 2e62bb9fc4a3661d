"""Reads of appointments, scoped to the clinic and audited."""

from __future__ import annotations

import uuid

from django.http import Http404

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import deny, require
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.scheduling.models import Appointment


def access_appointment(
    *,
    member: Membership,
    appointment_id: uuid.UUID | str,
    action: Action = Action.SCHEDULE_VIEW,
    log: bool = True,
) -> Appointment:
    appointment = (
        Appointment.objects.select_related("patient", "room", "course", "dosing_session")
        .filter(clinic=member.clinic, public_id=appointment_id, voided_at__isnull=True)
        .first()
    )
    if appointment is None:
        elsewhere = Appointment.objects.filter(public_id=appointment_id).select_related("patient").first()
        deny(
            member,
            action,
            "no appointment with that id in this clinic",
            elsewhere.patient if elsewhere else None,
            hide=True,
        )
        raise Http404("No such appointment.")
    require(member, action)
    if log:
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=appointment.patient,
            action=AuditAction.VIEW,
            category=DataCategory.SCHEDULE,
            detail=f"appointment {appointment.public_id}",
        )
    return appointment


def patient_appointments(*, member: Membership, patient: Patient) -> list[Appointment]:
    require(member, Action.SCHEDULE_VIEW)
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.SCHEDULE,
        detail="appointments of the patient",
    )
    return list(
        Appointment.objects.filter(patient=patient, voided_at__isnull=True)
        .select_related("room")
        .prefetch_related("staff__user")
        .order_by("-starts_at")
    )
