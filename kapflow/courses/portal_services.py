"""The patient's side of a course in the portal: their open course, intentions and journal.

Every write is logged with the patient as the user; texts are never written to the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from kapflow.core import audit
from kapflow.core.errors import ApplicationError
from kapflow.core.models import AuditAction, DataCategory
from kapflow.courses.models import CourseStatus, Intention, JournalEntry, TreatmentCourse
from kapflow.courses.psychotherapy_forms import INTENTION_MAX, JOURNAL_MAX

if TYPE_CHECKING:
    from kapflow.accounts.models import User
    from kapflow.patients.models import Patient
    from kapflow.portal.models import PortalAccount

PORTAL_STATUSES = (CourseStatus.ACTIVE, CourseStatus.PLANNED)


def open_course(patient: Patient) -> TreatmentCourse | None:
    """The patient's active course, else their most recent planned one (never another's)."""
    courses = TreatmentCourse.objects.filter(
        patient=patient, clinic_id=patient.clinic_id, status__in=PORTAL_STATUSES, voided_at__isnull=True
    )
    active = courses.filter(status=CourseStatus.ACTIVE).order_by("-starts_on", "-pk").first()
    return active or courses.order_by("-starts_on", "-pk").first()


def needs_intentions(patient: Patient) -> bool:
    course = open_course(patient)
    return course is not None and not course.intentions.filter(voided_at__isnull=True).exists()


@dataclass(frozen=True)
class CoursePage:
    course: TreatmentCourse | None
    intentions: list[Intention]
    journal: list[JournalEntry]


def course_page(*, account: PortalAccount) -> CoursePage:
    """What the patient sees of their own course (logged as a portal view)."""
    patient = account.patient
    course = open_course(patient)
    intentions: list[Intention] = []
    journal: list[JournalEntry] = []
    if course is not None:
        intentions = list(
            course.intentions.filter(patient=patient, voided_at__isnull=True).order_by("-created_at", "-pk")
        )
        journal = list(
            course.journal.filter(patient=patient, voided_at__isnull=True).order_by("-created_at", "-pk")
        )
    audit.record(
        user=account.user,
        clinic=account.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.PORTAL,
        detail="course page" if course is not None else "course page (no open course)",
    )
    return CoursePage(course=course, intentions=intentions, journal=journal)


def _course_for_writing(patient: Patient) -> TreatmentCourse:
    course = open_course(patient)
    if course is None:
        raise ApplicationError(
            _("Your clinic has not started a treatment course with you yet; nothing was saved.")
        )
    return course


def intention_set(*, user: User, patient: Patient, text: str) -> Intention:
    """Set or revise the patient's intention: each revision is a new row, the care team sees it."""
    text = text.strip()
    if not text:
        raise ApplicationError(_("Write your intention first; nothing was saved."))
    if len(text) > INTENTION_MAX:
        raise ApplicationError(
            _("An intention may be at most %(max)d characters; nothing was saved.") % {"max": INTENTION_MAX}
        )
    course = _course_for_writing(patient)
    with transaction.atomic():
        intention = Intention.objects.create(
            clinic_id=patient.clinic_id,
            course=course,
            patient=patient,
            text=text,
            created_by=user,
            updated_by=user,
        )
        audit.record(
            user=user,
            clinic=patient.clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.CLINICAL,
            detail=f"intention {intention.public_id} (by the patient, course {course.public_id})",
        )
    return intention


def journal_write(*, user: User, patient: Patient, text: str, shared: bool) -> JournalEntry:
    """A new integration journal entry: private unless the patient shares it."""
    text = text.strip()
    if not text:
        raise ApplicationError(_("Write your entry first; nothing was saved."))
    if len(text) > JOURNAL_MAX:
        raise ApplicationError(
            _("A journal entry may be at most %(max)d characters; yours has %(count)d. Nothing was saved.")
            % {"max": JOURNAL_MAX, "count": len(text)}
        )
    course = _course_for_writing(patient)
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            clinic_id=patient.clinic_id,
            course=course,
            patient=patient,
            text=text,
            shared=shared,
            created_by=user,
            updated_by=user,
        )
        audit.record(
            user=user,
            clinic=patient.clinic,
            patient=patient,
            action=AuditAction.CREATE,
            category=DataCategory.CLINICAL,
            detail=f"journal entry {entry.public_id} ({'shared' if shared else 'private'})",
        )
    return entry
