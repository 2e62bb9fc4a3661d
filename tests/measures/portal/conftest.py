"""Helpers for the portal questionnaire tests: Jordan signed in to the portal, and requests."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kapflow.measures import services
from kapflow.measures.models import MeasureRequest
from kapflow.patients.models import Patient


@pytest.fixture
def patient_client(portal_user) -> Client:
    """Jordan, signed in to the patient portal."""
    client = Client()
    client.force_login(portal_user)
    return client


@pytest.fixture
def assign(world) -> Callable[..., MeasureRequest]:
    """``assign("phq9")``: Theo (on Jordan's care team) asks for it once, due today."""

    def make(instrument_key: str, patient: Patient | None = None) -> MeasureRequest:
        patient = patient or world.patient
        member = world.therapist if patient.clinic_id == world.demo.pk else world.other_therapist
        assignment = services.assignment_create(
            member=member,
            patient=patient,
            instrument_key=instrument_key,
            schedule="once",
            starts_on=timezone.localdate(timezone=patient.clinic.tzinfo),
        )
        return assignment.requests.get()

    return make


def answer_url(request: MeasureRequest, item: str | None = None) -> str:
    url = reverse("portal_measures:answer", kwargs={"request_id": request.public_id})
    return f"{url}?item={item}" if item else url


def submit_url(request: MeasureRequest) -> str:
    return reverse("portal_measures:submit", kwargs={"request_id": request.public_id})


def done_url(request: MeasureRequest) -> str:
    return reverse("portal_measures:done", kwargs={"request_id": request.public_id})


def shown_item(page: str) -> str:
    """The id of the question a page asks (its hidden ``item`` field)."""
    found = re.search(r'<input type="hidden" name="item" value="([^"]+)">', page)
    assert found, page
    return found.group(1)


def progress(page: str) -> str:
    found = re.search(r'<p id="progress-text">([^<]+)</p>', page)
    assert found, page
    return found.group(1).strip()


def answer(client: Client, request: MeasureRequest, item: str, value: int | str):
    return client.post(answer_url(request), {"item": item, "answer": value})
