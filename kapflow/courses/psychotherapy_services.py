"""Psychotherapy notes: the only reader and writer of ``PsychotherapyNote``.

The text of a psychotherapy note is shown on its own pages only (``psychotherapy_views``),
never in the chart, printouts, exports, search, the portal, notifications, or the access
log: log entries name the note by its id, never by its words.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kapflow.core import audit
from kapflow.core.access import deny
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.models import AuditAction, AuditOutcome, DataCategory
from kapflow.core.permissions import Action
from kapflow.core.roles import Role
from kapflow.courses import psychotherapy
from kapflow.courses.models import NoteStatus, PsychotherapyNote, TreatmentCourse
from kapflow.patients.models import CareTeamMember, Patient

if TYPE_CHECKING:
    from kapflow.accounts.models import Membership

MAX_TEXT = 20000


class PsychotherapyConflict(Conflict):
    """A save from a stale page: carries both texts so nothing is lost."""

    def __init__(self, message: str, *, yours: str, theirs: str, version: int) -> None:
        super().__init__(message)
        self.yours = yours
        self.theirs = theirs
        self.version = version


def treating_therapist_ids(patient: Patient) -> frozenset[int]:
    """Therapists (by clinic role) on the patient's current care team."""
    from kapflow.accounts.models import Membership

    team = CareTeamMember.objects.filter(patient=patient, removed_at__isnull=True).values_list(
        "user_id", flat=True
    )
    therapists = Membership.objects.filter(
        clinic_id=patient.clinic_id, user_id__in=list(team), role=Role.THERAPIST, is_active=True
    ).values_list("user_id", flat=True)
    return frozenset(therapists)


def can_read(member: Membership, note: PsychotherapyNote) -> bool:
    return note.clinic_id == member.clinic_id and psychotherapy.may_read(
        reader_id=member.user_id,
        reader_role=member.role,
        author_id=note.author_id,
        treating_therapist_ids=treating_therapist_ids(note.patient),
        shared_setting=member.clinic.psychotherapy_notes_shared_with_treating_therapists,
    )


def can_write(member: Membership, patient: Patient) -> bool:
    return patient.clinic_id == member.clinic_id and psychotherapy.may_write(
        writer_id=member.user_id,
        writer_role=member.role,
        treating_therapist_ids=treating_therapist_ids(patient),
    )


def _log(member: Membership, patient: Patient, action: AuditAction, detail: str) -> None:
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=action,
        category=DataCategory.CLINICAL,
        detail=detail,
    )


def _refuse_hidden(member: Membership, patient: Patient | None, what: str) -> None:
    """Log the refusal, then answer as if there were no such note (404)."""
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.CLINICAL,
        outcome=AuditOutcome.DENIED,
        detail=f"psychotherapy note: {what}",
    )
    raise Http404("No such note.")


def require_writer(member: Membership, patient: Patient) -> None:
    if not can_write(member, patient):
        deny(
            member,
            Action.CLINICAL_EDIT,
            "only therapists on the patient's care team write psychotherapy notes",
            patient,
        )


def access_note(*, member: Membership, public_id: uuid.UUID | str) -> PsychotherapyNote:
    """The note, if the member may read it; otherwise 404 (its existence is not revealed),
    the refusal logged. Reading is logged too (by id, never by content)."""
    note = (
        PsychotherapyNote.objects.select_related("patient", "author")
        .filter(clinic=member.clinic, public_id=public_id, voided_at__isnull=True)
        .first()
    )
    if note is None:
        _refuse_hidden(member, None, "no such note in this clinic")
        raise AssertionError("unreachable")
    if not can_read(member, note):
        _refuse_hidden(member, note.patient, f"{note.public_id} is not readable by this member")
    _log(member, note.patient, AuditAction.VIEW, f"psychotherapy note {note.public_id}")
    return note


def notes_for_patient(*, member: Membership, patient: Patient) -> list[PsychotherapyNote]:
    """The patient's psychotherapy notes this member may read, newest first (logged)."""
    notes = [
        note
        for note in PsychotherapyNote.objects.select_related("author", "patient")
        .filter(clinic=member.clinic, patient=patient, voided_at__isnull=True)
        .order_by("-created_at", "-pk")
        if can_read(member, note)
    ]
    _log(member, patient, AuditAction.VIEW, f"psychotherapy notes list ({len(notes)} readable)")
    return notes


def _check_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ApplicationError(
            _(
                "A psychotherapy note may be at most %(max)d characters long; this one has %(count)d. Nothing was saved."
            )
            % {"max": MAX_TEXT, "count": len(text)}
        )
    return text


def note_create(
    *, member: Membership, patient: Patient, text: str, course: TreatmentCourse | None = None
) -> PsychotherapyNote:
    """A new draft by a therapist on the patient's care team."""
    require_writer(member, patient)
    text = _check_text(text)
    if course is not None and course.patient_id != patient.pk:
        raise ApplicationError(_("That course belongs to another patient."))
    with transaction.atomic():
        note = PsychotherapyNote.objects.create(
            clinic=member.clinic,
            patient=patient,
            course=course,
            author=member.user,
            text=text,
            created_by=member.user,
            updated_by=member.user,
        )
        _log(member, patient, AuditAction.CREATE, f"psychotherapy note {note.public_id} (draft)")
    return note


def _locked_own_draft(member: Membership, note: PsychotherapyNote) -> PsychotherapyNote:
    current = PsychotherapyNote.objects.select_for_update().get(pk=note.pk)
    if current.author_id != member.user_id:
        audit.record(
            user=member.user,
            clinic=member.clinic,
            patient=note.patient,
            action=AuditAction.UPDATE,
            category=DataCategory.CLINICAL,
            outcome=AuditOutcome.DENIED,
            detail=f"psychotherapy note {note.public_id}: not the author",
        )
        raise ApplicationError(_("Only the author of a psychotherapy note may change or sign it."))
    if current.status == NoteStatus.SIGNED:
        raise Conflict(_("This note is signed and can no longer be changed."))
    return current


def note_save(
    *, member: Membership, note: PsychotherapyNote, text: str, base_version: int
) -> PsychotherapyNote:
    """Save the author's draft; a save from a stale page is refused with both texts."""
    text = _check_text(text)
    with transaction.atomic():
        current = _locked_own_draft(member, note)
        if current.version != base_version:
            raise PsychotherapyConflict(
                _(
                    "This note was saved elsewhere since you opened it (version %(theirs)d, yours was "
                    "%(yours)d). Nothing was overwritten: compare both texts below, then save again."
                )
                % {"theirs": current.version, "yours": base_version},
                yours=text,
                theirs=current.text,
                version=current.version,
            )
        current.text = text
        current.version += 1
        current.updated_by = member.user
        current.save()
        _log(
            member,
            current.patient,
            AuditAction.UPDATE,
            f"psychotherapy note {current.public_id} (draft saved)",
        )
    return current


def note_sign(
    *, member: Membership, note: PsychotherapyNote, base_version: int | None = None
) -> PsychotherapyNote:
    """Sign the author's draft: from now on it never changes."""
    with transaction.atomic():
        current = _locked_own_draft(member, note)
        if base_version is not None and current.version != base_version:
            raise Conflict(_("This note was saved elsewhere since you opened it; reload it before signing."))
        if not current.text.strip():
            raise ApplicationError(_("An empty note cannot be signed."))
        current.status = NoteStatus.SIGNED
        current.signed_at = timezone.now()
        current.version += 1
        current.updated_by = member.user
        current.save()
        _log(member, current.patient, AuditAction.UPDATE, f"psychotherapy note {current.public_id} (signed)")
    return current
