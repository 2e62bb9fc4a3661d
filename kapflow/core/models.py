"""The base every clinical row stands on, and the append-only access log."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ClinicalRecord(models.Model):
    """A row of patient data: public UUID, authorship, an edit version, and voiding.

    Nothing clinical is hard deleted: ``void`` records who took it out of use and why.
    ``version`` increases on each save so an edit made from a stale page can be refused.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{type(self).__name__} rows are clinical: void them with a reason instead.")

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class AuditAction(models.TextChoices):
    VIEW = "view", _("view")
    CREATE = "create", _("create")
    UPDATE = "update", _("update")
    EXPORT = "export", _("export")
    PRINT = "print", _("print")
    LOGIN = "login", _("log in")
    LOGOUT = "logout", _("log out")


class DataCategory(models.TextChoices):
    DEMOGRAPHICS = "demographics", _("demographics")
    CLINICAL = "clinical", _("clinical")
    CARE_TEAM = "care_team", _("care team")
    STAFF = "staff", _("staff")
    CLINIC = "clinic", _("clinic settings")
    AUDIT = "audit", _("access log")
    ACCOUNT = "account", _("account")
    INTAKE = "intake", _("appointment requests")
    PORTAL = "portal", _("patient portal")
    MEASURES = "measures", _("measures and safety alerts")
    STOCK = "stock", _("controlled-substance ledger")
    SCHEDULE = "schedule", _("appointments and calendars")
    OUTCOMES = "outcomes", _("outcomes and reports")
    EXPORT = "exports", _("FHIR bulk exports")


class AuditOutcome(models.TextChoices):
    ALLOWED = "allowed", _("allowed")
    DENIED = "denied", _("denied")


class AuditChainHead(models.Model):
    """The last entry of one hash chain (one chain per clinic, key 0 for no clinic).

    Appending locks this row, so entries of one chain are written one at a time and a
    deleted last entry is noticed: the head still names it.
    """

    key = models.BigIntegerField(unique=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"audit chain {self.key} at {self.last_seq}"


class AppendOnlyQuerySet(models.QuerySet["AccessLogEntry"]):
    """Bulk ``update()`` and ``delete()`` would bypass the model's refusals; refuse them too."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError("The access log is append-only; entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The access log is append-only; entries cannot be deleted.")


class AccessLogEntry(models.Model):
    """One access to data: who, when (UTC), which clinic and patient, what, and the outcome.

    Rows are only ever inserted (see ``kapflow.core.audit``); each carries the hash of the
    one before it in its chain, so an edited, deleted or inserted row breaks the chain.
    """

    chain = models.BigIntegerField()
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user_email = models.CharField(max_length=254, blank=True)
    clinic = models.ForeignKey(
        "clinics.Clinic", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    category = models.CharField(max_length=16, choices=DataCategory.choices)
    outcome = models.CharField(max_length=8, choices=AuditOutcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]
        indexes = [
            models.Index(fields=["clinic", "at"]),
            models.Index(fields=["patient", "at"]),
            models.Index(fields=["user", "at"]),
        ]
        verbose_name_plural = "access log entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.user_email} {self.action} {self.category} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("The access log is append-only; entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("The access log is append-only; entries cannot be deleted.")
