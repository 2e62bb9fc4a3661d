"""Dosing sessions (check-in, the pre-dose gate, administrations, monitoring readings, adverse
events, discharge) and the controlled-substance ledger (lots, entries, counts).

A session locks when discharge is signed: from then on only addenda are added. Ledger rows
are written once; a lot's balance changes only through ledger entries and never goes below
zero (a database constraint backs the service's check).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kapflow.core.models import ClinicalRecord

KETAMINE = "ketamine hydrochloride"


class ProtocolVersion(models.Model):
    """One saved version of a clinic's protocol for a route; sessions keep the one they ran under."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    route = models.CharField(max_length=16)
    version = models.PositiveIntegerField()
    values = models.JSONField()
    is_example = models.BooleanField(default=False)
    change_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["route", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "route", "version"], name="one_protocol_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.route} protocol v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("A protocol version is written once; save a new version instead.")
        super().save(*args, **kwargs)


class SessionStatus(models.TextChoices):
    CHECKED_IN = "checked_in", _("Checked in")
    IN_SESSION = "in_session", _("In session")
    DISCHARGED = "discharged", _("Discharged")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_SESSION = (SessionStatus.CHECKED_IN, SessionStatus.IN_SESSION)


class PregnancyTest(models.TextChoices):
    NOT_DONE = "not_done", _("Not done")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class DosingSession(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="dosing_sessions")
    course = models.ForeignKey(
        "courses.TreatmentCourse", on_delete=models.PROTECT, related_name="dosing_sessions"
    )
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="sessions")
    route = models.CharField(max_length=16)
    number = models.PositiveSmallIntegerField()  # the course's n-th session
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.CHECKED_IN)
    room = models.ForeignKey(
        "clinics.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_in_at = models.DateTimeField()
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_at = models.DateTimeField(null=True, blank=True)
    fasting_confirmed = models.BooleanField(default=False)
    escort_confirmed = models.BooleanField(default=False)
    escort_name = models.CharField(max_length=200, blank=True)
    intentions_reviewed = models.BooleanField(default=False)
    pregnancy_test = models.CharField(
        max_length=16, choices=PregnancyTest.choices, default=PregnancyTest.NOT_DONE
    )
    concomitant_medications = models.TextField(blank=True, max_length=3000)
    # {check: {"reason": ..., "by": user id, "by_name": ..., "at": iso}}
    overrides = models.JSONField(default=dict, blank=True)
    # The gate's checks as they stood at the first administration.
    gate_snapshot = models.JSONField(default=list, blank=True)
    first_administered_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    discharge_checklist = models.JSONField(default=list, blank=True)
    ready_to_leave_at = models.DateTimeField(null=True, blank=True)
    discharge_note = models.TextField(blank=True, max_length=3000)
    cancel_reason = models.TextField(blank=True, max_length=2000)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status__in=["checked_in", "in_session"]),
                name="one_open_dosing_session_per_patient",
            ),
            models.UniqueConstraint(fields=["course", "number"], name="one_session_number_per_course"),
        ]
        indexes = [
            models.Index(fields=["clinic", "status", "checked_in_at"]),
            # API lists and FHIR searches ask for a clinic's rows of a set of patients: without it SQLite
            # reads every row of the clinic (issue #12).
            models.Index(fields=["clinic", "patient"], name="session_clinic_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"dosing session {self.number} of patient {self.patient_id} ({self.status})"

    @property
    def is_locked(self) -> bool:
        return self.status in (SessionStatus.DISCHARGED, SessionStatus.CANCELLED)


class StockLot(models.Model):
    """A lot of the controlled substance as received: quantity in mg, expiry, running balance."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    drug = models.CharField(max_length=80, default=KETAMINE)
    form = models.CharField(_("form and strength"), max_length=120)
    lot_number = models.CharField(_("lot number"), max_length=60)
    supplier = models.CharField(max_length=200, blank=True)
    expires_on = models.DateField(_("expires on"))
    received_mg = models.DecimalField(max_digits=9, decimal_places=2)
    balance_mg = models.DecimalField(max_digits=9, decimal_places=2)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["expires_on", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "drug", "lot_number"], name="one_lot_number_per_drug"),
            models.CheckConstraint(condition=models.Q(balance_mg__gte=0), name="lot_balance_never_negative"),
        ]

    def __str__(self) -> str:
        return f"lot {self.lot_number} ({self.form})"


class Administration(ClinicalRecord):
    """A dose given by a medical professional: drug, route, mg (and mg/kg), time, lot, witness."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="administrations")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    drug = models.CharField(max_length=80, default=KETAMINE)
    route = models.CharField(max_length=16)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    mg_per_kg = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    lot = models.ForeignKey(StockLot, on_delete=models.PROTECT, related_name="administrations")
    administered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    booster = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True, max_length=2000)
    outside_protocol = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        # API lists and FHIR searches ask for a clinic's rows of a set of patients: without it SQLite
        # reads every row of the clinic (issue #12).
        indexes = [models.Index(fields=["clinic", "patient"], name="dose_clinic_patient_idx")]

    def __str__(self) -> str:
        return f"{self.dose_mg} mg {self.route} at {self.started_at:%H:%M}"


class ReadingKind(models.TextChoices):
    VITALS = "vitals", _("Vital signs")
    MOAAS = "moaas", _("MOAA/S")
    DISSOCIATION = "dissociation", _("Dissociation")
    OBSERVATION = "observation", _("Observation")


class Reading(ClinicalRecord):
    """One timed entry of the monitoring record: vital signs, a MOAA/S score, or an observation.
    A reading that crosses a limit carries the breaches found at the time."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="readings")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=ReadingKind.choices)
    taken_at = models.DateTimeField()
    before_dose = models.BooleanField(default=False)
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    moaas = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)  # a dissociation total
    note = models.TextField(blank=True, max_length=3000)
    level = models.CharField(max_length=10, default="ok")  # vitals.Level
    breaches = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["taken_at", "id"]
        # API lists and FHIR searches ask for a clinic's rows of a set of patients: without it SQLite
        # reads every row of the clinic (issue #12).
        indexes = [models.Index(fields=["clinic", "patient"], name="reading_clinic_patient_idx")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.taken_at:%H:%M}"

    def vitals(self) -> dict[str, int | None]:
        return {
            "systolic": self.systolic,
            "diastolic": self.diastolic,
            "heart_rate": self.heart_rate,
            "spo2": self.spo2,
            "respiratory_rate": self.respiratory_rate,
        }


class EventKind(models.TextChoices):
    NAUSEA = "nausea_vomiting", _("Nausea or vomiting")
    HYPERTENSION = "hypertension", _("Hypertension")
    TACHYCARDIA = "tachycardia", _("Tachycardia")
    AGITATION = "agitation", _("Agitation or emergence reaction")
    SEDATION = "sedation", _("Sedation")
    RESPIRATORY = "respiratory_depression", _("Respiratory depression")
    DESATURATION = "desaturation", _("Desaturation")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")
    LIFE_THREATENING = "life_threatening", _("Life-threatening")


class EventOutcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    RESOLVING = "resolving", _("Resolving")
    ONGOING = "ongoing", _("Ongoing")
    TRANSFERRED = "transferred", _("Transferred for further care")


class AdverseEvent(ClinicalRecord):
    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="events")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("type"), max_length=24, choices=EventKind.choices)
    description = models.TextField(_("description"), blank=True, max_length=3000)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    serious = models.BooleanField(_("serious"), default=False)
    occurred_at = models.DateTimeField(_("time"))
    intervention = models.TextField(_("intervention"), blank=True, max_length=3000)
    outcome = models.CharField(_("outcome"), max_length=12, choices=EventOutcome.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} ({self.severity})"


class SessionAddendum(models.Model):
    """An addition to a discharged (locked) session record; the record itself never changes."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(max_length=10000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "session addenda"

    def __str__(self) -> str:
        return f"addendum to session {self.session_id}"


class LedgerKind(models.TextChoices):
    RECEIPT = "receipt", _("Received")
    ADMINISTRATION = "administration", _("Administered")
    WASTE = "waste", _("Wasted")
    ADJUSTMENT = "adjustment", _("Count adjustment")


class LedgerEntry(models.Model):
    """One movement of stock, written once: signed quantity and the balance after it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(StockLot, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=14, choices=LedgerKind.choices)
    quantity_mg = models.DecimalField(max_digits=9, decimal_places=2)  # negative when stock leaves
    balance_after_mg = models.DecimalField(max_digits=9, decimal_places=2)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    administration = models.OneToOneField(
        Administration, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry"
    )
    reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["clinic", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity_mg} mg of lot {self.lot_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Ledger entries are written once; record a correcting entry instead.")
        super().save(*args, **kwargs)


class StockCount(models.Model):
    """A periodic physical count of a lot, with the reason for any discrepancy."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(StockLot, on_delete=models.PROTECT, related_name="counts")
    expected_mg = models.DecimalField(max_digits=9, decimal_places=2)
    counted_mg = models.DecimalField(max_digits=9, decimal_places=2)
    reason = models.TextField(blank=True, max_length=2000)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"count of lot {self.lot_id}: {self.counted_mg} mg"

    @property
    def discrepancy_mg(self) -> Any:
        return self.counted_mg - self.expected_mg
