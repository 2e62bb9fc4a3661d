"""``/api/v1/screening-decisions/``: prescribers' eligibility decisions, read only, for the
clinicians on the patient's care team (as on the screening page). A decision is written once;
``is_current`` says whether it is the one the dosing gate uses now."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.api.serializers import ListFilter
from kapflow.api.views.base import ApiViewSet
from kapflow.api.views.common import StaffOut, bounds, in_clinic, log_read
from kapflow.core.permissions import Action
from kapflow.screening.models import EligibilityDecision, MedicalScreening, Outcome


class DecisionOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    screening = serializers.UUIDField(source="screening.public_id", read_only=True)
    screened_at = serializers.DateTimeField(source="screening.created_at", read_only=True)
    routes = serializers.ListField(child=serializers.CharField(), read_only=True)
    decided_by = StaffOut(read_only=True)
    is_current = serializers.SerializerMethodField(
        help_text="The patient's current decision: the latest one on the current screening."
    )

    class Meta:
        model = EligibilityDecision
        fields = [
            "id", "patient", "screening", "screened_at", "outcome", "valid_until", "routes", "reason",
            "justification", "overrides_hard_stop", "decided_by", "decided_at", "is_current",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_is_current(self, decision: EligibilityDecision) -> bool:
        return bool(decision.current_decision_id == decision.pk)  # type: ignore[attr-defined]


class DecisionQuery(ListFilter):
    """``since``/``until`` bound the day of the decision (the clinic's time zone)."""

    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)


def _decisions() -> Any:
    """The decisions, each with its patient's current decision (``current_decision_id``) in the
    same query: ``screening.selectors.current_decision`` as SQL (the latest decision on the
    patient's newest screening that is not voided), so a page of many patients costs no more
    queries than a page of one (tests/api/test_query_counts.py checks both agree)."""
    newest_screening = (
        MedicalScreening.objects.filter(patient=OuterRef(OuterRef("patient_id")), voided_at__isnull=True)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    current = (
        EligibilityDecision.objects.filter(screening_id=Subquery(newest_screening))
        .order_by("-decided_at", "-id")
        .values("pk")[:1]
    )
    return EligibilityDecision.objects.select_related("patient", "screening", "decided_by").annotate(
        current_decision_id=Subquery(current)
    )


class DecisionViewSet(ApiViewSet):
    serializer_class = DecisionOut

    @extend_schema(parameters=[DecisionQuery], responses=DecisionOut(many=True))
    def list(self, request: Request) -> Response:
        """Decisions on the patients of your care teams (or ``patient``), newest first."""
        filters = self.filters(DecisionQuery)
        rows = _decisions().filter(
            clinic=self.member.clinic, patient__in=self.patients_in_scope(filters).values("pk")
        )
        if filters.get("outcome"):
            rows = rows.filter(outcome=filters["outcome"])
        start, end = bounds(filters)
        if start:
            rows = rows.filter(decided_at__gte=start)
        if end:
            rows = rows.filter(decided_at__lte=end)
        return self.page(rows.order_by("-decided_at", "-id"), DecisionOut, what="eligibility decisions")

    @extend_schema(responses=DecisionOut)
    def retrieve(self, request: Request, public_id: str) -> Response:
        decision = in_clinic(
            _decisions(), self.member, self.lookup(), Action.CLINICAL_VIEW, "eligibility decision"
        )
        log_read(self.member, decision.patient, f"eligibility decision {decision.public_id}")
        return Response(DecisionOut(decision).data)
