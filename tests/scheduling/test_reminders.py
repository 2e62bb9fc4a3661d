"""Acceptance: a reminder test runs the worker and checks the email that leaves through SMTP.

Booking enqueues one reminder task per offset of the clinic (48 and 2 hours before, by
default) once the booking commits. The test makes a task due by moving its ``run_after`` into
the past, runs the real database worker (``kapflow worker --batch``, i.e. django-tasks'
``db_worker``), and reads what a real SMTP server (aiosmtpd on 127.0.0.1) received.

These tests are transactional: the worker closes stale connections between tasks (which would
end a test's surrounding transaction) and the reminder is handed to SMTP only on commit.
"""

from __future__ import annotations

import email
import signal
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kapflow import cli
from kapflow.patients.services import clinical_background_save
from kapflow.scheduling.models import Appointment, Kind, ReminderSent
from kapflow.scheduling.reminders import schedule_reminders
from kapflow.scheduling.services import (
    Request,
    appointment_book,
    appointment_cancel,
    appointment_move,
    types_for,
)
from tests.portal.test_invitation_over_smtp import Mailbox, free_port

pytestmark = pytest.mark.django_db(transaction=True)

DENVER = ZoneInfo("America/Denver")  # the Demo clinic's zone
INSTRUCTIONS = "Bring your journal and a bottle of water."
DIAGNOSIS = "Treatment-resistant major depressive disorder"


@pytest.fixture
def smtp_server(settings) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def keep_signal_handlers() -> Iterator[None]:
    """The worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def weekday_at(hour: int, *, days_ahead: int = 4) -> datetime:
    """A weekday at least ``days_ahead`` days from now, ``hour`` o'clock on the clinic's clock
    (inside the example opening hours, Monday to Friday 08:00-18:00)."""
    day = timezone.now().astimezone(DENVER).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour, 0), tzinfo=DENVER)


def book(world, starts_at: datetime) -> Appointment:
    return appointment_book(
        member=world.frontdesk,
        request=Request(
            patient=world.patient,
            kind=Kind.PREPARATION,
            starts_at=starts_at,
            room_id=world.room.pk,
            staff_ids=(world.therapist.user_id,),
        ),
    )


def reminder_tasks(appointment: Appointment, hours: int | None = None) -> list[DBTaskResult]:
    tasks = [
        row
        for row in DBTaskResult.objects.filter(task_path__endswith="send_reminder").order_by("enqueued_at")
        if row.args_kwargs["args"][0] == str(appointment.public_id)
    ]
    return [t for t in tasks if hours is None or t.args_kwargs["args"][1] == hours]


def make_due(tasks: list[DBTaskResult]) -> None:
    DBTaskResult.objects.filter(pk__in=[t.pk for t in tasks]).update(
        run_after=timezone.now() - timedelta(minutes=1)
    )


def run_worker(*extra: str) -> None:
    """``kapflow worker --batch``: run every due task, then exit."""
    with mock.patch.object(cli, "_setup"):
        cli.main(["worker", "--batch", "--no-startup-delay", "--verbosity", "0", *extra])


def received(mailbox: Mailbox) -> list[tuple[list[str], EmailMessage]]:
    messages = []
    for _sender, recipients, raw in mailbox.received:
        message = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        messages.append((recipients, message))
    return messages


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: Any = part.get_content()
    return str(content)


@pytest.fixture
def ready(world) -> Any:
    """Preparation instructions set, and a diagnosis on Jordan's chart that must never be mailed."""
    kind = types_for(world.demo)[Kind.PREPARATION]
    kind.instructions = INSTRUCTIONS
    kind.save()
    clinical_background_save(
        member=world.therapist,
        patient=world.patient,
        data={"diagnoses": DIAGNOSIS, "presenting_concerns": "Low mood for years"},
        base_version=None,
    )
    return world


