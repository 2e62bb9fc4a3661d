"""Measurement-based care: what is asked of whom and when, the answers, and safety alerts.

Instruments themselves are data (``kapflow.measures.instruments``): the built-in ones in code,
a clinic's own uploaded as a definition. Responses keep the instrument version they answered,
their answers, total, band and flags; a submitted response never changes (a correction is a
new response pointing to the one it replaces).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kapflow.core.models import ClinicalRecord


class ClinicInstrument(models.Model):
    """An instrument a clinic uploaded (licensed scales such as CADSS or MADRS)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    key = models.SlugField(max_length=40)
    version = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    definition = models.JSONField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "key", "version"], name="one_instrument_version_per_clinic"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Schedule(models.TextChoices):
    ONCE = "once", _("Once")
    BASELINE = "baseline", _("At baseline (once, before treatment)")
    EVERY_N_DAYS = "every_n_days", _("Every N days")
    BEFORE_DOSING = "before_dosing", _("Before each dosing session")
    AFTER_DOSING = "after_dosing", _("A set number of hours after each dosing session")


DOSING_SCHEDULES = frozenset({Schedule.BEFORE_DOSING, Schedule.AFTER_DOSING})


class MeasureAssignment(ClinicalRecord):
    """A patient is asked to complete an instrument, once or on a schedule."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="measure_assignments"
    )
    instrument_key = models.CharField(max_length=40)
    schedule = models.CharField(max_length=16, choices=Schedule.choices)
    interval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    hours_after = models.PositiveSmallIntegerField(null=True, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.instrument_key} for patient {self.patient_id} ({self.schedule})"


class RequestStatus(models.TextChoices):
    DUE = "due", _("Due")
    COMPLETED = "completed", _("Completed")
    MISSED = "missed", _("Missed (a later one is due)")
    CANCELLED = "cancelled", _("Cancelled")


class MeasureRequest(models.Model):
    """One occurrence of an assignment: this instrument, due at this time, answered once."""

    public_id = models.UUIDField(unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="measure_requests")
    assignment = models.ForeignKey(MeasureAssignment, on_delete=models.PROTECT, related_name="requests")
    instrument_key = models.CharField(max_length=40)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.DUE)
    draft = models.JSONField(default=dict, blank=True)  # answers so far, kept if the patient leaves
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "due_at"], name="one_request_per_assignment_slot")
        ]
        indexes = [models.Index(fields=["patient", "status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.instrument_key} due {self.due_at:%Y-%m-%d} for patient {self.patient_id}"


class ResponseSource(models.TextChoices):
    PORTAL = "portal", _("the patient, in the portal")
    STAFF = "staff", _("staff, on the patient's behalf")
    OBSERVER = "observer", _("staff, as the observer")


class MeasureResponse(ClinicalRecord):
    """A submitted response. Never changed: a correction is a new response with ``replaces``."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="measure_responses"
    )
    request = models.ForeignKey(
        MeasureRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    instrument_key = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=20)
    instrument_name = models.CharField(max_length=200)
    answers = models.JSONField()
    total = models.IntegerField(null=True, blank=True)
    band = models.CharField(max_length=80, blank=True)
    risk = models.CharField(max_length=10, blank=True)
    flags = models.JSONField(default=list, blank=True)
    answered_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=ResponseSource.choices)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    correction_reason = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "instrument_key", "answered_at"]),
            # API lists and FHIR searches ask for a clinic's rows of a set of patients: without it SQLite
            # reads every row of the clinic (issue #12).
            models.Index(fields=["clinic", "patient"], name="response_clinic_patient_idx"),
        ]
        constraints = [
            # Answered once: a second submission of the same request (double click, replay)
            # cannot be stored; corrections carry no request.
            models.UniqueConstraint(fields=["request"], name="one_response_per_request")
        ]

    def __str__(self) -> str:
        return f"{self.instrument_key} {self.total} for patient {self.patient_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("A submitted response never changes; record a correction instead.")
        super().save(*args, **kwargs)


class AlertSeverity(models.TextChoices):
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Action recorded")


class SafetyAlert(models.Model):
    """A suicide-risk answer, routed to the care team with a deadline until someone acts."""

    public_id = models.UUIDField(unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="safety_alerts")
    response = models.ForeignKey(MeasureResponse, on_delete=models.PROTECT, related_name="alerts")
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices)
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    due_by = models.DateTimeField()
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    action_taken = models.TextField(blank=True, max_length=3000)

    class Meta:
        ordering = ["due_by"]
        indexes = [models.Index(fields=["clinic", "status", "due_by"])]

    def __str__(self) -> str:
        return f"{self.severity} alert for patient {self.patient_id}"
