"""Setting up an authenticator app (TOTP) at /accounts/2fa/."""

from __future__ import annotations

from base64 import b32decode

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import TWO_FACTOR_URL, code_for, sign_in_with_code, wrong_code_for


def pending_device(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


def test_the_enrolment_page_shows_a_qr_code_and_the_key(world, login):
    client = login(world.therapist)
    response = client.get(TWO_FACTOR_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page
    assert "Set up two-factor authentication" in page
    device = pending_device(world.therapist.user)
    key = response.context["secret"]
    assert b32decode(key.replace(" ", "")) == device.bin_key  # the key shown is the device's


def test_reloading_the_page_keeps_the_same_key(world, login):
    client = login(world.therapist)
    first = client.get(TWO_FACTOR_URL).context["secret"]
    second = client.get(TWO_FACTOR_URL).context["secret"]
    assert first == second
    assert TOTPDevice.objects.filter(user=world.therapist.user).count() == 1


def test_a_wrong_code_gives_an_error_and_leaves_two_factor_off(world, login):
    client = login(world.therapist)
    client.get(TWO_FACTOR_URL)
    device = pending_device(world.therapist.user)
    response = client.post(TWO_FACTOR_URL, {"code": wrong_code_for(device)})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=world.therapist.user, confirmed=True).exists()


def test_a_code_that_is_not_six_digits_gives_a_field_error(world, login):
    client = login(world.therapist)
    client.get(TWO_FACTOR_URL)
    for junk in ("12345", "abcdef", "1234567", "", "12 34 56"):
        response = client.post(TWO_FACTOR_URL, {"code": junk})
        assert response.status_code == 400, junk
        assert response.context["form"].errors["code"]
    assert not TOTPDevice.objects.filter(user=world.therapist.user, confirmed=True).exists()


def test_the_right_code_turns_two_factor_on(world, login):
    client = login(world.therapist)
    client.get(TWO_FACTOR_URL)
    device = pending_device(world.therapist.user)
    response = client.post(TWO_FACTOR_URL, {"code": code_for(device)}, follow=True)
    assert response.status_code == 200
    assert "Two-factor authentication is on." in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    # The page now says it is on, instead of offering a new key.
    page = client.get(TWO_FACTOR_URL)
    assert page.status_code == 200
    assert "secret" not in page.context


def test_the_code_may_be_typed_with_spaces_around_it(world, login):
    client = login(world.therapist)
    client.get(TWO_FACTOR_URL)
    device = pending_device(world.therapist.user)
    response = client.post(TWO_FACTOR_URL, {"code": f" {code_for(device)} "})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed


def test_replacing_the_app_keeps_the_old_one_until_the_new_one_is_confirmed(world, device_for, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a person retypes slower than a test does
    old = device_for(world.therapist.user)
    client = Client()
    sign_in_with_code(client, "theo@demo.test", old)
    response = client.get(TWO_FACTOR_URL + "?replace=1")
    assert response.status_code == 200
    new = pending_device(world.therapist.user)
    client.post(TWO_FACTOR_URL, {"code": wrong_code_for(new)})
    assert TOTPDevice.objects.filter(pk=old.pk, confirmed=True).exists()
    client.post(TWO_FACTOR_URL, {"code": code_for(new)})
    assert list(TOTPDevice.objects.filter(user=world.therapist.user, confirmed=True)) == [new]


def test_enrolment_needs_a_signed_in_person(world, client):
    response = client.get(TWO_FACTOR_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
