"""Email reminders before appointments, sent by the background worker (`kapflow worker`).

Booking or moving an appointment enqueues one task per reminder time the clinic has set
(``Clinic.reminder_hours``), to run that many hours before the start. When it runs, the task
sends only if the appointment is still booked at the same time, and records the reminder so a
retried task never sends twice. The email carries the date, time, place and the preparation
instructions, and the patient's first name only; no clinical details.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from kapflow.clinics.models import reminder_hour_list
from kapflow.scheduling.models import Appointment, Kind, ReminderSent, Status

logger = logging.getLogger(__name__)


def schedule_reminders(appointment: Appointment) -> int:
    """Enqueue the reminders still ahead of now; returns how many were enqueued."""
    try:
        hours_list = reminder_hour_list(appointment.clinic.reminder_hours)
    except ValueError:
        return 0
    now, count = timezone.now(), 0
    for hours in hours_list:
        run_after = appointment.starts_at - timedelta(hours=hours)
        if run_after <= now - timedelta(minutes=5):
            continue  # booked later than this reminder would have gone out
        send_reminder.using(run_after=max(run_after, now)).enqueue(
            str(appointment.public_id), hours, appointment.starts_at.isoformat()
        )
        count += 1
    return count


@task()
def send_reminder(appointment_id: str, hours_before: int, for_starts_at: str) -> str:
    """Send one reminder if the appointment still stands at that time; say what happened."""
    appointment = (
        Appointment.objects.select_related("clinic", "patient", "room", "room__location")
        .filter(public_id=uuid.UUID(appointment_id), voided_at__isnull=True)
        .first()
    )
    starts_at = datetime.fromisoformat(for_starts_at)
    if appointment is None or appointment.status != Status.BOOKED or appointment.starts_at != starts_at:
        return "skipped: the appointment was moved or cancelled"
    if not appointment.patient.email:
        return "skipped: no email address"
    try:
        with transaction.atomic():
            ReminderSent.objects.create(
                appointment=appointment, hours_before=hours_before, for_starts_at=starts_at
            )
            _send(appointment)
    except IntegrityError:
        return "skipped: already sent"
    return "sent"


def _send(appointment: Appointment) -> None:
    from kapflow.scheduling.services import types_for

    clinic = appointment.clinic
    with timezone.override(clinic.time_zone), translation.override(settings.LANGUAGE_CODE):
        local = timezone.localtime(appointment.starts_at)
        kind = types_for(clinic)[appointment.kind]
        body = render_to_string(
            "scheduling/email/reminder.txt",
            {
                "appointment": appointment,
                "clinic": clinic,
                "local": local,
                "first_name": appointment.patient.preferred_name or appointment.patient.legal_given_name,
                "instructions": kind.instructions,
                "is_dosing": appointment.kind == Kind.DOSING,
            },
        )
        subject = _("Reminder: your appointment at %(clinic)s on %(when)s") % {
            "clinic": clinic.name,
            "when": local.strftime("%a %d %b %H:%M"),
        }
    # Sent inside the transaction that records it: if the mail server refuses, the record is
    # rolled back with it and the task fails visibly (nothing claims a reminder went out).
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [appointment.patient.email])
