"""Reads of appointment requests, scoped to the member's clinic and checked for access."""

from __future__ import annotations

import uuid
from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.intake import content
from kapflow.intake.models import AppointmentRequest, PublicPage, RequestStatus
from kapflow.patients.models import Patient

OPEN_STATUSES = (RequestStatus.NEW, RequestStatus.CONTACTED)
QUEUE_LIMIT = 200


def request_queue(
    *, member: Membership, status: str = "", mine: bool = False
) -> QuerySet[AppointmentRequest]:
    require(member, Action.INTAKE_VIEW)
    requests = AppointmentRequest.objects.filter(clinic=member.clinic).select_related(
        "assigned_to", "patient"
    )
    if status == "all":
        pass
    elif status:
        requests = requests.filter(status=status)
    else:
        requests = requests.filter(status__in=OPEN_STATUSES)
    if mine:
        requests = requests.filter(assigned_to=member.user)
    audit.record(
        user=member.user,
        clinic=member.clinic,
        action=AuditAction.VIEW,
        category=DataCategory.INTAKE,
        detail=f"request queue ({status or 'open'})",
    )
    return requests.order_by("-created_at")


def access_request(
    *, member: Membership, public_id: uuid.UUID | str, log_view: bool = True
) -> AppointmentRequest:
    require(member, Action.INTAKE_VIEW)
    request = (
        AppointmentRequest.objects.select_related("assigned_to", "patient", "duplicate_of")
        .filter(clinic=member.clinic, public_id=public_id)
        .first()
    )
    if request is None:
        raise Http404("No such request in this clinic.")
    if log_view:
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=request.patient,
            action=AuditAction.VIEW,
            category=DataCategory.INTAKE,
            detail=f"request {request.public_id}",
        )
    return request


def possible_duplicates(
    *, clinic: Clinic, given: str, family: str, born: date | None, email: str
) -> list[Patient]:
    """Patients who may be the same person: same name and date of birth, or same email."""
    match = Q()
    if given and family and born:
        match |= Q(legal_given_name__iexact=given, legal_family_name__iexact=family, date_of_birth=born)
    if email:
        match |= Q(email__iexact=email)
    if not match:
        return []
    return list(Patient.objects.filter(clinic=clinic, voided_at__isnull=True).filter(match)[:10])


def public_page(clinic: Clinic, slug: str) -> tuple[str, str, PublicPage | None]:
    """A public page's (title, body, row): the clinic's own text, or the shipped one."""
    page = PublicPage.objects.filter(clinic=clinic, slug=slug).first()
    if page is not None:
        return page.title, page.body, page
    title, body = content.DEFAULTS[slug]
    return str(title), str(body), None


def new_request_count(member: Membership) -> int:
    """How many requests wait for a first contact (a number, no patient data: not audited)."""
    require(member, Action.INTAKE_VIEW)
    return AppointmentRequest.objects.filter(clinic=member.clinic, status=RequestStatus.NEW).count()
