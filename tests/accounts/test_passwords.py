"""Passwords are stored with Argon2 and can be changed by their owner."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from kapflow.accounts.models import User
from tests.accounts.conftest import sign_in
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-password-77"


@pytest.fixture
def argon2(settings):
    """Put back the production hashers that conftest swaps for speed (MD5 last, so the
    personas' fast test hashes still verify)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


def test_the_production_settings_hash_with_argon2():
    from kapflow import settings as production_settings

    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_a_new_password_is_stored_as_an_argon2_hash(db, argon2):
    user = User.objects.create_user("sam@new.test", NEW_PASSWORD, full_name="Sam")
    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert NEW_PASSWORD not in user.password
    assert user.check_password(NEW_PASSWORD)


def test_an_older_hash_is_upgraded_to_argon2_at_the_next_sign_in(world, client, argon2):
    user = world.therapist.user
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    assert sign_in(client, "theo@demo.test").status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2")


def test_changing_the_password_needs_the_old_one(world, client, argon2):
    sign_in(client, "theo@demo.test")
    url = reverse("accounts:password_change")
    response = client.post(
        url, {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    response = client.post(
        url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("accounts:password_change_done")
    user = User.objects.get(email="theo@demo.test")
    assert user.password.startswith("argon2")
    assert user.check_password(NEW_PASSWORD)
    # Still signed in on this device after the change.
    assert client.get(reverse("clinic_home", kwargs={"clinic": "demo"})).status_code == 200


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "too short"),
        ("1234567890123", "entirely numeric"),
        ("password1234", "too common"),
        ("theo@demo.test", "too similar"),
    ],
)
def test_weak_new_passwords_are_refused(world, client, password, reason):
    sign_in(client, "theo@demo.test")
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert reason in " ".join(response.context["form"].errors["new_password2"])
    assert User.objects.get(email="theo@demo.test").check_password(PASSWORD)
