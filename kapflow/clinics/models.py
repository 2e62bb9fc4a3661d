"""A clinic, where it works (locations) and the rooms it treats people in."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone name; use one like Europe/London or America/Denver."),
            params={"value": value},
        )


def reminder_hour_list(value: str) -> list[int]:
    """'48, 2' -> [48, 2]; raises ValueError on anything else."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    hours = [int(p) for p in parts]
    if any(not 1 <= h <= 336 for h in hours) or len(hours) > 5 or len(set(hours)) != len(hours):
        raise ValueError(value)
    return sorted(hours, reverse=True)


def validate_reminder_hours(value: str) -> None:
    try:
        reminder_hour_list(value)
    except ValueError:
        raise ValidationError(
            _("Give up to 5 different whole numbers of hours from 1 to 336, separated by commas.")
        ) from None


class Clinic(models.Model):
    slug = models.SlugField(max_length=60, unique=True, help_text=_("Short name used in addresses."))
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    crisis_line_text = models.TextField(
        _("crisis line text"),
        default=_("In an emergency call 911. For a mental health crisis call or text 988."),
        help_text=_("Shown to patients and visitors on every page."),
    )
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        _("idle timeout (minutes)"),
        default=15,
        validators=[MinValueValidator(2), MaxValueValidator(240)],
        help_text=_("Staff are signed out after this long without activity."),
    )
    alert_hours_high = models.PositiveSmallIntegerField(
        _("respond to a high-risk safety alert within (hours)"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
        help_text=_("Example value: set by your medical director."),
    )
    alert_hours_moderate = models.PositiveSmallIntegerField(
        _("respond to a moderate-risk safety alert within (hours)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(336)],
        help_text=_("Example value: set by your medical director."),
    )
    preparation_visits_required = models.PositiveSmallIntegerField(
        _("preparation visits required before the first dosing session"),
        default=2,
        validators=[MaxValueValidator(10)],
        help_text=_("Example value: set by your medical director."),
    )
    integration_due_days = models.PositiveSmallIntegerField(
        _("an integration visit is due within (days) after each dosing session"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Example value: set by your medical director."),
    )
    appointment_notice_hours = models.PositiveSmallIntegerField(
        _("patients may cancel or ask to change an appointment up to (hours) before it"),
        default=24,
        validators=[MaxValueValidator(336)],
    )
    reminder_hours = models.CharField(
        _("email reminders (hours before the appointment, comma separated)"),
        max_length=40,
        default="48, 2",
        validators=[validate_reminder_hours],
        help_text=_("For example 48, 2: two days before and two hours before. Leave empty for none."),
    )
    dosing_setup_minutes = models.PositiveSmallIntegerField(
        _("time before the first dose in a dosing appointment (minutes)"),
        default=20,
        validators=[MaxValueValidator(240)],
        help_text=_(
            "Check-in, vital signs and the pre-dose checks; added to the protocol's observation time."
        ),
    )
    turnover_minutes = models.PositiveSmallIntegerField(
        _("room turnover after a dosing appointment (minutes)"),
        default=15,
        validators=[MaxValueValidator(240)],
    )
    report_min_group = models.PositiveSmallIntegerField(
        _("reports show a rate only for groups of at least (courses or sessions)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Smaller groups are shown as 'too few to report', so no one can be recognised."),
    )
    psychotherapy_notes_shared_with_treating_therapists = models.BooleanField(
        _("treating therapists may read each other's psychotherapy notes"),
        default=False,
        help_text=_("Off: only the author reads a psychotherapy note."),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_record_number = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["next_record_number"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Location(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="location_name_unique_in_clinic")
        ]

    def __str__(self) -> str:
        return self.name


class RoomKind(models.TextChoices):
    TREATMENT = "treatment", _("treatment (dosing) room")
    CONSULTATION = "consultation", _("consultation room")
    OTHER = "other", _("other")


class Room(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="rooms")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=RoomKind.choices, default=RoomKind.TREATMENT)
    is_active = models.BooleanField(_("in use"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="room_name_unique_in_location")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location.name})"
