"""``/api/v1/patients/``: search and read patient records; create and edit them (the same
form rules and services as the pages)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.api.serializers import Strict
from kapflow.api.versions import honour_if_match, tagged, versioned_change
from kapflow.api.views.base import ApiViewSet
from kapflow.api.views.common import IF_MATCH
from kapflow.core.models import DataCategory
from kapflow.core.permissions import Action
from kapflow.patients import selectors, services
from kapflow.patients.forms import PatientForm
from kapflow.patients.models import Patient, SexAtBirth

FIELDS = [name for name in PatientForm.Meta.fields]


class PatientOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    # Optional on the record: "" when none was given (the schema must allow that, not just emails).
    email = serializers.EmailField(read_only=True, allow_blank=True)

    class Meta:
        model = Patient
        fields = ["id", *FIELDS, "version", "created_at", "updated_at"]
        read_only_fields = fields


class PatientIn(Strict):
    record_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    legal_given_name = serializers.CharField(max_length=120, required=False)
    legal_family_name = serializers.CharField(max_length=120, required=False)
    preferred_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    pronouns = serializers.CharField(max_length=40, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False)
    sex_at_birth = serializers.ChoiceField(choices=SexAtBirth.choices, required=False)
    gender_identity = serializers.CharField(max_length=80, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    emergency_contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    emergency_contact_relationship = serializers.CharField(max_length=80, required=False, allow_blank=True)
    emergency_contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class PatientQuery(Strict):
    q = serializers.CharField(
        required=False, max_length=200, help_text="Name, date of birth or record number."
    )


def _form_data(patient: Patient | None, changes: dict[str, Any]) -> dict[str, Any]:
    """The page's form, filled from the record and the caller's changes: its rules apply."""
    data: dict[str, Any] = {}
    if patient is not None:
        data = {name: getattr(patient, name) for name in FIELDS}
    data.update(changes)
    return {key: ("" if value is None else value) for key, value in data.items()}


def _validated(patient: Patient | None, changes: dict[str, Any]) -> dict[str, Any]:
    form = PatientForm(data=_form_data(patient, changes), instance=patient)
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return {key: value for key, value in form.cleaned_data.items() if key != "version"}


class PatientViewSet(ApiViewSet):
    serializer_class = PatientOut

    @extend_schema(parameters=[PatientQuery], responses=PatientOut(many=True))
    def list(self, request: Request) -> Response:
        """Patients matching ``q``; without it, every patient of the clinic (details are clinic-wide,
        as on the patient search page; clinical records are listed for care teams only)."""
        params = self.filters(PatientQuery)
        if params.get("q"):
            rows: list[Patient] | QuerySet[Patient] = selectors.patient_search(
                member=self.member, query=params["q"]
            )
            page = self.paginate_queryset(rows)
            return self.get_paginated_response(PatientOut(page, many=True).data)
        rows = selectors.clinical_patients(member=self.member, action=Action.DEMOGRAPHICS_VIEW).order_by(
            "legal_family_name", "legal_given_name", "id"
        )
        return self.page(
            rows, PatientOut, what="patients", patient_field="", category=DataCategory.DEMOGRAPHICS
        )

    @extend_schema(responses=PatientOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        patient = selectors.access_patient(
            member=self.member, public_id=self.lookup(), action=Action.DEMOGRAPHICS_VIEW
        )
        return tagged(Response(PatientOut(patient).data), patient)

    @extend_schema(request=PatientIn, responses={201: PatientOut})
    def create(self, request: Request) -> Response:
        incoming = PatientIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        missing = [
            n
            for n in ("legal_given_name", "legal_family_name", "date_of_birth")
            if n not in incoming.validated_data
        ]
        if missing:
            raise ValidationError({name: [_("This field is required.")] for name in missing})
        honour_if_match(request, None)
        try:
            patient = services.patient_create(
                member=self.member, data=_validated(None, dict(incoming.validated_data))
            )
        except services.DuplicateRecordNumber as exc:
            raise ValidationError({"record_number": [exc.message]}) from None
        return tagged(Response(PatientOut(patient).data, status=status.HTTP_201_CREATED), patient)

    @extend_schema(
        request=PatientIn,
        responses=PatientOut,
        parameters=[IF_MATCH],
    )
    def partial_update(self, request: Request, public_id: str) -> Response:
        patient = selectors.access_patient(
            member=self.member, public_id=self.lookup(), action=Action.DEMOGRAPHICS_EDIT, log_view=False
        )
        incoming = PatientIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = _validated(patient, dict(incoming.validated_data))
        try:
            updated = versioned_change(
                request,
                patient,
                lambda version: services.patient_update(
                    member=self.member, patient=patient, data=data, base_version=version
                ),
            )
        except services.DuplicateRecordNumber as exc:
            raise ValidationError({"record_number": [exc.message]}) from None
        return tagged(Response(PatientOut(updated).data), updated)
