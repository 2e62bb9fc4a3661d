"""Helpers shared by the accounts tests: signing in through the real form, and TOTP codes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapflow.accounts.models import User
from tests.conftest import PASSWORD

LOGIN_URL = reverse("accounts:login")
VERIFY_URL = reverse("accounts:login_verify")
TWO_FACTOR_URL = reverse("accounts:two_factor")


def sign_in(client: Client, email: str, password: str = PASSWORD, *, follow: bool = False, **extra: str):
    """Post the sign-in form as a person would (``extra`` are more form fields, e.g. next)."""
    return client.post(LOGIN_URL, {"email": email, "password": password, **extra}, follow=follow)


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    """The 6-digit code the person's authenticator app shows now (``offset`` steps away)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift=offset):06d}"


def wrong_code_for(device: TOTPDevice) -> str:
    """A well-formed code that no tolerated time step accepts."""
    valid = {code_for(device, offset) for offset in range(-3, 4)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)


def sign_in_with_code(client: Client, email: str, device: TOTPDevice) -> None:
    """Both steps of signing in: password, then the authenticator's code."""
    assert sign_in(client, email)["Location"] == VERIFY_URL
    assert client.post(VERIFY_URL, {"code": code_for(device)}).status_code == 302


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def device_for():
    """``device_for(user)`` gives the user a confirmed authenticator app."""

    def make(user: User) -> TOTPDevice:
        return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    return make
