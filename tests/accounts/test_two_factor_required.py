"""With KAPFLOW_REQUIRE_2FA on, nobody works in a clinic before setting up an authenticator."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import TWO_FACTOR_URL, VERIFY_URL, code_for, sign_in

CLINIC_PAGES: list[tuple[str, dict[str, object]]] = [
    ("clinic_home", {}),
    ("patients:list", {}),
    ("patients:create", {}),
    ("staff:list", {}),
    ("staff:invite", {}),
    ("clinics:settings", {}),
    ("core:audit_log", {}),
]


@pytest.fixture
def require_2fa(settings):
    settings.KAPFLOW_REQUIRE_2FA = True


@pytest.mark.parametrize(("name", "kwargs"), CLINIC_PAGES)
def test_a_person_without_an_authenticator_is_sent_to_set_one_up(world, login, require_2fa, name, kwargs):
    client = login(world.admin)
    response = client.get(reverse(name, kwargs={"clinic": "demo", **kwargs}))
    assert response.status_code == 302
    assert response["Location"] == TWO_FACTOR_URL


def test_the_patient_chart_is_not_reachable_either(world, login, require_2fa):
    client = login(world.therapist)
    url = reverse("patients:chart", kwargs={"clinic": "demo", "patient_id": world.patient.public_id})
    assert client.get(url)["Location"] == TWO_FACTOR_URL


def test_the_enrolment_page_explains_why(world, login, require_2fa):
    client = login(world.therapist)
    response = client.get(reverse("clinic_home", kwargs={"clinic": "demo"}), follow=True)
    assert response.redirect_chain[-1][0] == TWO_FACTOR_URL
    page = response.content.decode()
    assert "This clinic requires two-factor authentication." in page
    assert "<svg" in page
    assert "Not now" not in page  # no way around it


def test_signing_out_still_works_without_an_authenticator(world, login, require_2fa):
    client = login(world.therapist)
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_after_enrolment_the_clinic_opens(world, login, require_2fa):
    client = login(world.therapist)
    client.get(TWO_FACTOR_URL)
    device = TOTPDevice.objects.get(user=world.therapist.user)
    client.post(TWO_FACTOR_URL, {"code": code_for(device)})
    assert client.get(reverse("clinic_home", kwargs={"clinic": "demo"})).status_code == 200


def test_a_person_who_signed_in_with_a_code_is_let_through(world, client, device_for, require_2fa):
    device = device_for(world.therapist.user)
    sign_in(client, "theo@demo.test")
    client.post(VERIFY_URL, {"code": code_for(device)})
    assert client.get(reverse("patients:list", kwargs={"clinic": "demo"})).status_code == 200


def test_without_the_requirement_no_one_is_redirected(world, login, settings):
    settings.KAPFLOW_REQUIRE_2FA = False
    client = login(world.admin)
    assert client.get(reverse("clinic_home", kwargs={"clinic": "demo"})).status_code == 200
