"""Writes on appointment requests: from the public site, and by the clinic's staff.

Staff services check permission, save and audit in one transaction. A request from the
public is audited too (no user), and the clinic is told by an email that carries no name,
contact detail or answer of the person: only a link to the request.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.core.roles import Role
from kapflow.intake import prescreen
from kapflow.intake.models import (
    ActivityKind,
    AppointmentRequest,
    RequestActivity,
    RequestStatus,
)
from kapflow.patients import services as patient_services
from kapflow.patients.models import Patient


class RateLimited(ApplicationError):
    status = 429


def source_key(address: str) -> str:
    """A keyed hash of the sender's network address: enough to count, not to identify."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def notification_recipients(clinic: Clinic) -> list[str]:
    if clinic.email:
        return [clinic.email]
    return sorted(
        Membership.objects.filter(
            clinic=clinic, is_active=True, role__in=[Role.CLINIC_ADMIN, Role.FRONT_DESK]
        ).values_list("user__email", flat=True)
    )


def request_submit(
    *, clinic: Clinic, data: dict[str, Any], answers: dict[str, str] | None, source: str, link: str
) -> AppointmentRequest:
    """Store a request from the public site. ``link`` has a ``{id}`` slot for the request."""
    key = source_key(source)
    since = timezone.now() - timedelta(minutes=settings.KAPFLOW_INTAKE_RATE_WINDOW_MINUTES)
    outcome = ""
    if answers is not None:
        outcome = prescreen.evaluate(answers).outcome.value
    with transaction.atomic():
        recent = AppointmentRequest.objects.filter(source_key=key, created_at__gte=since).count()
        if recent >= settings.KAPFLOW_INTAKE_RATE_LIMIT:
            raise RateLimited(
                _(
                    "We have already received several requests from your connection in the last "
                    "hour. Please wait a while before sending another, or call the clinic."
                )
            )
        request = AppointmentRequest.objects.create(
            clinic=clinic, prescreen=answers, prescreen_outcome=outcome, source_key=key, **data
        )
        audit.record(
            user=None,
            clinic=clinic,
            action=AuditAction.CREATE,
            category=DataCategory.INTAKE,
            detail=f"appointment request {request.public_id} from the public site",
        )
        recipients = notification_recipients(clinic)
        body = render_to_string(
            "intake/email/new_request.txt", {"clinic": clinic, "url": link.format(id=request.public_id)}
        )
        if recipients:
            transaction.on_commit(
                lambda: send_mail(
                    _("New appointment request at %(clinic)s") % {"clinic": clinic.name},
                    body,
                    settings.DEFAULT_FROM_EMAIL,
                    recipients,
                )
            )
    return request


def _locked(member: Membership, request: AppointmentRequest) -> AppointmentRequest:
    require(member, Action.INTAKE_MANAGE)
    if request.clinic_id != member.clinic_id:
        raise ApplicationError(_("That request belongs to another clinic."))
    return AppointmentRequest.objects.select_for_update().get(pk=request.pk)


def _log(member: Membership, request: AppointmentRequest, kind: str, detail: str, **fields: Any) -> None:
    RequestActivity.objects.create(request=request, kind=kind, by=member.user, **fields)
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=request.patient,
        action=AuditAction.UPDATE,
        category=DataCategory.INTAKE,
        detail=f"request {request.public_id}: {detail}",
    )


def _save(request: AppointmentRequest, *fields: str) -> None:
    request.version += 1
    request.save(update_fields=[*fields, "version", "updated_at"])


def request_set_status(*, member: Membership, request: AppointmentRequest, status: str) -> AppointmentRequest:
    with transaction.atomic():
        current = _locked(member, request)
        if current.status == status:
            return current
        old = current.get_status_display()
        current.status = status
        if status != RequestStatus.DUPLICATE:
            current.duplicate_of = None
        _save(current, "status", "duplicate_of")
        text = f"{old} → {current.get_status_display()}"
        _log(member, current, ActivityKind.STATUS, f"status {status}", text=text)
    return current


def request_record_contact(
    *, member: Membership, request: AppointmentRequest, method: str, outcome: str, text: str
) -> AppointmentRequest:
    with transaction.atomic():
        current = _locked(member, request)
        _log(
            member,
            current,
            ActivityKind.CONTACT_ATTEMPT,
            f"contact attempt ({method}, {outcome})",
            method=method,
            outcome=outcome,
            text=text,
        )
        if current.status == RequestStatus.NEW:
            current.status = RequestStatus.CONTACTED
            _save(current, "status")
    return current


def request_add_note(*, member: Membership, request: AppointmentRequest, text: str) -> None:
    with transaction.atomic():
        current = _locked(member, request)
        _log(member, current, ActivityKind.NOTE, "note added", text=text)


def request_assign(
    *, member: Membership, request: AppointmentRequest, assignee_id: int | None
) -> AppointmentRequest:
    with transaction.atomic():
        current = _locked(member, request)
        assignee = None
        if assignee_id is not None:
            target = Membership.objects.filter(pk=assignee_id, clinic=member.clinic, is_active=True).first()
            if target is None:
                raise ApplicationError(_("Choose an active staff member of this clinic."))
            assignee = target.user
        current.assigned_to = assignee
        _save(current, "assigned_to")
        name = assignee.full_name if assignee else _("nobody")
        _log(
            member,
            current,
            ActivityKind.ASSIGNED,
            f"assigned to {assignee.email if assignee else 'nobody'}",
            text=_("Assigned to %(name)s") % {"name": name},
        )
    return current


def request_mark_duplicate(*, member: Membership, request: AppointmentRequest, of: str) -> AppointmentRequest:
    with transaction.atomic():
        current = _locked(member, request)
        original = (
            AppointmentRequest.objects.filter(clinic=member.clinic, public_id=of).first()
            if _is_uuid(of)
            else None
        )
        if original is None or original.pk == current.pk:
            raise ApplicationError(_("No other request of this clinic has that reference."))
        current.status = RequestStatus.DUPLICATE
        current.duplicate_of = original
        _save(current, "status", "duplicate_of")
        _log(
            member,
            current,
            ActivityKind.STATUS,
            f"duplicate of {original.public_id}",
            text=_("Marked as a duplicate of %(ref)s") % {"ref": original.public_id},
        )
    return current


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def request_convert(
    *, member: Membership, request: AppointmentRequest, patient_data: dict[str, Any]
) -> Patient:
    """Create the patient record from a request (one patient per request)."""
    require(member, Action.PATIENT_CREATE)
    with transaction.atomic():
        current = _locked(member, request)
        if current.patient_id is not None:
            raise ApplicationError(_("A patient record was already created from this request."))
        patient = patient_services.patient_create(member=member, data=patient_data)
        current.patient = patient
        _save(current, "patient")
        _log(
            member,
            current,
            ActivityKind.CONVERTED,
            f"patient record {patient.record_number} created",
            text=_("Patient record %(number)s created") % {"number": patient.record_number},
        )
    return patient
