"""``/api/v1/appointments/``: the clinic's appointments (every staff role sees the calendars,
``SCHEDULE_VIEW``), booking through the same conflict check as the booking page, and cancelling."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.api.problems import PROBLEM_CONTENT_TYPE, problem
from kapflow.api.serializers import DateTimeField, ListFilter, Strict
from kapflow.api.versions import honour_if_match, tagged, versioned_change
from kapflow.api.views.base import ApiViewSet
from kapflow.api.views.common import (
    ETAG,
    IF_MATCH,
    FieldErrorOut,
    bounds,
    form_errors,
    log_read,
    staff_by_email,
)
from kapflow.clinics.models import Room
from kapflow.core.access import require
from kapflow.core.models import DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.selectors import access_patient
from kapflow.scheduling import conflicts, selectors, services
from kapflow.scheduling.forms import BookForm, CancelForm
from kapflow.scheduling.models import Appointment, AppointmentStaff, Kind, Status


class AttendeeOut(serializers.ModelSerializer):
    name = serializers.CharField(source="user.full_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = AppointmentStaff
        fields = ["name", "email", "role"]
        read_only_fields = fields


class AppointmentOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    course = serializers.UUIDField(source="course.public_id", read_only=True, allow_null=True)
    room = serializers.CharField(source="room.name", read_only=True, allow_null=True)
    staff = AttendeeOut(many=True, read_only=True)
    dosing_session = serializers.UUIDField(source="dosing_session.public_id", read_only=True, allow_null=True)

    class Meta:
        model = Appointment
        fields = [
            "id", "patient", "course", "kind", "route", "starts_at", "ends_at", "room", "staff", "status",
            "dosing_session", "cancel_reason", "change_request", "change_requested_at", "version",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class AppointmentQuery(ListFilter):
    """``since``/``until`` bound the day the appointment starts (the clinic's time zone)."""

    status = serializers.ChoiceField(choices=Status.choices, required=False)
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)


class AppointmentIn(Strict):
    patient = serializers.UUIDField(help_text="The patient's public id.")
    kind = serializers.ChoiceField(choices=Kind.choices)
    start = DateTimeField(help_text="When it starts; its length comes from the kind (or the protocol).")
    staff = serializers.ListField(
        child=serializers.EmailField(),
        max_length=10,
        required=False,
        default=list,
        help_text="The emails of the staff who attend.",
    )
    room = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="The room's name (none if empty).",
    )


class CancelIn(Strict):
    reason = serializers.CharField(
        max_length=300, help_text="Why it is cancelled (kept with the appointment)."
    )


class ConflictOut(serializers.Serializer):
    code = serializers.ChoiceField(choices=[(str(p), str(p)) for p in conflicts.Problem])
    message = serializers.CharField()


