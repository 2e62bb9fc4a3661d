"""Pieces the course, note, appointment, measure and screening endpoints share: how a person
is shown, the problem+json responses in the schema, date bounds that cannot overflow, the
access-log entry of a single read, and a Django form's errors as the API's field errors."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from kapflow.accounts.models import Membership
from kapflow.api.serializers import Strict
from kapflow.core import audit
from kapflow.core.access import deny
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient

# Dates outside these years are clamped when they bound a search of moments: the clinic's
# time zone added to 0001-01-01 or 9999-12-31 leaves Python's range (a 500, not an answer).
SEARCH_FLOOR, SEARCH_CEILING = date(1900, 1, 1), date(9000, 12, 31)

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The record's ETag, as last read (412 when it changed since, 428 without it).",
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="The record's version: send it back in If-Match to change the record.",
)


class StaffOut(serializers.Serializer):
    """A staff member, as shown on records: their name and the email that identifies them."""

    name = serializers.CharField(source="full_name", read_only=True)
    email = serializers.EmailField(read_only=True)


class FieldErrorOut(serializers.Serializer):
    field = serializers.CharField(
        help_text="The field (dotted for nested ones); empty for the request as a whole."
    )
    message = serializers.CharField()


class NoBody(Strict):
    """An action that takes no input: any field sent is refused by name."""


def bounds(filters: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """``since``/``until`` as the start and end of those days in the clinic's time zone."""
    since: date | None = filters.get("since")
    until: date | None = filters.get("until")
    zone = timezone.get_current_timezone()
    start = datetime.combine(max(since, SEARCH_FLOOR), time.min, tzinfo=zone) if since else None
    end = datetime.combine(min(until, SEARCH_CEILING), time.max, tzinfo=zone) if until else None
    return start, end


def log_read(
    member: Membership, patient: Patient, detail: str, category: DataCategory = DataCategory.CLINICAL
) -> None:
    """The access-log entry of one record read through the API."""
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=category,
        detail=f"API: {detail}",
    )


def form_errors(form: forms.Form, names: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The form's errors as the API's field errors (``names`` renames form fields)."""
    names = names or {}
    detail: dict[str, list[str]] = {}
    for field, messages in form.errors.items():
        name = "non_field_errors" if field == "__all__" else names.get(field, field)
        detail.setdefault(name, []).extend(str(m) for m in messages)
    return detail


def staff_by_email(member: Membership, emails: list[str], field: str) -> list[int]:
    """User ids of the clinic's active staff with these emails (400 naming each unknown one)."""
    found: list[int] = []
    unknown: dict[str, list[str]] = {}
    for index, email in enumerate(emails):
        row = Membership.objects.filter(
            clinic=member.clinic, user__email__iexact=email, is_active=True
        ).first()
        if row is None:
            unknown[f"{field}.{index}"] = [_("No active staff member of this clinic has that email.")]
        else:
            found.append(row.user_id)
    if unknown:
        raise ValidationError(unknown)
    return found


def in_clinic(
    rows: QuerySet[Any], member: Membership, public_id: uuid.UUID, action: Action, what: str
) -> Any:
    """The clinic's row with this public id, if the member may take ``action`` on its patient:
    404 when it is not the clinic's (the refusal is logged), 403 or 404 as ``access_patient``."""
    row = rows.filter(clinic=member.clinic, public_id=public_id).select_related("patient").first()
    if row is None:
        elsewhere = rows.model._default_manager.filter(public_id=public_id).select_related("patient").first()
        deny(
            member,
            action,
            f"no {what} with that id in this clinic",
            elsewhere.patient if elsewhere is not None else None,
            hide=True,
        )
        raise AssertionError("deny() always raises")
    access_patient(member=member, public_id=row.patient.public_id, action=action, log_view=False)
    return row
