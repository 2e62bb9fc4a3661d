"""Writes of screening: the patient's report, the medical screening, the prescriber's decision,
and the clinic's rule set. Each checks permission, saves and audits in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.screening.models import (
    ClinicRules,
    EligibilityDecision,
    HealthQuestionnaire,
    MedicalScreening,
    Outcome,
)
from kapflow.screening.rules import (
    DEFAULT_RULES,
    MedClass,
    RuleSet,
    ScreeningFacts,
    evaluate,
    parse_rules,
    rules_to_data,
)

SUPERSEDED = _("A newer screening exists for this patient; decide on the current one.")


def rules_for(clinic: Clinic) -> RuleSet:
    """The clinic's current rule set: its latest saved version, or the shipped example."""
    row = ClinicRules.objects.filter(clinic=clinic).order_by("-created_at", "-id").first()
    return parse_rules(row.data) if row is not None else DEFAULT_RULES


def rules_save(*, member: Membership, data: object) -> RuleSet:
    require(member, Action.CLINIC_CONFIGURE)
    rules = parse_rules(data)  # raises RulesError naming each problem
    with transaction.atomic():
        if ClinicRules.objects.filter(clinic=member.clinic, version=rules.version).exists():
            raise ApplicationError(
                _("Version %(v)s exists already; give the edited rules a new version.") % {"v": rules.version}
            )
        ClinicRules.objects.create(
            clinic=member.clinic, version=rules.version, data=rules_to_data(rules), created_by=member.user
        )
        audit.record(
            user=member.user,
            clinic=member.clinic,
            action=AuditAction.UPDATE,
            category=DataCategory.CLINIC,
            detail=f"eligibility rules {rules.version}",
        )
    return rules


def questionnaire_submit(*, user: User, patient: Patient, data: dict[str, Any]) -> HealthQuestionnaire:
    """The patient's own health questionnaire, from the portal (the portal resolves the patient)."""
    with transaction.atomic():
        report = HealthQuestionnaire.objects.create(
            clinic=patient.clinic, patient=patient, created_by=user, updated_by=user, **data
        )
        audit.record(
            user=user,
            clinic=patient.clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.CLINICAL,
            detail="health questionnaire (reported by the patient)",
        )
    return report


def bmi(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    metres = Decimal(height_cm) / 100
    return (Decimal(weight_kg) / (metres * metres)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def facts_from(data: dict[str, Any]) -> ScreeningFacts:
    return ScreeningFacts(
        conditions=frozenset(data.get("conditions", [])),
        med_classes=frozenset(MedClass(c) for c in data.get("med_classes", [])),
        substance_use_active=bool(data.get("substance_use_active")),
        pregnant_or_breastfeeding=bool(data.get("pregnant_or_breastfeeding")),
        psychosis_history=bool(data.get("psychosis_history")),
        psychosis_family_history=bool(data.get("psychosis_family_history")),
        bipolar=bool(data.get("bipolar")),
        mood_stabiliser=bool(data.get("mood_stabiliser")),
        adequate_trials=int(data.get("adequate_trials") or 0),
        psychotherapy_tried=bool(data.get("psychotherapy_tried")),
        systolic=data.get("systolic"),
        diastolic=data.get("diastolic"),
    )


def screening_record(*, member: Membership, patient: Patient, data: dict[str, Any]) -> MedicalScreening:
    """A medical professional's screening. It supersedes earlier screenings of the patient."""
    require(member, Action.SCREENING_RECORD, patient)
    rules = rules_for(patient.clinic)
    findings = evaluate(facts_from(data), rules)
    with transaction.atomic():
        screening = MedicalScreening.objects.create(
            clinic=patient.clinic,
            patient=patient,
            bmi=bmi(data["weight_kg"], data["height_cm"]),
            rules_version=rules.version,
            findings=[
                {"level": str(f.level), "rule": f.rule_id, "message": f.message, "source": f.source}
                for f in findings
            ],
            created_by=member.user,
            updated_by=member.user,
            **data,
        )
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.CLINICAL,
            detail=f"medical screening {screening.public_id}: {len(screening.hard_stops)} hard stop(s)",
        )
    return screening


def current_screening(patient: Patient) -> MedicalScreening | None:
    return (
        MedicalScreening.objects.filter(patient=patient, voided_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def decision_record(
    *,
    member: Membership,
    screening: MedicalScreening,
    outcome: str,
    valid_until: date | None = None,
    routes: list[str] | None = None,
    reason: str = "",
    justification: str = "",
) -> EligibilityDecision:
    """The prescriber's decision on the current screening."""
    patient = screening.patient
    require(member, Action.ELIGIBILITY_DECIDE, patient)
    routes = sorted(set(routes or []))
    hard_stop = bool(screening.hard_stops)
    if outcome == Outcome.ELIGIBLE:
        if valid_until is None or valid_until < timezone.localdate():
            raise ApplicationError(
                _("An eligible decision needs a 'valid until' date that is not in the past.")
            )
        if not routes:
            raise ApplicationError(_("Choose the routes of administration this decision allows."))
        if hard_stop and not justification.strip():
            raise ApplicationError(
                _("The screening has a hard-stop finding: write why the patient is eligible nevertheless.")
            )
    elif outcome in (Outcome.NOT_ELIGIBLE, Outcome.MORE_INFO):
        if not reason.strip():
            raise ApplicationError(_("Give the reason for this decision."))
        valid_until, routes = None, []
    else:
        raise ApplicationError(_("Choose a decision."))
    with transaction.atomic():
        current = current_screening(patient)
        if current is None or current.pk != screening.pk:
            raise ApplicationError(SUPERSEDED)
        override = outcome == Outcome.ELIGIBLE and hard_stop
        decision = EligibilityDecision.objects.create(
            clinic=patient.clinic,
            patient=patient,
            screening=screening,
            outcome=outcome,
            valid_until=valid_until,
            routes=routes,
            reason=reason.strip(),
            justification=justification.strip(),
            overrides_hard_stop=override,
            decided_by=member.user,
        )
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.CLINICAL,
            detail=f"eligibility decision: {outcome}"
            + (" DESPITE A HARD-STOP FINDING (justified)" if override else ""),
        )
    return decision
