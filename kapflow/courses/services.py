"""Writes of treatment courses: the course and its status, visits, clinical notes (draft,
version-checked saves, signing) and addenda.

Every write checks ``CLINICAL_EDIT`` on the patient (clinicians on the care team), then the
rule, then saves and audits in one transaction. Only a note's author edits or signs its draft;
a signed note never changes again (corrections are addenda).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import require
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.core.roles import MEDICAL_ROLES, Role
from kapflow.courses import rules
from kapflow.courses.models import (
    OPEN_STATUSES,
    Addendum,
    ClinicalNote,
    CourseStatus,
    NoteStatus,
    TreatmentCourse,
    Visit,
    VisitKind,
)
from kapflow.patients.models import Patient

if TYPE_CHECKING:
    from kapflow.dosing.models import DosingSession
from kapflow.screening.models import Route

MAX_PLANNED_SESSIONS = 50
CLOSED_STATUSES = (CourseStatus.COMPLETED, CourseStatus.DISCONTINUED)


class NotTheAuthor(ApplicationError):
    """Only the author of a draft edits or signs it."""

    status = 403


class NoteSigned(ApplicationError):
    """A signed note is immutable; corrections are addenda."""

    status = 409


class NoteConflict(Conflict):
    """The draft changed since the editor loaded it: carries both texts, saves neither."""

    def __init__(self, *, mine: dict[str, Any], theirs: dict[str, Any], version: int) -> None:
        super().__init__(
            _(
                "Someone saved this note after you opened it. Nothing was overwritten: your text and "
                "the saved text are both shown below. Merge them and save again."
            )
        )
        self.mine = mine
        self.theirs = theirs
        self.version = version


def _audit(member: Membership, patient: Patient, action: AuditAction, detail: str) -> None:
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=action,
        category=DataCategory.CLINICAL,
        detail=detail,
    )


def _staff_ids(clinic_id: int, user_ids: list[int], roles: frozenset[Role]) -> set[int]:
    return set(
        Membership.objects.filter(
            clinic_id=clinic_id, user_id__in=user_ids, is_active=True, role__in=[str(r) for r in roles]
        ).values_list("user_id", flat=True)
    )


def course_create(
    *,
    member: Membership,
    patient: Patient,
    route: str,
    planned_dosing_sessions: int,
    therapist_ids: list[int],
    medical_ids: list[int],
    starts_on: date,
) -> TreatmentCourse:
    """Plan a course: a route, a number of dosing sessions and a care team of at least one
    therapist and one medical professional, all active members of the clinic."""
    require(member, Action.CLINICAL_EDIT, patient)
    if route not in Route.values:
        raise ApplicationError(_("Choose a route from the list."))
    if not 1 <= planned_dosing_sessions <= MAX_PLANNED_SESSIONS:
        raise ApplicationError(
            _("Plan between 1 and %(max)s dosing sessions.") % {"max": MAX_PLANNED_SESSIONS}
        )
    therapists = _staff_ids(patient.clinic_id, therapist_ids, frozenset({Role.THERAPIST}))
    medical = _staff_ids(patient.clinic_id, medical_ids, MEDICAL_ROLES)
    if not therapist_ids or therapists != set(therapist_ids):
        raise ApplicationError(_("Choose at least one therapist, each an active therapist of this clinic."))
    if not medical_ids or medical != set(medical_ids):
        raise ApplicationError(
            _("Choose at least one medical professional, each an active prescriber or nurse of this clinic.")
        )
    with transaction.atomic():
        course = TreatmentCourse.objects.create(
            clinic=patient.clinic,
            patient=patient,
            route=route,
            planned_dosing_sessions=planned_dosing_sessions,
            starts_on=starts_on,
            created_by=member.user,
            updated_by=member.user,
        )
        course.therapists.set(sorted(therapists))
        course.medical_staff.set(sorted(medical))
        _audit(member, patient, AuditAction.CREATE, f"treatment course {course.public_id} ({route})")
    return course


def course_set_status(
    *, member: Membership, course: TreatmentCourse, status: str, reason: str = ""
) -> TreatmentCourse:
    """Start, pause, resume, complete or discontinue (with a reason) a course; one active
    course per patient."""
    require(member, Action.CLINICAL_EDIT, course.patient)
    if status not in CourseStatus.values:
        raise ApplicationError(_("Choose a status from the list."))
    reason = reason.strip()
    if status == CourseStatus.DISCONTINUED and not reason:
        raise ApplicationError(_("Give the reason the course is discontinued."))
    if len(reason) > 2000:
        raise ApplicationError(_("Keep the reason under 2,000 characters."))
    active_elsewhere = _(
        "This patient already has an active course; complete, pause or discontinue it first."
    )
    with transaction.atomic():
        current = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        if current.status in CLOSED_STATUSES:
            raise ApplicationError(_("This course is closed; start a new course instead."))
        if current.status == status:
            raise ApplicationError(_("The course already has that status."))
        if (
            status == CourseStatus.ACTIVE
            and TreatmentCourse.objects.filter(patient=current.patient_id, status=CourseStatus.ACTIVE)
            .exclude(pk=current.pk)
            .exists()
        ):
            raise ApplicationError(active_elsewhere)
        previous = current.status
        current.status = status
        current.status_reason = reason
        current.ended_on = timezone.localdate() if status in CLOSED_STATUSES else None
        current.version += 1
        current.updated_by = member.user
        try:
            with transaction.atomic():
                current.save()
        except IntegrityError:  # another request started a course at the same moment
            raise ApplicationError(active_elsewhere) from None
        _audit(
            member, current.patient, AuditAction.UPDATE, f"course {current.public_id}: {previous} -> {status}"
        )
    return current


def visit_create(
    *,
    member: Membership,
    course: TreatmentCourse,
    kind: str,
    happened_on: date,
    dosing_session: DosingSession | None = None,
) -> Visit:
    """Record a visit of the course, with an empty draft note of the visit's template. A
    dosing visit (the guide note) belongs to a dosing session of the course and needs it."""
    require(member, Action.CLINICAL_EDIT, course.patient)
    if kind not in VisitKind.values:
        raise ApplicationError(_("Choose the kind of visit."))
    if (kind == VisitKind.DOSING) != (dosing_session is not None) or (
        dosing_session is not None and dosing_session.course_id != course.pk
    ):
        raise ApplicationError(
            _("A guide note is started from its dosing session's page; here, choose another kind of visit.")
        )
    if course.status not in OPEN_STATUSES:
        raise ApplicationError(_("This course is closed; visits are recorded on an open course."))
    if happened_on > timezone.localdate():
        raise ApplicationError(_("A visit is recorded on or after its day, not before."))
    with transaction.atomic():
        visit = Visit.objects.create(
            clinic=course.clinic,
            course=course,
            patient=course.patient,
            kind=kind,
            happened_on=happened_on,
            staff=member.user,
            dosing_session=dosing_session,
            created_by=member.user,
            updated_by=member.user,
        )
        ClinicalNote.objects.create(
            clinic=course.clinic,
            visit=visit,
            patient=course.patient,
            template=kind,
            content={},
            author=member.user,
            created_by=member.user,
            updated_by=member.user,
        )
        _audit(member, course.patient, AuditAction.CREATE, f"{kind} visit {visit.public_id}")
    return visit


def _locked_draft(
    member: Membership, note: ClinicalNote, base_version: int, content: dict[str, Any]
) -> ClinicalNote:
    current = ClinicalNote.objects.select_for_update().get(pk=note.pk)
    if current.author_id != member.user_id:
        raise NotTheAuthor(_("Only the author of a draft may change or sign it."))
    if current.status == NoteStatus.SIGNED:
        raise NoteSigned(_("This note is signed and can no longer be changed; add an addendum instead."))
    if current.version != base_version:
        raise NoteConflict(mine=content, theirs=current.content, version=current.version)
    return current


def note_save_draft(
    *, member: Membership, note: ClinicalNote, content: dict[str, Any], base_version: int
) -> ClinicalNote:
    """Save the author's draft, if nobody saved it since ``base_version`` (else NoteConflict)."""
    require(member, Action.CLINICAL_EDIT, note.patient)
    try:
        cleaned = rules.validate_content(note.template, content)
    except rules.ContentError as exc:
        raise ApplicationError(exc.message) from None
    with transaction.atomic():
        current = _locked_draft(member, note, base_version, content)
        current.content = cleaned
        current.version += 1
        current.updated_by = member.user
        current.save()
        _audit(member, current.patient, AuditAction.UPDATE, f"note {current.public_id} draft saved")
    return current


