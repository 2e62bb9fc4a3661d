"""Measurement-based care over the API, for the clinicians on the patient's care team (as on
the measures pages): ``/api/v1/measure-assignments/`` (list, assign), ``/api/v1/measure-responses/``
(scores, bands, answers and corrections) and ``/api/v1/safety-alerts/`` (record the action taken)."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.api.serializers import ListFilter, Strict
from kapflow.api.versions import honour_if_match, tagged
from kapflow.api.views.base import ApiViewSet
from kapflow.api.views.common import (
    ETAG,
    StaffOut,
    bounds,
    form_errors,
    in_clinic,
    log_read,
)
from kapflow.core.models import DataCategory
from kapflow.core.permissions import Action
from kapflow.measures import registry, selectors, services
from kapflow.measures.forms import AcknowledgeForm, AssignForm
from kapflow.measures.models import (
    AlertSeverity,
    AlertStatus,
    MeasureAssignment,
    MeasureResponse,
    SafetyAlert,
    Schedule,
)
from kapflow.patients.selectors import access_patient
from kapflow.scheduling.forms import OUT_OF_RANGE, in_range

# --- assignments ------------------------------------------------------------------------------


class AssignmentOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    instrument = serializers.CharField(source="instrument_key", read_only=True)

    class Meta:
        model = MeasureAssignment
        fields = [
            "id", "patient", "instrument", "schedule", "interval_days", "hours_after", "starts_on", "ends_on",
            "stopped_at", "version", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AssignmentQuery(ListFilter):
    """``since``/``until`` bound the day the assignment starts."""

    instrument = serializers.CharField(
        required=False, max_length=40, help_text="An instrument key, e.g. phq9."
    )


def _in_range(day: date | None) -> date | None:
    if day is not None and not in_range(day):
        raise serializers.ValidationError(str(OUT_OF_RANGE))
    return day


class AssignmentIn(Strict):
    patient = serializers.UUIDField(help_text="The patient's public id.")
    instrument = serializers.CharField(
        max_length=40, help_text="A patient-rated instrument's key, e.g. phq9."
    )
    schedule = serializers.ChoiceField(choices=Schedule.choices)
    interval_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=365, help_text="For every_n_days."
    )
    hours_after = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=336, help_text="For after_dosing."
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)

    def validate_starts_on(self, value: date) -> date | None:
        return _in_range(value)

    def validate_ends_on(self, value: date | None) -> date | None:
        return _in_range(value)


def _assignments() -> Any:
    return MeasureAssignment.objects.select_related("patient").filter(voided_at__isnull=True)


class AssignmentViewSet(ApiViewSet):
    serializer_class = AssignmentOut

    @extend_schema(parameters=[AssignmentQuery], responses=AssignmentOut(many=True))
    def list(self, request: Request) -> Response:
        """What the patients on your care teams (or ``patient``) are asked to complete."""
        filters = self.filters(AssignmentQuery)
        rows = _assignments().filter(
            clinic=self.member.clinic, patient__in=self.patients_in_scope(filters).values("pk")
        )
        if filters.get("instrument"):
            rows = rows.filter(instrument_key=filters["instrument"])
        if filters.get("since"):
            rows = rows.filter(starts_on__gte=filters["since"])
        if filters.get("until"):
            rows = rows.filter(starts_on__lte=filters["until"])
        return self.page(
            rows.order_by("-created_at", "-id"),
            AssignmentOut,
            what="measure assignments",
            category=DataCategory.MEASURES,
        )

    @extend_schema(request=AssignmentIn, parameters=[ETAG], responses={201: AssignmentOut})
    def create(self, request: Request) -> Response:
        """Ask the patient to complete an instrument once or on a schedule (care team only)."""
        incoming = AssignmentIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(incoming.validated_data)
        patient = access_patient(
            member=self.member, public_id=data["patient"], action=Action.CLINICAL_EDIT, log_view=False
        )
        form = AssignForm(
            data={
                "instrument": data["instrument"],
                "schedule": data["schedule"],
                "interval_days": data.get("interval_days") or "",
                "hours_after": data.get("hours_after") or "",
                "starts_on": data["starts_on"],
                "ends_on": data.get("ends_on") or "",
            },
            instruments=registry.available(self.member.clinic),
        )
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        cleaned = form.cleaned_data
        honour_if_match(request, None)
        assignment = services.assignment_create(
            member=self.member,
            patient=patient,
            instrument_key=cleaned["instrument"],
            schedule=cleaned["schedule"],
            starts_on=cleaned["starts_on"],
            ends_on=cleaned["ends_on"],
            interval_days=cleaned["interval_days"],
            hours_after=cleaned["hours_after"],
        )
        return tagged(Response(AssignmentOut(assignment).data, status=status.HTTP_201_CREATED), assignment)


# --- responses --------------------------------------------------------------------------------


class FlagOut(serializers.Serializer):
    rule = serializers.CharField()
    item = serializers.CharField(allow_null=True)
    severity = serializers.CharField()
    message = serializers.CharField()


class ResponseOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    instrument = serializers.CharField(source="instrument_key", read_only=True)
    answers = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="Item id -> the value answered."
    )
    total = serializers.IntegerField(read_only=True, allow_null=True)
    band = serializers.CharField(read_only=True, help_text="The total's severity band (empty when none).")
    flags = FlagOut(many=True, read_only=True)
    replaces = serializers.UUIDField(
        source="replaces.public_id", read_only=True, allow_null=True, help_text="The response this corrects."
    )
    replaced_by = serializers.SerializerMethodField(help_text="The correction that replaces this response.")

    class Meta:
        model = MeasureResponse
        fields = [
            "id", "patient", "instrument", "instrument_version", "instrument_name", "answers", "total", "band",
            "risk", "flags", "answered_at", "source", "replaces", "replaced_by", "correction_reason",
            "version", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_replaced_by(self, response: MeasureResponse) -> str | None:
        correction = getattr(response, "replaced_by", None)
        return str(correction.public_id) if correction is not None else None


class ResponseQuery(ListFilter):
    """``since``/``until`` bound the day the questionnaire was answered (the clinic's time zone)."""

    instrument = serializers.CharField(
        required=False, max_length=40, help_text="An instrument key, e.g. phq9."
    )
    current = serializers.BooleanField(
        required=False,
        default=None,
        allow_null=True,
        help_text="true: only responses no correction replaced.",
    )


def _responses() -> Any:
    return MeasureResponse.objects.select_related("patient", "replaces", "replaced_by")


class ResponseViewSet(ApiViewSet):
    serializer_class = ResponseOut

    @extend_schema(parameters=[ResponseQuery], responses=ResponseOut(many=True))
    def list(self, request: Request) -> Response:
        """Responses of the patients on your care teams (or ``patient``), newest first; a correction
        and the response it replaces are both listed, linked by ``replaces``/``replaced_by``."""
        filters = self.filters(ResponseQuery)
        rows = _responses().filter(
            clinic=self.member.clinic, patient__in=self.patients_in_scope(filters).values("pk")
        )
        if filters.get("instrument"):
            rows = rows.filter(instrument_key=filters["instrument"])
        if filters.get("current"):
            rows = rows.filter(replaced_by__isnull=True)
        start, end = bounds(filters)
        if start:
            rows = rows.filter(answered_at__gte=start)
        if end:
            rows = rows.filter(answered_at__lte=end)
        return self.page(
            rows.order_by("-answered_at", "-id"),
            ResponseOut,
            what="measure responses",
            category=DataCategory.MEASURES,
        )

    @extend_schema(parameters=[ETAG], responses=ResponseOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        found = in_clinic(
            MeasureResponse.objects.all(), self.member, self.lookup(), Action.CLINICAL_VIEW, "response"
        )
        selectors.access_response(member=self.member, patient=found.patient, public_id=found.public_id)
        response = _responses().get(pk=found.pk)
        return tagged(Response(ResponseOut(response).data), response)


# --- safety alerts ----------------------------------------------------------------------------


class AlertOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    response = serializers.UUIDField(source="response.public_id", read_only=True)
    instrument = serializers.CharField(source="response.instrument_key", read_only=True)
    acknowledged_by = StaffOut(read_only=True, allow_null=True)

    class Meta:
        model = SafetyAlert
        fields = [
            "id", "patient", "response", "instrument", "severity", "reason", "created_at", "due_by", "status",
            "acknowledged_by", "acknowledged_at", "action_taken",
        ]  # fmt: skip
        read_only_fields = fields


class AlertQuery(ListFilter):
    """``since``/``until`` bound the day the alert was raised (the clinic's time zone)."""

    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)
    severity = serializers.ChoiceField(choices=AlertSeverity.choices, required=False)


class AcknowledgeIn(Strict):
    action_taken = serializers.CharField(
        max_length=3000, help_text="For example: called the patient, completed a risk assessment."
    )


def _alerts() -> Any:
    return SafetyAlert.objects.select_related("patient", "response", "acknowledged_by")


class AlertViewSet(ApiViewSet):
    serializer_class = AlertOut

    @extend_schema(parameters=[AlertQuery], responses=AlertOut(many=True))
    def list(self, request: Request) -> Response:
        """Alerts of the patients on your care teams (or ``patient``), the most urgent first."""
        filters = self.filters(AlertQuery)
        rows = _alerts().filter(
            clinic=self.member.clinic, patient__in=self.patients_in_scope(filters).values("pk")
        )
        if filters.get("status"):
            rows = rows.filter(status=filters["status"])
        if filters.get("severity"):
            rows = rows.filter(severity=filters["severity"])
        start, end = bounds(filters)
        if start:
            rows = rows.filter(created_at__gte=start)
        if end:
            rows = rows.filter(created_at__lte=end)
        return self.page(
            rows.order_by("due_by", "id"), AlertOut, what="safety alerts", category=DataCategory.MEASURES
        )

    def _alert(self, action: Action) -> SafetyAlert:
        return in_clinic(_alerts(), self.member, self.lookup(), action, "safety alert")

    @extend_schema(responses=AlertOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        alert = self._alert(Action.CLINICAL_VIEW)
        log_read(self.member, alert.patient, f"safety alert {alert.public_id}", DataCategory.MEASURES)
        return Response(AlertOut(alert).data)

    @extend_schema(request=AcknowledgeIn, responses=AlertOut)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, public_id: str) -> Response:
        """Record the action taken; the alert is closed (409 if someone already did)."""
        alert = self._alert(Action.CLINICAL_EDIT)
        incoming = AcknowledgeIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = AcknowledgeForm(data={"action_taken": incoming.validated_data["action_taken"]})
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        honour_if_match(request, None)  # an alert has no ETag: only "*" holds
        done = services.alert_acknowledge(
            member=self.member, alert=alert, action_taken=form.cleaned_data["action_taken"]
        )
        return Response(AlertOut(_alerts().get(pk=done.pk)).data)
