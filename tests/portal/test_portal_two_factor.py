"""Two-factor authentication is required of staff only; a patient who adds it is asked for it."""

from __future__ import annotations

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapflow.accounts.models import User
from tests.accounts.conftest import VERIFY_URL, code_for, sign_in
from tests.conftest import PASSWORD

HOME = reverse("portal:home")


def test_with_2fa_required_a_patient_is_not_forced_to_enrol(world, portal_user, client, settings):
    settings.KAPFLOW_REQUIRE_2FA = True
    response = sign_in(client, portal_user.email)
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == HOME
    assert client.get(HOME).status_code == 200


def test_staff_are_still_forced_to_enrol(world, login, settings):
    settings.KAPFLOW_REQUIRE_2FA = True
    response = login(world.frontdesk).get(reverse("clinic_home", kwargs={"clinic": "demo"}))
    assert response["Location"] == reverse("accounts:two_factor")


def test_a_user_with_neither_staff_place_nor_portal_account_is_still_forced(world, client, settings):
    settings.KAPFLOW_REQUIRE_2FA = True
    user = User.objects.create_user("nobody@example.org", PASSWORD, full_name="No Body")
    client.force_login(user)
    assert client.get(reverse("accounts:password_change"))["Location"] == reverse("accounts:two_factor")


def test_a_patient_can_set_up_two_factor_and_is_then_asked_for_the_code(world, portal_user, client):
    sign_in(client, portal_user.email)
    assert client.get(reverse("accounts:two_factor")).status_code == 200
    device = TOTPDevice.objects.get(user=portal_user)
    response = client.post(reverse("accounts:two_factor"), {"code": code_for(device)})
    assert response.status_code == 302
    client.logout()
    assert sign_in(client, portal_user.email)["Location"] == VERIFY_URL
    assert client.get(HOME).status_code == 302  # not signed in before the code
    # the next time step's code: the one used to enrol cannot be replayed
    assert client.post(VERIFY_URL, {"code": code_for(device, 1)}).status_code == 302
    assert client.get(HOME).status_code == 200


def test_the_portal_home_stops_suggesting_two_factor_once_it_is_on(world, portal_user, client):
    device = TOTPDevice.objects.create(user=portal_user, name="phone", confirmed=True)
    sign_in(client, portal_user.email)
    client.post(VERIFY_URL, {"code": code_for(device)})
    page = client.get(HOME).content.decode()
    assert "Hello, Jordan" in page
    assert "Optional: protect your account with two-factor authentication" not in page