def note_sign(*, member: Membership, note: ClinicalNote, base_version: int) -> ClinicalNote:
    """The author signs the draft as last saved: from now on it never changes."""
    require(member, Action.CLINICAL_EDIT, note.patient)
    with transaction.atomic():
        try:
            current = _locked_draft(member, note, base_version, note.content)
        except NoteConflict:
            raise Conflict(
                _("The note changed since this page was loaded; read the saved version and sign again.")
            ) from None
        current.status = NoteStatus.SIGNED
        current.signed_at = timezone.now()
        current.version += 1
        current.updated_by = member.user
        current.save()
        _audit(member, current.patient, AuditAction.UPDATE, f"note {current.public_id} signed")
    return current


def addendum_add(*, member: Membership, note: ClinicalNote, text: str) -> Addendum:
    """Add a correction or addition to a signed note (any clinician on the care team)."""
    require(member, Action.CLINICAL_EDIT, note.patient)
    text = text.strip()
    if not text:
        raise ApplicationError(_("Write the addendum."))
    if len(text) > rules.MAX_TEXT:
        raise ApplicationError(
            _("An addendum holds at most %(max)s characters; this one has %(n)s.")
            % {"max": f"{rules.MAX_TEXT:,}", "n": f"{len(text):,}"}
        )
    with transaction.atomic():
        current = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        if current.status != NoteStatus.SIGNED:
            raise ApplicationError(_("A draft is corrected by editing it; addenda are for signed notes."))
        addendum = Addendum.objects.create(note=current, text=text, author=member.user)
        _audit(member, current.patient, AuditAction.CREATE, f"addendum to note {current.public_id}")
    return addendum
