"""The patient's voice for the care team: their intentions and the journal entries they shared.

Private journal entries are never read here; nor are psychotherapy notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.courses.models import TreatmentCourse

if TYPE_CHECKING:
    from kapflow.accounts.models import Membership


def patient_voice(*, member: Membership, course: TreatmentCourse) -> dict[str, Any]:
    """{"intentions": newest first, "shared_journal": shared entries newest first}; checked
    (CLINICAL_VIEW on the course's patient, refusal logged) and logged."""
    patient = course.patient
    require(member, Action.CLINICAL_VIEW, patient)
    intentions = list(course.intentions.filter(voided_at__isnull=True).order_by("-created_at", "-pk"))
    shared = list(course.journal.filter(shared=True, voided_at__isnull=True).order_by("-created_at", "-pk"))
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.CLINICAL,
        detail=f"patient's intentions and shared journal, course {course.public_id}",
    )
    return {"intentions": intentions, "shared_journal": shared}