def test_the_worker_sends_the_due_reminder_through_smtp_once(ready, smtp_server):
    world = ready
    starts_at = weekday_at(10)
    appointment = book(world, starts_at)
    tasks = reminder_tasks(appointment)
    assert sorted(t.args_kwargs["args"][1] for t in tasks) == [2, 48]  # enqueued when the booking committed
    assert all(t.run_after == starts_at - timedelta(hours=t.args_kwargs["args"][1]) for t in tasks)

    run_worker()
    assert smtp_server.received == []  # nothing due yet

    make_due(reminder_tasks(appointment, 48))
    run_worker()

    [(recipients, message)] = received(smtp_server)
    assert recipients == ["jordan@example.org"]
    assert message["To"] == "jordan@example.org"
    local = starts_at.astimezone(DENVER)
    assert str(message["Subject"]) == (
        f"Reminder: your appointment at Demo KAP Clinic on {local:%a %d %b} 10:00"
    )
    body = body_of(message)
    assert "Hello Jordan," in body
    assert f"{local:%A} {local.day} {local:%B} {local.year}, 10:00" in body  # the clinic's clock
    assert "Dosing room 1, Main" in body
    assert INSTRUCTIONS in body
    for private in (DIAGNOSIS, "depressive", "Low mood", "Rivera", "1986", "R-1", "Theo"):
        assert private not in body and private not in str(message["Subject"]), private
    assert ReminderSent.objects.filter(appointment=appointment, hours_before=48).count() == 1
    [done] = reminder_tasks(appointment, 48)
    assert (done.status, done.return_value) == ("SUCCESSFUL", "sent")

    # A second run has nothing to do; a retried copy of the same reminder is refused by ReminderSent.
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    schedule_reminders(appointment)  # enqueues both offsets again, as a retry would
    make_due(reminder_tasks(appointment, 48))
    run_worker()
    assert len(smtp_server.received) == 1
    assert [t.return_value for t in reminder_tasks(appointment, 48)] == ["sent", "skipped: already sent"]
    assert ReminderSent.objects.filter(appointment=appointment).count() == 1


def test_a_cancelled_appointments_reminder_is_skipped(ready, smtp_server):
    world = ready
    appointment = book(world, weekday_at(11))
    appointment_cancel(member=world.frontdesk, appointment=appointment, reason="Patient phoned")
    make_due(reminder_tasks(appointment))
    run_worker()
    assert smtp_server.received == []
    assert {t.return_value for t in reminder_tasks(appointment)} == {
        "skipped: the appointment was moved or cancelled"
    }
    assert not ReminderSent.objects.exists()


def test_a_moved_appointment_is_reminded_at_its_new_time_only(ready, smtp_server):
    world = ready
    old_start = weekday_at(9)
    appointment = book(world, old_start)
    old_tasks = reminder_tasks(appointment)
    new_start = weekday_at(14, days_ahead=7)
    appointment_move(
        member=world.frontdesk,
        appointment=appointment,
        request=Request(
            patient=world.patient,
            kind=Kind.PREPARATION,
            starts_at=new_start,
            room_id=world.room.pk,
            staff_ids=(world.therapist.user_id,),
        ),
    )
    new_tasks = [t for t in reminder_tasks(appointment) if t.pk not in {o.pk for o in old_tasks}]
    assert sorted(t.args_kwargs["args"][2] for t in new_tasks) == [new_start.isoformat()] * 2

    make_due(old_tasks)
    run_worker()
    assert smtp_server.received == []
    assert {DBTaskResult.objects.get(pk=t.pk).return_value for t in old_tasks} == {
        "skipped: the appointment was moved or cancelled"
    }

    make_due([t for t in new_tasks if t.args_kwargs["args"][1] == 48])
    run_worker()
    [(recipients, message)] = received(smtp_server)
    assert recipients == ["jordan@example.org"]
    assert f"{new_start.astimezone(DENVER):%a %d %b} 14:00" in str(message["Subject"])
