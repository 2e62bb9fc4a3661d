"""A patient signed in to the portal finds nothing under /c/<clinic>/, even their own clinic."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.conftest import invite_url

CLINIC_PAGES: list[tuple[str, dict[str, object]]] = [
    ("clinic_home", {}),
    ("patients:list", {}),
    ("patients:create", {}),
    ("staff:list", {}),
    ("clinics:settings", {}),
    ("core:audit_log", {}),
]


@pytest.fixture
def patient_client(portal_user) -> Client:
    client = Client()
    client.force_login(portal_user)
    return client


@pytest.mark.parametrize(("name", "kwargs"), CLINIC_PAGES)
@pytest.mark.parametrize("clinic", ["demo", "other"])
def test_clinic_pages_answer_404(world, patient_client, name, kwargs, clinic):
    assert patient_client.get(reverse(name, kwargs={"clinic": clinic, **kwargs})).status_code == 404


def test_their_own_chart_and_the_invite_route_answer_404(world, patient_client):
    chart = reverse("patients:chart", kwargs={"clinic": "demo", "patient_id": world.patient.public_id})
    assert patient_client.get(chart).status_code == 404
    assert patient_client.post(invite_url(world.patient), {"email": "x@example.org"}).status_code == 404


def test_the_app_home_and_the_clinic_chooser_send_them_to_the_portal(world, patient_client):
    assert patient_client.get(reverse("home"))["Location"] == reverse("portal:home")
    assert patient_client.get(reverse("accounts:choose_clinic"))["Location"] == reverse("portal:home")