class ConflictProblemOut(serializers.Serializer):
    """A booking refused by the scheduler: every conflict, each in plain words."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = FieldErrorOut(many=True)
    conflicts = ConflictOut(many=True)


def _appointments() -> Any:
    return Appointment.objects.select_related("patient", "course", "room", "dosing_session").prefetch_related(
        "staff__user"
    )


def _room_id(member: Any, name: str) -> int | None:
    if not name.strip():
        return None
    rooms = list(Room.objects.filter(clinic=member.clinic, is_active=True, name__iexact=name.strip())[:2])
    if not rooms:
        raise ValidationError({"room": [_("This clinic has no room in use by that name.")]})
    if len(rooms) > 1:
        raise ValidationError({"room": [_("Several rooms have that name; ask an admin to tell them apart.")]})
    return rooms[0].pk


def _conflict_response(exc: services.SchedulingConflict) -> Response:
    body = problem(
        status.HTTP_409_CONFLICT, exc.message, [{"field": "", "message": c.message} for c in exc.conflicts]
    )
    body["conflicts"] = [{"code": str(c.problem), "message": c.message} for c in exc.conflicts]
    return Response(body, status=status.HTTP_409_CONFLICT, content_type=PROBLEM_CONTENT_TYPE)


class AppointmentViewSet(ApiViewSet):
    serializer_class = AppointmentOut

    @extend_schema(parameters=[AppointmentQuery], responses=AppointmentOut(many=True))
    def list(self, request: Request) -> Response:
        """The clinic's appointments (or ``patient``'s), earliest first."""
        filters = self.filters(AppointmentQuery)
        require(self.member, Action.SCHEDULE_VIEW)
        rows = _appointments().filter(clinic=self.member.clinic, voided_at__isnull=True)
        if filters.get("patient"):
            patient = access_patient(
                member=self.member,
                public_id=filters["patient"],
                action=Action.DEMOGRAPHICS_VIEW,
                log_view=False,
            )
            log_read(self.member, patient, "appointments of the patient", DataCategory.SCHEDULE)
            rows = rows.filter(patient=patient)
        start, end = bounds(filters)
        if start:
            rows = rows.filter(starts_at__gte=start)
        if end:
            rows = rows.filter(starts_at__lte=end)
        if filters.get("status"):
            rows = rows.filter(status=filters["status"])
        if filters.get("kind"):
            rows = rows.filter(kind=filters["kind"])
        return self.page(
            rows.order_by("starts_at", "id"),
            AppointmentOut,
            what="appointments",
            category=DataCategory.SCHEDULE,
        )

    def _appointment(self, action: Action = Action.SCHEDULE_VIEW, *, log: bool = True) -> Appointment:
        found = selectors.access_appointment(
            member=self.member, appointment_id=self.lookup(), action=action, log=log
        )
        return _appointments().get(pk=found.pk)

    @extend_schema(parameters=[ETAG], responses=AppointmentOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        appointment = self._appointment()
        return tagged(Response(AppointmentOut(appointment).data), appointment)

    @extend_schema(
        request=AppointmentIn,
        parameters=[ETAG],
        responses={
            201: AppointmentOut,
            (409, PROBLEM_CONTENT_TYPE): ConflictProblemOut,
        },
    )
    def create(self, request: Request) -> Response:
        """Book: every conflict (times, rooms, people, hours, closures, the dosing gate) is
        checked first, and again under locks; a refusal is a 409 naming each conflict."""
        require(self.member, Action.SCHEDULE_MANAGE)
        incoming = AppointmentIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(incoming.validated_data)
        patient = access_patient(
            member=self.member, public_id=data["patient"], action=Action.DEMOGRAPHICS_VIEW, log_view=False
        )
        staff_ids = staff_by_email(self.member, data["staff"], "staff")
        room_id = _room_id(self.member, data["room"])
        local = timezone.localtime(data["start"])
        form = BookForm(
            data={
                "patient": patient.pk,
                "kind": data["kind"],
                "day": local.date().isoformat(),
                "time": local.time().isoformat(),
                "room": room_id or "",
                "staff": staff_ids,
            },
            clinic=self.member.clinic,
        )
        if not form.is_valid():
            raise ValidationError(form_errors(form, {"day": "start", "time": "start"}))
        booking = services.Request(
            patient=patient,
            kind=form.cleaned_data["kind"],
            starts_at=data["start"],
            room_id=room_id,
            staff_ids=tuple(form.cleaned_data["staff"]),
        )
        honour_if_match(request, None)
        try:
            appointment = services.appointment_book(member=self.member, request=booking)
        except services.SchedulingConflict as exc:
            return _conflict_response(exc)
        appointment = _appointments().get(pk=appointment.pk)
        return tagged(Response(AppointmentOut(appointment).data, status=status.HTTP_201_CREATED), appointment)

    @extend_schema(
        request=CancelIn,
        parameters=[IF_MATCH, ETAG],
        responses=AppointmentOut,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, public_id: str) -> Response:
        """Cancel a booked appointment, saying why."""
        appointment = self._appointment(Action.SCHEDULE_MANAGE, log=False)
        incoming = CancelIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = CancelForm(data={"reason": incoming.validated_data["reason"]})
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        cancelled = versioned_change(
            request,
            appointment,
            lambda version: services.appointment_cancel(
                member=self.member,
                appointment=appointment,
                reason=form.cleaned_data["reason"],
                base_version=version,
            ),
        )
        cancelled = _appointments().get(pk=cancelled.pk)
        return tagged(Response(AppointmentOut(cancelled).data), cancelled)
