"""Helpers shared by the portal tests: inviting a patient from the chart, following the link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kapflow.patients.models import Patient

NEW_PASSWORD = "a-long-portal-passphrase"
LINK = re.compile(r"http://testserver(/portal/join/[^/\s]+/)")


def invite_url(patient: Patient, clinic: str = "demo") -> str:
    return reverse("portal_staff:invite", kwargs={"clinic": clinic, "patient_id": patient.public_id})


def chart_url(patient: Patient, clinic: str = "demo") -> str:
    return reverse("patients:chart", kwargs={"clinic": clinic, "patient_id": patient.public_id})


def link_in(body: str) -> str:
    """The path of the join link in an invitation email."""
    match = LINK.search(body)
    assert match, body
    return match.group(1)


def accept(client: Client, link: str, password: str = NEW_PASSWORD):
    return client.post(link, {"password1": password, "password2": password})


@pytest.fixture
def invite(world, django_capture_on_commit_callbacks):
    """``invite(patient=None, email=...)`` sends an invitation as Frankie (front desk) from the
    chart and returns the link's path from the email."""

    def send(patient: Patient | None = None, email: str = "jordan@example.org") -> str:
        patient = patient or world.patient
        client = Client()
        client.force_login(world.frontdesk.user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(invite_url(patient), {"email": email})
        assert response.status_code == 302, response.content.decode()
        return link_in(str(mail.outbox[-1].body))

    return send
