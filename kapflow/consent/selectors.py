"""Reads of informed consent: the current template, a patient's consent state, the gate's facts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.http import Http404

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic
from kapflow.consent.forms import StaffWithdrawForm
from kapflow.consent.models import ConsentSignature, ConsentTemplate, ConsentWithdrawal, ConsentWitness
from kapflow.core import audit
from kapflow.core.access import allowed
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient
from kapflow.screening.gate import ConsentFacts


def current_template(clinic: Clinic) -> ConsentTemplate | None:
    """The clinic's consent text patients sign now: its highest version."""
    return ConsentTemplate.objects.filter(clinic=clinic).order_by("-version").first()


def templates(clinic: Clinic) -> list[ConsentTemplate]:
    return list(
        ConsentTemplate.objects.filter(clinic=clinic).select_related("created_by").order_by("-version")
    )


def latest_signature(patient: Patient) -> ConsentSignature | None:
    return (
        ConsentSignature.objects.filter(patient=patient)
        .select_related("template", "witness__witness", "withdrawal__recorded_by")
        .order_by("-signed_at", "-id")
        .first()
    )


def consent_facts(patient: Patient) -> ConsentFacts | None:
    """What the dosing gate needs to know; None when the patient never signed."""
    latest = latest_signature(patient)
    if latest is None:
        return None
    current = current_template(patient.clinic)
    return ConsentFacts(
        signed_version=latest.template.version,
        current_version=current.version if current is not None else latest.template.version,
        withdrawn=_withdrawal(latest) is not None,
    )


class ConsentState(StrEnum):
    NO_TEMPLATE = "no_template"  # the clinic has published no consent form
    NOT_SIGNED = "not_signed"
    SIGNED = "signed"  # the current version, not withdrawn
    OUTDATED = "outdated"  # a newer version exists
    WITHDRAWN = "withdrawn"


def _withdrawal(signature: ConsentSignature) -> ConsentWithdrawal | None:
    try:
        return signature.withdrawal
    except ConsentWithdrawal.DoesNotExist:
        return None


def _witness(signature: ConsentSignature) -> ConsentWitness | None:
    try:
        return signature.witness
    except ConsentWitness.DoesNotExist:
        return None


@dataclass(frozen=True)
class ConsentStatus:
    """Where the patient stands with consent, for the chart's card and the portal page."""

    state: ConsentState
    current: ConsentTemplate | None
    signature: ConsentSignature | None  # the latest signature
    witness: ConsentWitness | None
    withdrawal: ConsentWithdrawal | None

    @property
    def must_sign(self) -> bool:
        """The patient should (re)read and sign the current version."""
        return self.current is not None and self.state in {ConsentState.NOT_SIGNED, ConsentState.OUTDATED}


def consent_status(patient: Patient) -> ConsentStatus:
    """Read by the chart and the portal page, whose views have checked and logged access."""
    current = current_template(patient.clinic)
    latest = latest_signature(patient)
    withdrawal = _withdrawal(latest) if latest is not None else None
    if latest is None:
        state = ConsentState.NO_TEMPLATE if current is None else ConsentState.NOT_SIGNED
    elif withdrawal is not None:
        state = ConsentState.WITHDRAWN
    elif current is not None and current.version > latest.template.version:
        state = ConsentState.OUTDATED
    else:
        state = ConsentState.SIGNED
    return ConsentStatus(
        state=state,
        current=current,
        signature=latest,
        witness=_witness(latest) if latest is not None else None,
        withdrawal=withdrawal,
    )


def own_signature(*, patient: Patient, signature_id: uuid.UUID) -> ConsentSignature:
    """One of the patient's own signatures, or 404 (another patient's looks like nothing)."""
    signature = (
        ConsentSignature.objects.select_related("template", "patient", "clinic")
        .filter(patient=patient, public_id=signature_id)
        .first()
    )
    if signature is None:
        raise Http404("No such consent.")
    return signature


def staff_signature(
    *, member: Membership, patient_id: uuid.UUID, signature_id: uuid.UUID, action: Action
) -> ConsentSignature:
    """A signature of a patient the member may take ``action`` on (404/403 logged otherwise)."""
    patient = access_patient(member=member, public_id=patient_id, action=action, log_view=False)
    signature = (
        ConsentSignature.objects.select_related("template", "patient", "clinic")
        .filter(patient=patient, public_id=signature_id)
        .first()
    )
    if signature is None:
        raise Http404("No such consent.")
    return signature


def pdf_read(*, user: User, signature: ConsentSignature, by_patient: bool) -> None:
    """Log that the signed PDF was downloaded (by staff: a print of the record)."""
    audit.record(
        user=user,
        clinic=signature.clinic,
        patient=signature.patient,
        action=AuditAction.EXPORT if by_patient else AuditAction.PRINT,
        category=DataCategory.CLINICAL,
        detail=f"consent v{signature.template.version} PDF downloaded"
        + (" in the portal" if by_patient else ""),
    )


def portal_page_viewed(*, user: User, patient: Patient) -> None:
    audit.record(
        user=user,
        clinic=patient.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.CLINICAL,
        detail="consent page in the portal",
    )


@dataclass(frozen=True)
class ChartConsent:
    """The chart's "Consent" card: the status and what this member may do with it."""

    status: ConsentStatus
    can_withdraw: bool
    can_configure: bool
    withdraw_form: StaffWithdrawForm


def chart_consent(*, member: Membership, patient: Patient) -> ChartConsent:
    """Read by the chart, whose view has checked and logged access (DEMOGRAPHICS_VIEW)."""
    return ChartConsent(
        status=consent_status(patient),
        can_withdraw=allowed(member, Action.CLINICAL_EDIT, patient),
        can_configure=allowed(member, Action.CLINIC_CONFIGURE),
        withdraw_form=StaffWithdrawForm(),
    )
