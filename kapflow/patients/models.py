"""The patient record: who the person is, how to reach them, and who cares for them."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kapflow.core.models import ClinicalRecord


class SexAtBirth(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    INTERSEX = "intersex", _("Intersex")
    UNKNOWN = "unknown", _("Unknown")
    DECLINED = "declined", _("Prefers not to say")


class Patient(ClinicalRecord):
    record_number = models.CharField(
        _("record number"),
        max_length=32,
        help_text=_("Unique within the clinic. Leave empty to number the record automatically."),
    )
    legal_given_name = models.CharField(_("legal given name"), max_length=120)
    legal_family_name = models.CharField(_("legal family name"), max_length=120)
    preferred_name = models.CharField(_("preferred name"), max_length=120, blank=True)
    pronouns = models.CharField(_("pronouns"), max_length=40, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    sex_at_birth = models.CharField(
        _("sex assigned at birth"),
        max_length=16,
        choices=SexAtBirth.choices,
        default=SexAtBirth.UNKNOWN,
    )
    gender_identity = models.CharField(_("gender identity"), max_length=80, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True, max_length=500)
    emergency_contact_name = models.CharField(_("emergency contact name"), max_length=200, blank=True)
    emergency_contact_relationship = models.CharField(_("relationship"), max_length=80, blank=True)
    emergency_contact_phone = models.CharField(_("emergency contact phone"), max_length=40, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["legal_family_name", "legal_given_name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "record_number"], name="record_number_unique_in_clinic")
        ]
        indexes = [
            models.Index(Lower("legal_family_name"), "clinic", name="patient_family_name_idx"),
            models.Index(fields=["clinic", "date_of_birth"], name="patient_dob_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.legal_given_name
        return f"{given} {self.legal_family_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_given_name} {self.legal_family_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class CareTeamRole(models.TextChoices):
    THERAPIST = "therapist", _("Therapist")
    MEDICAL = "medical", _("Medical professional")


class CareTeamMember(models.Model):
    """A staff member on a patient's care team. Leaving the team keeps the row (removed_at)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_teams")
    team_role = models.CharField(_("role on the team"), max_length=16, choices=CareTeamRole.choices)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["team_role", "user__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "user"],
                condition=models.Q(removed_at__isnull=True),
                name="one_current_care_team_row_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on the care team of {self.patient_id} ({self.team_role})"


class ClinicalBackground(models.Model):
    """What brings the person to the clinic: the clinical summary on the chart.

    Clinical data: only clinicians on the care team read or change it.
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="clinical_background")
    presenting_concerns = models.TextField(_("presenting concerns"), blank=True, max_length=10000)
    diagnoses = models.TextField(
        _("diagnoses"),
        blank=True,
        max_length=4000,
        help_text=_("One per line, with ICD-10 code where known."),
    )
    allergies = models.TextField(_("allergies and intolerances"), blank=True, max_length=4000)
    referral_source = models.CharField(_("referred by"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"clinical background of patient {self.patient_id}"
