"""Portal reads: the portal status staff see on the chart, and the patient's own home page."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django_otp import user_has_device

from kapflow.accounts.models import User
from kapflow.consent.selectors import consent_status
from kapflow.core import audit
from kapflow.core.models import AuditAction, DataCategory
from kapflow.courses.portal_services import needs_intentions, open_course
from kapflow.measures.portal_selectors import DueQuestionnaire, due_questionnaires
from kapflow.patients.models import CareTeamMember, Patient
from kapflow.patients.selectors import care_team
from kapflow.portal.models import PortalAccount, PortalInvitation
from kapflow.portal.next_steps import STEP_LINK, PortalFacts, Step, next_steps, step_text
from kapflow.screening.models import HealthQuestionnaire


@dataclass(frozen=True)
class PortalStatus:
    """Where a patient stands with the portal, for the chart's "Patient portal" card."""

    account: PortalAccount | None
    pending: PortalInvitation | None  # the invitation whose link works now
    last: PortalInvitation | None  # the latest invitation, whatever became of it

    @property
    def active(self) -> bool:
        return self.account is not None and self.account.is_active

    @property
    def expired(self) -> bool:
        return (
            self.pending is None
            and self.last is not None
            and self.last.used_at is None
            and self.last.revoked_at is None
        )


def portal_status(patient: Patient) -> PortalStatus:
    """Read by the chart, whose view the caller has already checked and logged."""
    invitations = PortalInvitation.objects.filter(patient=patient).order_by("-created_at", "-pk")
    last = invitations.first()
    pending = last if last is not None and last.is_usable(timezone.now()) else None
    return PortalStatus(
        account=PortalAccount.objects.filter(patient=patient).first(),
        pending=pending,
        last=last,
    )


@dataclass(frozen=True)
class NextStepItem:
    text: str
    url: str | None


@dataclass(frozen=True)
class PortalHome:
    patient: Patient
    care_team: list[CareTeamMember]
    steps: list[NextStepItem]
    questionnaires: list[DueQuestionnaire]
    has_open_course: bool = False


def portal_home(*, account: PortalAccount) -> PortalHome:
    """The patient's own home page: their care team, questionnaires due and next steps.
    Logged as a portal view."""
    patient = account.patient
    team = care_team(patient)
    questionnaires = due_questionnaires(patient)
    facts = PortalFacts(
        has_care_team=bool(team),
        has_phone=bool(patient.phone.strip()),
        has_two_factor=user_has_device(account.user),
        questionnaires_due=len(questionnaires),
        consent_to_sign=consent_status(patient).must_sign,
        health_questionnaire_done=HealthQuestionnaire.objects.filter(patient=patient).exists(),
        intentions_to_set=needs_intentions(patient),
        has_upcoming_appointment=_has_upcoming_appointment(patient),
    )

    def link(step: Step) -> str | None:
        if step == Step.FILL_IN_QUESTIONNAIRES:
            return questionnaires[0].url
        return reverse(STEP_LINK[step]) if step in STEP_LINK else None

    steps = [NextStepItem(step_text(step, facts), link(step)) for step in next_steps(facts)]
    audit.record(
        user=account.user,
        clinic=account.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.PORTAL,
        detail="portal home",
    )
    return PortalHome(
        patient=patient,
        care_team=team,
        steps=steps,
        questionnaires=questionnaires,
        has_open_course=open_course(patient) is not None,
    )


def invitation_link_opened(*, invitation: PortalInvitation, user: User | None) -> None:
    """The join page shows the invited address: log that whoever holds the link read it."""
    audit.record(
        user=user,
        clinic=invitation.clinic,
        patient=invitation.patient,
        action=AuditAction.VIEW,
        category=DataCategory.PORTAL,
        detail="portal invitation link opened",
    )


def _has_upcoming_appointment(patient: Patient) -> bool:
    from django.utils import timezone

    from kapflow.scheduling.models import Appointment, Status

    return Appointment.objects.filter(
        patient=patient, status=Status.BOOKED, starts_at__gte=timezone.now(), voided_at__isnull=True
    ).exists()
