"""Acceptance: the invitation goes out through a real SMTP server on localhost, and its link works.

aiosmtpd listens on 127.0.0.1; Django's SMTP backend (the one production uses) talks to it.
The received message is parsed with the standard library, its link followed with the test
client, and the patient's password set.
"""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse

from kapflow.portal.models import PortalAccount
from tests.portal.conftest import NEW_PASSWORD, accept, invite_url


class Mailbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def test_the_invitation_arrives_by_smtp_and_its_link_sets_the_password(
    world, login, smtp_server, django_capture_on_commit_callbacks
):
    desk = login(world.frontdesk)
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(invite_url(world.patient), {"email": "jordan@example.org"})
    assert response.status_code == 302

    assert len(smtp_server.received) == 1
    mail_from, recipients, raw = smtp_server.received[0]
    assert recipients == ["jordan@example.org"]
    assert "no-reply@kapflow.invalid" in mail_from
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "jordan@example.org"
    assert "Demo KAP Clinic" in str(message["Subject"])
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    body = part.get_content()
    assert world.patient.record_number not in body and "1986" not in body
    found = re.search(r"http://testserver(/portal/join/[A-Za-z0-9_-]+/)", body)
    assert found, body

    patient = Client()
    link = found.group(1)
    assert patient.get(link).status_code == 200
    response = accept(patient, link)
    assert response["Location"] == reverse("portal:home")
    account = PortalAccount.objects.get(patient=world.patient)
    assert account.user.email == "jordan@example.org"
    assert account.user.check_password(NEW_PASSWORD)
    assert "Hello, Jordan" in patient.get(reverse("portal:home")).content.decode()
