"""What every API view shares: who is calling (a clinic member), the clinic's time zone,
paging, and the access log entry for reads that span several patients."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.db.models import Model, QuerySet
from django.utils import timezone
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.accounts.models import Membership
from kapflow.api.authentication import member_of
from kapflow.api.pagination import Pages
from kapflow.api.serializers import ListFilter, query
from kapflow.core import audit
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient, clinical_patients


class ApiViewSet(viewsets.GenericViewSet):
    pagination_class = Pages
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        timezone.activate(self.member.clinic.tzinfo)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        timezone.deactivate()
        return super().finalize_response(request, response, *args, **kwargs)

    @property
    def member(self) -> Membership:
        return member_of(self.request)

    def lookup(self) -> uuid.UUID:
        """The record's public id from the URL (a malformed one is simply not found)."""
        from rest_framework.exceptions import NotFound

        try:
            return uuid.UUID(str(self.kwargs[self.lookup_field]))
        except ValueError:
            raise NotFound() from None

    def filters(self, serializer: type[ListFilter] = ListFilter) -> dict[str, Any]:
        return query(serializer, self.request.query_params)

    def patients_in_scope(
        self, filters: dict[str, Any], action: Action = Action.CLINICAL_VIEW
    ) -> QuerySet[Patient]:
        """The filtered patient (checked and logged), or every patient the member cares for."""
        if filters.get("patient"):
            patient = access_patient(member=self.member, public_id=filters["patient"], action=action)
            return Patient.objects.filter(pk=patient.pk)
        return clinical_patients(member=self.member, action=action)

    def page(
        self,
        rows: QuerySet[Any],
        serializer: type[Any],
        *,
        what: str,
        patient_field: str = "patient",
        category: DataCategory = DataCategory.CLINICAL,
    ) -> Response:
        page = self.paginate_queryset(rows)
        assert page is not None
        log_list(
            self.member,
            page,
            what=what,
            patient_field=patient_field,
            category=category,
            filtered=bool(self.request.query_params.get("patient")),
        )
        return self.get_paginated_response(
            serializer(page, many=True, context={"request": self.request}).data
        )


def log_list(
    member: Membership,
    rows: list[Model],
    *,
    what: str,
    patient_field: str,
    category: DataCategory,
    filtered: bool,
) -> None:
    """One access-log entry for a page of records; a single patient's page names the patient.
    ``patient_field`` is the rows' foreign key to the patient ("" when the rows are patients)."""
    patient_ids = {getattr(row, f"{patient_field}_id") if patient_field else row.pk for row in rows}
    if filtered or not patient_ids:
        return  # access_patient logged the one patient's read; an empty page shows nothing
    patient: Patient | None = None
    if len(patient_ids) == 1:  # the rows' own (selected) patient: no query of its own
        patient = getattr(rows[0], patient_field) if patient_field else cast(Patient, rows[0])
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=category,
        detail=f"API list of {what}: {len(rows)} record(s) of {len(patient_ids)} patient(s)",
    )
