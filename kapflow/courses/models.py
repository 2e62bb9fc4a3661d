"""Treatment courses: the course, its visits, clinical notes with their lifecycle,
psychotherapy notes kept apart, and the patient's intentions and integration journal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kapflow.core.models import ClinicalRecord


class CourseStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    DISCONTINUED = "discontinued", _("Discontinued")


OPEN_STATUSES = (CourseStatus.PLANNED, CourseStatus.ACTIVE, CourseStatus.PAUSED)


class TreatmentCourse(ClinicalRecord):
    """A course of KAP: a route, a planned number of dosing sessions, a care team."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="courses")
    route = models.CharField(_("route"), max_length=16)  # a kapflow.screening.models.Route value
    planned_dosing_sessions = models.PositiveSmallIntegerField(_("planned dosing sessions"))
    therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("therapists")
    )
    medical_staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("medical professionals")
    )
    status = models.CharField(
        _("status"), max_length=14, choices=CourseStatus.choices, default=CourseStatus.PLANNED
    )
    status_reason = models.TextField(_("reason"), blank=True, max_length=2000)
    starts_on = models.DateField(_("starts on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(status="active"), name="one_active_course_per_patient"
            )
        ]

    def __str__(self) -> str:
        return f"course of patient {self.patient_id} ({self.route}, {self.status})"


class VisitKind(models.TextChoices):
    PREPARATION = "preparation", _("Preparation")
    INTEGRATION = "integration", _("Integration")
    FOLLOW_UP = "follow_up", _("Follow-up")
    DOSING = "dosing", _("Dosing session (guide note)")


class Visit(ClinicalRecord):
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="visits")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=VisitKind.choices)
    happened_on = models.DateField(_("date"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The therapist's guide note of a dosing session is a visit of that session.
    dosing_session = models.ForeignKey(
        "dosing.DosingSession", null=True, blank=True, on_delete=models.PROTECT, related_name="guide_visits"
    )

    class Meta:
        ordering = ["happened_on", "id"]
        # The outcomes dashboard asks, per dosing session, for an integration visit of its course
        # within days of it: a seek on this index, not a walk over the course's visits (#12).
        indexes = [models.Index(fields=["course", "kind", "happened_on"], name="visit_course_kind_day_idx")]

    def __str__(self) -> str:
        return f"{self.kind} visit {self.happened_on}"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")


class ClinicalNote(ClinicalRecord):
    """The note of a visit: a template's fields as JSON; a draft until signed, then immutable."""

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="note")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    template = models.CharField(max_length=16)  # preparation / integration / follow_up
    content = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # API lists and FHIR searches ask for a clinic's rows of a set of patients: without it SQLite
        # reads every row of the clinic (issue #12).
        indexes = [models.Index(fields=["clinic", "patient"], name="note_clinic_patient_idx")]

    def __str__(self) -> str:
        return f"{self.template} note ({self.status})"


class Addendum(models.Model):
    """A correction or addition to a signed note; the note itself never changes."""

    note = models.ForeignKey(ClinicalNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(max_length=10000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"addendum to note {self.note_id}"


class PsychotherapyNote(ClinicalRecord):
    """Kept apart from the record: readable by its author (and, if the clinic allows, the
    patient's treating therapists); never in the portal, printouts, exports, search or
    notifications, never to front desk or admins (45 CFR 164.524 gives no right of access)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    course = models.ForeignKey(
        TreatmentCourse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=20000)
    status = models.CharField(max_length=8, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"psychotherapy note {self.public_id}"


class Intention(ClinicalRecord):
    """The patient's intention for the course (or a dosing session), set in the portal."""

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="intentions")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=3000)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"intention of patient {self.patient_id}"


class JournalEntry(ClinicalRecord):
    """An integration journal entry by the patient: private, or shared with the care team."""

    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="journal")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=10000)
    shared = models.BooleanField(_("share with my care team"), default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"journal entry of patient {self.patient_id}"
