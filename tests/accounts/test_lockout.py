"""django-axes locks an account (not an address) after repeated failed sign-ins."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.accounts.conftest import is_signed_in, sign_in

LOCKED = "Too many failed attempts"


def fail(client, email: str, times: int) -> list[int]:
    return [sign_in(client, email, "wrong-password").status_code for _ in range(times)]


def test_four_wrong_passwords_still_let_the_right_one_in(world, client):
    assert fail(client, "theo@demo.test", 4) == [400, 400, 400, 400]
    response = sign_in(client, "theo@demo.test")
    assert response.status_code == 302
    assert is_signed_in(client)


def test_five_wrong_passwords_lock_the_account(world, client):
    statuses = fail(client, "theo@demo.test", 5)
    assert statuses[:4] == [400, 400, 400, 400]
    assert statuses[4] == 429
    response = sign_in(client, "theo@demo.test")  # the 6th attempt, with the right password
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not is_signed_in(client)


def test_the_lock_holds_the_account_from_any_browser(world, client):
    fail(client, "theo@demo.test", 5)
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    response = sign_in(elsewhere, "theo@demo.test")
    assert response.status_code == 429
    assert not is_signed_in(elsewhere)


def test_the_lock_counts_the_email_whatever_its_case(world, client):
    fail(client, "theo@demo.test", 3)
    fail(client, "THEO@demo.test", 2)
    assert sign_in(client, "theo@demo.test").status_code == 429


def test_another_person_is_not_affected_by_a_locked_colleague(world, client):
    fail(client, "theo@demo.test", 5)
    response = sign_in(client, "priya@demo.test")  # same browser, same address
    assert response.status_code == 302
    assert is_signed_in(client)


def test_a_successful_sign_in_resets_the_count(world, client):
    fail(client, "theo@demo.test", 4)
    sign_in(client, "theo@demo.test")
    client.post("/accounts/logout/")
    assert fail(client, "theo@demo.test", 4) == [400, 400, 400, 400]
    assert sign_in(client, "theo@demo.test").status_code == 302


def test_the_lock_opens_again_after_the_cool_off(world, client):
    fail(client, "theo@demo.test", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = sign_in(client, "theo@demo.test")
    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_locked_out_page_offers_a_password_reset(world, client):
    fail(client, "theo@demo.test", 5)
    page = sign_in(client, "theo@demo.test").content.decode()
    assert "/accounts/password-reset/" in page
