"""``/api/v1/courses/`` and ``/api/v1/visits/``: treatment courses and their visits, read only,
for the clinicians on the patient's care team (the same access as the course pages)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.api.serializers import ListFilter
from kapflow.api.versions import tagged
from kapflow.api.views.base import ApiViewSet
from kapflow.api.views.common import ETAG, StaffOut, in_clinic, log_read
from kapflow.core.permissions import Action
from kapflow.courses import selectors
from kapflow.courses.models import CourseStatus, TreatmentCourse, Visit, VisitKind


class CourseOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    therapists = StaffOut(many=True, read_only=True)
    medical_staff = StaffOut(many=True, read_only=True)

    class Meta:
        model = TreatmentCourse
        fields = [
            "id", "patient", "route", "planned_dosing_sessions", "status", "status_reason", "starts_on",
            "ended_on", "therapists", "medical_staff", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CourseDetailOut(CourseOut):
    next_step = serializers.SerializerMethodField(help_text="What the course needs next, in plain words.")

    class Meta(CourseOut.Meta):
        fields = [*CourseOut.Meta.fields, "next_step"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_next_step(self, course: TreatmentCourse) -> str:
        return selectors.next_step(course)


class CourseQuery(ListFilter):
    """``since``/``until`` bound the day the course starts."""

    status = serializers.ChoiceField(choices=CourseStatus.choices, required=False)


class CourseViewSet(ApiViewSet):
    serializer_class = CourseOut

    @extend_schema(parameters=[CourseQuery], responses=CourseOut(many=True))
    def list(self, request: Request) -> Response:
        """The courses of the patients on your care teams (or of ``patient``), newest first."""
        filters = self.filters(CourseQuery)
        rows = (
            TreatmentCourse.objects.filter(
                clinic=self.member.clinic,
                voided_at__isnull=True,
                patient__in=self.patients_in_scope(filters).values("pk"),
            )
            .select_related("patient")
            .prefetch_related("therapists", "medical_staff")
        )
        if filters.get("since"):
            rows = rows.filter(starts_on__gte=filters["since"])
        if filters.get("until"):
            rows = rows.filter(starts_on__lte=filters["until"])
        if filters.get("status"):
            rows = rows.filter(status=filters["status"])
        return self.page(rows.order_by("-starts_on", "-id"), CourseOut, what="treatment courses")

    @extend_schema(parameters=[ETAG], responses=CourseDetailOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        course = selectors.access_course(member=self.member, course_id=self.lookup())
        log_read(self.member, course.patient, f"treatment course {course.public_id}")
        return tagged(Response(CourseDetailOut(course).data), course)


class VisitOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    course = serializers.UUIDField(source="course.public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    staff = StaffOut(read_only=True)
    dosing_session = serializers.UUIDField(source="dosing_session.public_id", read_only=True, allow_null=True)
    note = serializers.UUIDField(source="note.public_id", read_only=True, allow_null=True)
    note_status = serializers.CharField(source="note.status", read_only=True, allow_null=True)

    class Meta:
        model = Visit
        fields = [
            "id", "course", "patient", "kind", "happened_on", "staff", "dosing_session", "note", "note_status",
            "version", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class VisitQuery(ListFilter):
    """``since``/``until`` bound the day of the visit."""

    course = serializers.UUIDField(required=False, help_text="Only this course's visits (public id).")
    kind = serializers.ChoiceField(choices=VisitKind.choices, required=False)


def _visits() -> Any:
    return Visit.objects.select_related("course", "patient", "staff", "dosing_session", "note")


class VisitViewSet(ApiViewSet):
    serializer_class = VisitOut

    @extend_schema(parameters=[VisitQuery], responses=VisitOut(many=True))
    def list(self, request: Request) -> Response:
        """Visits of the patients on your care teams (or of ``patient``, or of ``course``), newest first."""
        filters = self.filters(VisitQuery)
        rows = _visits().filter(
            clinic=self.member.clinic,
            voided_at__isnull=True,
            patient__in=self.patients_in_scope(filters).values("pk"),
        )
        if filters.get("course"):
            course = selectors.access_course(member=self.member, course_id=filters["course"])
            rows = rows.filter(course=course)
        if filters.get("since"):
            rows = rows.filter(happened_on__gte=filters["since"])
        if filters.get("until"):
            rows = rows.filter(happened_on__lte=filters["until"])
        if filters.get("kind"):
            rows = rows.filter(kind=filters["kind"])
        return self.page(rows.order_by("-happened_on", "-id"), VisitOut, what="visits")

    @extend_schema(parameters=[ETAG], responses=VisitOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        visit = in_clinic(
            _visits().filter(voided_at__isnull=True),
            self.member,
            self.lookup(),
            Action.CLINICAL_VIEW,
            "visit",
        )
        log_read(self.member, visit.patient, f"visit {visit.public_id}")
        return tagged(Response(VisitOut(visit).data), visit)
