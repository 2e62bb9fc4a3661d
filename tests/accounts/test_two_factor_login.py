"""Signing in with a confirmed authenticator: password, then the 6-digit code."""

from __future__ import annotations

from django.urls import reverse

from tests.accounts.conftest import VERIFY_URL, code_for, is_signed_in, sign_in, wrong_code_for

CLINIC_HOME = reverse("clinic_home", kwargs={"clinic": "demo"})


def test_the_right_password_leads_to_the_code_page_not_into_the_clinic(world, client, device_for):
    device_for(world.therapist.user)
    response = sign_in(client, "theo@demo.test")
    assert response.status_code == 302
    assert response["Location"] == VERIFY_URL
    assert not is_signed_in(client)
    assert client.get(CLINIC_HOME).status_code == 302
    page = client.get(VERIFY_URL)
    assert page.status_code == 200
    assert 'name="code"' in page.content.decode()


def test_the_right_code_signs_in(world, client, device_for):
    device = device_for(world.therapist.user)
    sign_in(client, "theo@demo.test")
    response = client.post(VERIFY_URL, {"code": code_for(device)}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == CLINIC_HOME
    assert is_signed_in(client)
    assert client.get(CLINIC_HOME).status_code == 200


def test_the_code_step_keeps_the_next_page(world, client, device_for):
    device = device_for(world.admin.user)
    target = reverse("staff:list", kwargs={"clinic": "demo"})
    sign_in(client, "alex@demo.test", next=target)
    response = client.post(VERIFY_URL, {"code": code_for(device)})
    assert response["Location"] == target


def test_a_wrong_code_is_refused_with_a_message(world, client, device_for):
    device = device_for(world.therapist.user)
    sign_in(client, "theo@demo.test")
    response = client.post(VERIFY_URL, {"code": wrong_code_for(device)})
    assert response.status_code == 400
    assert "That code is not right, or it has expired." in response.content.decode()
    assert not is_signed_in(client)


def test_after_a_typo_the_right_code_still_works(world, client, device_for, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a person retypes slower than a test does
    device = device_for(world.therapist.user)
    sign_in(client, "theo@demo.test")
    client.post(VERIFY_URL, {"code": wrong_code_for(device)})
    response = client.post(VERIFY_URL, {"code": code_for(device)})
    assert response.status_code == 302
    assert is_signed_in(client)


def test_letters_instead_of_a_code_give_a_field_error_not_500(world, client, device_for):
    device_for(world.therapist.user)
    sign_in(client, "theo@demo.test")
    for junk in ("abcdef", "", "1" * 200, "12345\x00"):
        response = client.post(VERIFY_URL, {"code": junk})
        assert response.status_code == 400, junk
        assert response.context["form"].errors["code"]


def test_a_code_cannot_be_used_twice(world, client, device_for):
    device = device_for(world.therapist.user)
    code = code_for(device)
    sign_in(client, "theo@demo.test")
    client.post(VERIFY_URL, {"code": code})
    client.post(reverse("accounts:logout"))
    sign_in(client, "theo@demo.test")
    assert client.post(VERIFY_URL, {"code": code}).status_code == 400
    assert not is_signed_in(client)


def test_five_wrong_codes_end_the_pending_sign_in(world, client, device_for):
    device = device_for(world.therapist.user)
    sign_in(client, "theo@demo.test")
    statuses = [client.post(VERIFY_URL, {"code": wrong_code_for(device)}).status_code for _ in range(5)]
    assert statuses[:4] == [400, 400, 400, 400]
    assert statuses[4] == 429
    assert not is_signed_in(client)
    # The pending sign-in is gone: the code page sends the person back to the password.
    response = client.get(VERIFY_URL, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "Please sign in first." in response.content.decode()


def test_wrong_codes_count_towards_the_account_lockout(world, client, device_for):
    device = device_for(world.therapist.user)
    sign_in(client, "theo@demo.test")
    for _ in range(5):
        client.post(VERIFY_URL, {"code": wrong_code_for(device)})
    assert sign_in(client, "theo@demo.test").status_code == 429


def test_the_code_page_without_a_password_first_sends_to_sign_in(world, client):
    response = client.get(VERIFY_URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_a_session_with_a_device_but_no_code_is_signed_out(world, login, device_for):
    """Someone signed in without the second step (e.g. a device added meanwhile) must give a code."""
    device_for(world.therapist.user)
    client = login(world.therapist)
    response = client.get(CLINIC_HOME, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert "Please sign in again with your authentication code." in response.content.decode()
    assert not is_signed_in(client)


def test_the_session_id_changes_again_when_the_code_is_accepted(world, client, device_for):
    device = device_for(world.therapist.user)
    sign_in(client, "theo@demo.test")
    pending = client.session.session_key
    client.post(VERIFY_URL, {"code": code_for(device)})
    assert client.session.session_key != pending
