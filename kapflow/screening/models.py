"""Screening: what the patient reports, what a medical professional verifies and measures,
the findings of the clinic's rules, and the prescriber's eligibility decision.

Every row here is written once. A new screening supersedes the older ones (the newest is
current; the history stays readable); a decision is made on the current screening only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kapflow.core.models import ClinicalRecord


class Route(models.TextChoices):
    SUBLINGUAL = "sublingual", _("Sublingual lozenge or tablet")
    BUCCAL = "buccal", _("Buccal")
    INTRAMUSCULAR = "intramuscular", _("Intramuscular injection")
    INTRAVENOUS = "intravenous", _("Intravenous infusion")
    NASAL = "nasal", _("Nasal spray")


class WrittenOnce(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError(f"A {type(self).__name__} is written once; record a new one instead.")
        super().save(*args, **kwargs)


class ClinicRules(models.Model):
    """A version of the clinic's eligibility rules (the shipped example until edited)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    version = models.CharField(max_length=40)
    data = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "version"], name="one_rules_version_per_clinic")
        ]

    def __str__(self) -> str:
        return f"rules {self.version} of clinic {self.clinic_id}"


class YesNoUnsure(models.TextChoices):
    NO = "no", _("No")
    YES = "yes", _("Yes")
    UNSURE = "unsure", _("Not sure")


class HealthQuestionnaire(ClinicalRecord, WrittenOnce):
    """What the patient reports in the portal before screening (verified by a clinician)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="health_questionnaires"
    )
    conditions = models.JSONField(default=list, blank=True)  # condition keys the patient ticked
    other_conditions = models.TextField(_("other medical conditions"), blank=True, max_length=2000)
    medications = models.TextField(_("medicines you take now"), blank=True, max_length=2000)
    substance_use = models.TextField(_("alcohol, cannabis and other drugs"), blank=True, max_length=2000)
    pregnant_or_breastfeeding = models.CharField(max_length=8, choices=YesNoUnsure.choices)
    psychiatric_history = models.TextField(
        _("mental health diagnoses and history"), blank=True, max_length=3000
    )
    psychosis = models.CharField(max_length=8, choices=YesNoUnsure.choices)
    bipolar = models.CharField(max_length=8, choices=YesNoUnsure.choices)
    antidepressant_trials = models.PositiveSmallIntegerField(validators=[MaxValueValidator(30)])
    psychotherapy = models.BooleanField(default=False)
    ect = models.BooleanField(default=False)
    tms = models.BooleanField(default=False)
    prior_ketamine = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"health questionnaire of patient {self.patient_id}"


class MedicalScreening(ClinicalRecord, WrittenOnce):
    """A medical professional's screening: verified history, medicines, vitals, findings."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="screenings")
    patient_report = models.ForeignKey(
        HealthQuestionnaire, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    conditions = models.JSONField(default=list, blank=True)
    med_classes = models.JSONField(default=list, blank=True)
    medications = models.TextField(blank=True, max_length=3000)
    substance_use_active = models.BooleanField(default=False)
    substance_use_notes = models.TextField(blank=True, max_length=2000)
    pregnant_or_breastfeeding = models.BooleanField(default=False)
    psychosis_history = models.BooleanField(default=False)
    psychosis_family_history = models.BooleanField(default=False)
    bipolar = models.BooleanField(default=False)
    mood_stabiliser = models.BooleanField(default=False)
    adequate_trials = models.PositiveSmallIntegerField(validators=[MaxValueValidator(30)])
    psychotherapy_tried = models.BooleanField(default=False)
    ect = models.BooleanField(default=False)
    tms = models.BooleanField(default=False)
    prior_ketamine = models.BooleanField(default=False)
    systolic = models.PositiveSmallIntegerField(validators=[MinValueValidator(60), MaxValueValidator(260)])
    diastolic = models.PositiveSmallIntegerField(validators=[MinValueValidator(30), MaxValueValidator(160)])
    heart_rate = models.PositiveSmallIntegerField(validators=[MinValueValidator(25), MaxValueValidator(250)])
    weight_kg = models.DecimalField(
        max_digits=5, decimal_places=1, validators=[MinValueValidator(20), MaxValueValidator(350)]
    )
    height_cm = models.DecimalField(
        max_digits=4, decimal_places=1, validators=[MinValueValidator(100), MaxValueValidator(250)]
    )
    bmi = models.DecimalField(max_digits=4, decimal_places=1)
    baseline_phq9 = models.ForeignKey(
        "measures.MeasureResponse", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    baseline_gad7 = models.ForeignKey(
        "measures.MeasureResponse", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    baseline_cssrs = models.ForeignKey(
        "measures.MeasureResponse", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True, max_length=5000)
    rules_version = models.CharField(max_length=40)
    findings = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"screening of patient {self.patient_id} ({self.created_at:%Y-%m-%d})"

    @property
    def hard_stops(self) -> list[dict[str, str]]:
        return [f for f in self.findings if f.get("level") == "hard_stop"]


class Outcome(models.TextChoices):
    ELIGIBLE = "eligible", _("Eligible")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    MORE_INFO = "more_info", _("More information needed")


class EligibilityDecision(WrittenOnce):
    """A prescriber's decision on one screening. Written once; a new decision supersedes."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="eligibility_decisions"
    )
    screening = models.ForeignKey(MedicalScreening, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    valid_until = models.DateField(null=True, blank=True)
    routes = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True, max_length=3000)
    justification = models.TextField(blank=True, max_length=3000)
    overrides_hard_stop = models.BooleanField(default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.outcome} for patient {self.patient_id}"
