"""Scheduling: appointment types, opening and working hours, closures and absences,
appointments with their staff, reminders sent, and staff calendar feeds.

Times are stored in UTC and shown in the clinic's time zone; working hours are local times
of a weekday (so a daylight-saving change moves them with the clock, as people expect).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kapflow.core.models import ClinicalRecord


class Kind(models.TextChoices):
    SCREENING = "screening", _("Screening")
    PREPARATION = "preparation", _("Preparation")
    DOSING = "dosing", _("Dosing session")
    INTEGRATION = "integration", _("Integration")
    FOLLOW_UP = "follow_up", _("Follow-up")


class AppointmentType(models.Model):
    """The clinic's settings for one kind of appointment. A dosing appointment's length comes
    from the route's protocol (set-up + minimum observation + turnover), not from here."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        _("length (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    needs_therapist = models.BooleanField(_("a therapist attends"), default=False)
    needs_medical = models.BooleanField(_("a prescriber or nurse attends"), default=False)
    instructions = models.TextField(
        _("instructions for the patient"),
        blank=True,
        max_length=3000,
        help_text=_("Shown in the portal and sent with reminders."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["clinic", "kind"], name="one_type_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.duration_minutes} min)"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """Local opening hours of the clinic (user empty) or working hours of one staff member."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        ordering = ["user_id", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="hours_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class Unavailability(models.Model):
    """A closure of the clinic (no room, no user), a room out of use, or a staff absence."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        "clinics.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="unavailability_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.starts_at:%Y-%m-%d}"


class Status(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATUSES = (Status.BOOKED, Status.CHECKED_IN, Status.COMPLETED)


class Appointment(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    course = models.ForeignKey(
        "courses.TreatmentCourse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    route = models.CharField(_("route"), max_length=16, blank=True)  # dosing only
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    room = models.ForeignKey(
        "clinics.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.BOOKED)
    dosing_session = models.OneToOneField(
        "dosing.DosingSession", null=True, blank=True, on_delete=models.PROTECT, related_name="appointment"
    )
    cancel_reason = models.CharField(_("reason"), max_length=300, blank=True)
    change_request = models.TextField(_("the patient's request"), blank=True, max_length=1000)
    change_requested_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["clinic", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["room", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appointment_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d %H:%M}"


class StaffRole(models.TextChoices):
    THERAPIST = "therapist", _("Therapist")
    MEDICAL = "medical", _("Medical professional")
    OTHER = "other", _("Staff")


class AppointmentStaff(models.Model):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=StaffRole.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["appointment", "user"], name="one_row_per_attendee")]
        indexes = [models.Index(fields=["user", "appointment"])]

    def __str__(self) -> str:
        return f"{self.role} of appointment {self.appointment_id}"


class ReminderSent(models.Model):
    """One reminder email sent (for this appointment time and offset): sent once, never twice."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="reminders")
    hours_before = models.PositiveSmallIntegerField()
    for_starts_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "hours_before", "for_starts_at"], name="one_reminder_per_offset"
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.hours_before} h before appointment {self.appointment_id}"


class CalendarFeed(models.Model):
    """A staff member's iCalendar feed behind a secret address; only the token's hash is kept."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(_("name"), max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"calendar feed of user {self.user_id}"
