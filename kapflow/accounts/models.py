"""People who sign in: staff users, their clinic memberships and roles, and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kapflow.core.roles import CLINICAL_ROLES, MEDICAL_ROLES, Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in. Staff reach clinics through memberships."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()

    def active_memberships(self) -> models.QuerySet[Membership]:
        return self.memberships.filter(is_active=True, clinic__is_active=True).select_related("clinic")

    def is_portal_user(self) -> bool:
        """A patient's sign-in: a working portal account and no active place on any staff."""
        if self.memberships.filter(is_active=True).exists():
            return False
        return (
            type(self)
            .objects.filter(
                pk=self.pk,
                portal_account__is_active=True,
                portal_account__clinic__is_active=True,
                portal_account__patient__voided_at__isnull=True,
            )
            .exists()
        )


class RoleChoice(models.TextChoices):
    CLINIC_ADMIN = Role.CLINIC_ADMIN.value, _("Clinic admin")
    FRONT_DESK = Role.FRONT_DESK.value, _("Front desk")
    THERAPIST = Role.THERAPIST.value, _("Therapist")
    PRESCRIBER = Role.PRESCRIBER.value, _("Prescriber")
    NURSE = Role.NURSE.value, _("Nurse")


class Membership(models.Model):
    """A user's place in one clinic, with one role there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=RoleChoice.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["clinic__name", "user__full_name"]
        constraints = [models.UniqueConstraint(fields=["user", "clinic"], name="one_membership_per_clinic")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.clinic})"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_medical(self) -> bool:
        return self.role_enum in MEDICAL_ROLES

    @property
    def is_clinical(self) -> bool:
        return self.role_enum in CLINICAL_ROLES


class Invitation(models.Model):
    """An emailed, single-use, expiring invitation to join a clinic's staff."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField(_("email address"))
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=RoleChoice.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.clinic_id}"

    def is_usable(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class UserSession(models.Model):
    """Which sessions belong to whom, so deactivating a person ends their sessions at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session of user {self.user_id}"
