"""``/api/v1/dosing-sessions/``: sessions with their administrations, monitoring readings and
adverse events; a medical professional records doses and readings through the same services
(and so the same pre-dose gate, protocol limits and stock ledger) as the session page."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.accounts.models import Membership
from kapflow.api.serializers import DateTimeField, ListFilter, Strict
from kapflow.api.versions import honour_if_match, tagged, versioned_change
from kapflow.api.views.base import ApiViewSet
from kapflow.api.views.common import IF_MATCH, bounds
from kapflow.core.permissions import Action
from kapflow.dosing import selectors, services, stock
from kapflow.dosing.models import (
    Administration,
    AdverseEvent,
    DosingSession,
    EventKind,
    EventOutcome,
    Reading,
    ReadingKind,
    SessionStatus,
    Severity,
    StockLot,
)


class AdministrationOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    session = serializers.UUIDField(source="session.public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    administered_by = serializers.CharField(source="administered_by.full_name", read_only=True)
    witnessed_by = serializers.CharField(source="witnessed_by.full_name", read_only=True, allow_null=True)

    class Meta:
        model = Administration
        fields = [
            "id", "session", "patient", "drug", "route", "dose_mg", "weight_kg", "mg_per_kg",
            "started_at", "ended_at", "lot_number", "administered_by", "witnessed_by", "booster",
            "override_reason", "outside_protocol", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReadingOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.full_name", read_only=True)

    class Meta:
        model = Reading
        fields = [
            "id", "kind", "taken_at", "before_dose", "systolic", "diastolic", "heart_rate", "spo2",
            "respiratory_rate", "moaas", "score", "note", "level", "breaches", "recorded_by",
        ]  # fmt: skip
        read_only_fields = fields


class EventOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.full_name", read_only=True)

    class Meta:
        model = AdverseEvent
        fields = [
            "id", "kind", "description", "severity", "serious", "occurred_at", "intervention",
            "outcome", "recorded_by",
        ]  # fmt: skip
        read_only_fields = fields


class SessionOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    course = serializers.UUIDField(source="course.public_id", read_only=True)
    protocol = serializers.CharField(read_only=True)
    administrations = AdministrationOut(many=True, read_only=True)
    readings = ReadingOut(many=True, read_only=True)
    events = EventOut(many=True, read_only=True)

    class Meta:
        model = DosingSession
        fields = [
            "id", "patient", "course", "number", "route", "status", "protocol", "checked_in_at",
            "first_administered_at", "discharged_at", "ready_to_leave_at", "version",
            "administrations", "readings", "events",
        ]  # fmt: skip
        read_only_fields = fields


class SessionQuery(ListFilter):
    status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)


class AdministrationIn(Strict):
    dose_mg = serializers.DecimalField(max_digits=7, decimal_places=2, min_value=0)
    lot_number = serializers.CharField(max_length=64, help_text="The lot the dose was drawn from.")
    started_at = DateTimeField(required=False, help_text="Defaults to now.")
    ended_at = DateTimeField(required=False, help_text="When an infusion ended (IV).")
    witness = serializers.EmailField(required=False, help_text="A prescriber or nurse of the clinic.")
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ReadingIn(Strict):
    kind = serializers.ChoiceField(choices=ReadingKind.choices)
    taken_at = DateTimeField(required=False, help_text="Defaults to now.")
    systolic = serializers.IntegerField(required=False, min_value=0, max_value=400)
    diastolic = serializers.IntegerField(required=False, min_value=0, max_value=300)
    heart_rate = serializers.IntegerField(required=False, min_value=0, max_value=400)
    spo2 = serializers.IntegerField(required=False, min_value=0, max_value=100)
    respiratory_rate = serializers.IntegerField(required=False, min_value=0, max_value=120)
    moaas = serializers.IntegerField(required=False, min_value=0, max_value=5)
    score = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=3000, default="")


class EventIn(Strict):
    kind = serializers.ChoiceField(choices=EventKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    outcome = serializers.ChoiceField(choices=EventOutcome.choices)
    serious = serializers.BooleanField(required=False, default=False)
    occurred_at = DateTimeField(required=False, help_text="Defaults to now.")
    intervention = serializers.CharField(required=False, allow_blank=True, max_length=3000, default="")
    description = serializers.CharField(required=False, allow_blank=True, max_length=3000, default="")


def _lot(member: Membership, lot_number: str) -> StockLot:
    lot = stock.usable_lots(member.clinic_id).filter(lot_number=lot_number.strip()).first()
    if lot is None:
        raise ValidationError(
            {
                "lot_number": [
                    _("No usable lot with that number: it has expired, is empty, or is not this clinic's.")
                ]
            }
        )
    return lot


def _witness_id(member: Membership, email: str | None) -> int | None:
    if not email:
        return None
    found = Membership.objects.filter(clinic=member.clinic, user__email__iexact=email, is_active=True).first()
    if found is None:
        raise ValidationError({"witness": [_("No active staff member of this clinic has that email.")]})
    return found.user_id


def _sessions() -> Any:
    return DosingSession.objects.select_related("patient", "course", "protocol").prefetch_related(
        Prefetch(
            "administrations",
            Administration.objects.select_related(
                "lot", "administered_by", "witnessed_by", "session", "patient"
            ),
        ),
        Prefetch("readings", Reading.objects.select_related("recorded_by")),
        Prefetch("events", AdverseEvent.objects.select_related("recorded_by")),
    )


class DosingSessionViewSet(ApiViewSet):
    serializer_class = SessionOut

    @extend_schema(parameters=[SessionQuery], responses=SessionOut(many=True))
    def list(self, request: Request) -> Response:
        filters = self.filters(SessionQuery)
        rows = _sessions().filter(
            clinic=self.member.clinic,
            voided_at__isnull=True,
            patient__in=self.patients_in_scope(filters).values("pk"),
        )
        start, end = bounds(filters)
        if start:
            rows = rows.filter(checked_in_at__gte=start)
        if end:
            rows = rows.filter(checked_in_at__lte=end)
        if filters.get("status"):
            rows = rows.filter(status=filters["status"])
        return self.page(rows.order_by("-checked_in_at", "-id"), SessionOut, what="dosing sessions")

    def _session(self, action: Action = Action.CLINICAL_VIEW, *, log: bool = True) -> DosingSession:
        """The session (checked; a read is logged), without its rows: a write needs none."""
        return selectors.access_session(member=self.member, session_id=self.lookup(), action=action, log=log)

    @extend_schema(responses=SessionOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        session = _sessions().get(pk=self._session().pk)
        return tagged(Response(SessionOut(session).data), session)

    @extend_schema(request=AdministrationIn, responses={201: AdministrationOut}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def administrations(self, request: Request, public_id: str) -> Response:
        """Record a dose given by you (a prescriber or nurse on the patient's care team)."""
        session = self._session(Action.DOSE_ADMINISTER, log=False)
        incoming = AdministrationIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(incoming.validated_data)
        lot = _lot(self.member, data["lot_number"])
        witness_id = _witness_id(self.member, data.get("witness"))
        administration = versioned_change(
            request,
            session,
            lambda version: services.administration_record(
                member=self.member,
                session=session,
                dose_mg=data["dose_mg"],
                lot=lot,
                started_at=data.get("started_at"),
                ended_at=data.get("ended_at"),
                witness_id=witness_id,
                override_reason=data["override_reason"],
                base_version=version,
            ),
        )
        session.refresh_from_db()
        return tagged(
            Response(AdministrationOut(administration).data, status=status.HTTP_201_CREATED), session
        )

    @extend_schema(request=ReadingIn, responses={201: ReadingOut})
    @action(detail=True, methods=["post"])
    def readings(self, request: Request, public_id: str) -> Response:
        """Record vital signs, a MOAA/S score, a dissociation score or an observation."""
        session = self._session(Action.DOSING_MEDICAL, log=False)
        incoming = ReadingIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(incoming.validated_data)
        honour_if_match(request, session)
        values = {
            key: data.get(key) for key in ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate")
        }
        reading = services.reading_record(
            member=self.member,
            session=session,
            kind=data["kind"],
            taken_at=data.get("taken_at"),
            values=values,
            moaas=data.get("moaas"),
            score=data.get("score"),
            note=data["note"],
        )
        return Response(ReadingOut(reading).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EventIn, responses={201: EventOut})
    @action(detail=True, methods=["post"])
    def events(self, request: Request, public_id: str) -> Response:
        """Record an adverse event (a serious one notifies the prescribers on the care team)."""
        session = self._session(Action.CLINICAL_EDIT, log=False)
        incoming = EventIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(incoming.validated_data)
        honour_if_match(request, session)
        event = services.event_record(
            member=self.member,
            session=session,
            link=request.build_absolute_uri(
                reverse(
                    "dosing:session",
                    kwargs={"clinic": self.member.clinic.slug, "session_id": session.public_id},
                )
            ),
            occurred_at=data.pop("occurred_at", None),  # optional: now
            **data,
        )
        return Response(EventOut(event).data, status=status.HTTP_201_CREATED)


class AdministrationViewSet(ApiViewSet):
    serializer_class = AdministrationOut

    @extend_schema(parameters=[ListFilter], responses=AdministrationOut(many=True))
    def list(self, request: Request) -> Response:
        filters = self.filters()
        rows = Administration.objects.select_related(
            "lot", "administered_by", "witnessed_by", "session", "patient"
        ).filter(
            clinic=self.member.clinic,
            voided_at__isnull=True,
            patient__in=self.patients_in_scope(filters).values("pk"),
        )
        start, end = bounds(filters)
        if start:
            rows = rows.filter(started_at__gte=start)
        if end:
            rows = rows.filter(started_at__lte=end)
        return self.page(rows.order_by("-started_at", "-id"), AdministrationOut, what="administrations")
