"""What comes through the clinic's front door: appointment requests and the work on them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class PublicPage(models.Model):
    """A public page's text as the clinic admin wrote it (the shipped text until then)."""

    class Slug(models.TextChoices):
        HOME = "home", _("Home")
        HOW_KAP_WORKS = "how-kap-works", _("How KAP works")

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="public_pages")
    slug = models.CharField(max_length=32, choices=Slug.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"),
        max_length=20000,
        help_text=_(
            "Plain text. A line starting with '## ' is a heading; a blank line starts a new paragraph."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "slug"], name="one_public_page_per_slug")]

    def __str__(self) -> str:
        return f"{self.clinic_id}/{self.slug}"


class ContactMethod(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    TEXT = "text", _("Text message")


class HeardFrom(models.TextChoices):
    CLINICIAN = "clinician", _("My doctor or therapist")
    FRIEND = "friend", _("A friend or family member")
    SEARCH = "search", _("An internet search")
    ARTICLE = "article", _("An article, podcast or social media")
    OTHER = "other", _("Somewhere else")


class RequestStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    SCREENING_BOOKED = "screening_booked", _("Screening booked")
    DECLINED = "declined", _("Declined")
    DUPLICATE = "duplicate", _("Duplicate")


class AppointmentRequest(models.Model):
    """A person's request for a first appointment, sent from the public contact page."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        "clinics.Clinic", on_delete=models.PROTECT, related_name="appointment_requests"
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    preferred_contact = models.CharField(
        _("how should we contact you?"),
        max_length=8,
        choices=ContactMethod.choices,
        default=ContactMethod.EMAIL,
    )
    preferred_times = models.CharField(_("good times to reach you"), max_length=200, blank=True)
    hopes = models.TextField(_("what you hope for"), max_length=3000, blank=True)
    heard_from = models.CharField(
        _("how did you hear of us?"), max_length=16, choices=HeardFrom.choices, blank=True
    )
    consent_to_contact = models.BooleanField(_("consent to be contacted"))
    prescreen = models.JSONField(null=True, blank=True)
    prescreen_outcome = models.CharField(max_length=8, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.NEW
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointment_requests",
    )
    source_key = models.CharField(max_length=64, db_index=True)  # keyed hash of the sender's address
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["source_key"])

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(email="", phone=""), name="appointment_request_has_email_or_phone"
            )
        ]
        indexes = [models.Index(fields=["clinic", "status", "created_at"])]

    def __str__(self) -> str:
        return f"request {self.public_id}"


class ActivityKind(models.TextChoices):
    CONTACT_ATTEMPT = "contact", _("Contact attempt")
    NOTE = "note", _("Note")
    STATUS = "status", _("Status change")
    ASSIGNED = "assigned", _("Assignment")
    CONVERTED = "converted", _("Patient record created")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached them")
    LEFT_MESSAGE = "left_message", _("Left a message")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_DETAILS = "wrong_details", _("Wrong number or address")
    EMAIL_SENT = "email_sent", _("Email sent")


class RequestActivity(models.Model):
    """What staff did on a request: contact attempts, notes, status changes. Never edited."""

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=12, choices=ActivityKind.choices)
    method = models.CharField(max_length=8, choices=ContactMethod.choices, blank=True)
    outcome = models.CharField(max_length=16, choices=ContactOutcome.choices, blank=True)
    text = models.TextField(max_length=3000, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "request activities"

    def __str__(self) -> str:
        return f"{self.kind} on {self.request_id}"
