"""Informed consent: versioned templates, and signatures that never change once made.

A new text is a new ``ConsentTemplate`` row (the highest version is the current one). A
``ConsentSignature`` keeps what was signed, by whom and when, with the rendered PDF; being
witnessed or withdrawn are rows of their own, so the signature itself is never edited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kapflow.core.models import ClinicalRecord

BODY_MAX_LENGTH = 50_000
REASON_MAX_LENGTH = 1000


class ConsentTemplate(models.Model):
    """One version of a clinic's consent text. Never edited: publish a new version instead."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=BODY_MAX_LENGTH)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "version"], name="consent_template_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("A published consent template never changes; publish a new version.")
        super().save(*args, **kwargs)


class ConsentSignature(ClinicalRecord):
    """The patient's signature of one template version. Immutable after creation."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    template = models.ForeignKey(ConsentTemplate, on_delete=models.PROTECT, related_name="signatures")
    typed_name = models.CharField(max_length=300)
    confirmed = models.BooleanField()
    signed_at = models.DateTimeField()
    pdf = models.BinaryField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["patient", "signed_at"])]

    def __str__(self) -> str:
        return f"consent v{self.template.version} signed by patient {self.patient_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("A signed consent never changes; witnessing and withdrawal are recorded apart.")
        super().save(*args, **kwargs)


class ConsentWitness(models.Model):
    """A staff member saw the signature made (or confirmed it with the patient)."""

    signature = models.OneToOneField(ConsentSignature, on_delete=models.PROTECT, related_name="witness")
    witness = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witnessed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"witness of signature {self.signature_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("A witness entry never changes.")
        super().save(*args, **kwargs)


class ConsentWithdrawal(models.Model):
    """The patient withdrew the consent (told the portal, or told staff who recorded it)."""

    signature = models.OneToOneField(ConsentSignature, on_delete=models.PROTECT, related_name="withdrawal")
    withdrawn_at = models.DateTimeField()
    reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_patient = models.BooleanField()

    def __str__(self) -> str:
        return f"withdrawal of signature {self.signature_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("A withdrawal never changes.")
        super().save(*args, **kwargs)
