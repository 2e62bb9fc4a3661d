"""Signing in with email and password, and signing out."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse

from kapflow.accounts.models import Membership, UserSession
from kapflow.core.models import AccessLogEntry, AuditAction
from kapflow.core.roles import Role
from tests.accounts.conftest import LOGIN_URL, is_signed_in, sign_in

CLINIC_HOME = reverse("clinic_home", kwargs={"clinic": "demo"})


def test_the_sign_in_page_shows_the_form(world, client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="email"' in page
    assert 'name="password"' in page


def test_right_password_signs_in_and_lands_on_the_clinic_home(world, client):
    response = sign_in(client, "theo@demo.test", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == CLINIC_HOME
    assert is_signed_in(client)
    assert "Theo Therapist" in response.content.decode()


def test_email_is_matched_without_regard_to_case_or_spaces(world, client):
    response = sign_in(client, "  Theo@Demo.TEST ")
    assert response.status_code == 302
    assert is_signed_in(client)


def test_wrong_password_is_refused_with_a_clear_message(world, client):
    response = sign_in(client, "theo@demo.test", "not-the-password")
    assert response.status_code == 400
    assert "That email and password do not match an active account." in response.content.decode()
    assert not is_signed_in(client)
    assert client.get(CLINIC_HOME).status_code == 302


def test_unknown_email_gets_the_same_message_as_a_wrong_password(world, client):
    response = sign_in(client, "nobody@demo.test")
    assert response.status_code == 400
    assert "That email and password do not match an active account." in response.content.decode()


def test_malformed_email_gives_a_field_error(world, client):
    response = sign_in(client, "not-an-email")
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    assert not is_signed_in(client)


def test_empty_form_and_garbage_give_400_not_500(world, client):
    assert client.post(LOGIN_URL, {}).status_code == 400
    assert client.post(LOGIN_URL, {"email": "a@b.c" * 500, "password": "x" * 5000}).status_code == 400
    assert client.post(LOGIN_URL, {"email": "\x00@demo.test", "password": "\x00"}).status_code == 400


def test_a_deactivated_person_cannot_sign_in(world, client):
    world.nurse.user.is_active = False
    world.nurse.user.save()
    response = sign_in(client, "nico@demo.test")
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_the_session_id_changes_at_sign_in(world, client):
    before = client.session.session_key  # a session that exists before signing in (fixation)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == before
    sign_in(client, "theo@demo.test")
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert UserSession.objects.filter(user=world.therapist.user, session_key=after).exists()


def test_next_inside_the_site_is_followed(world, client):
    target = reverse("staff:list", kwargs={"clinic": "demo"})
    response = sign_in(client, "alex@demo.test", next=target)
    assert response.status_code == 302
    assert response["Location"] == target


def test_next_pointing_to_another_site_is_ignored(world, client):
    response = sign_in(client, "alex@demo.test", next="https://evil.example/steal")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_signed_in_person_visiting_the_sign_in_page_goes_home(world, client):
    sign_in(client, "theo@demo.test")
    response = client.get(LOGIN_URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_sign_in_and_out_are_written_to_the_access_log(world, client):
    sign_in(client, "theo@demo.test")
    response = client.post(reverse("accounts:logout"), follow=True)
    assert "You have signed out." in response.content.decode()
    assert not is_signed_in(client)
    actions = list(AccessLogEntry.objects.filter(user=world.therapist.user).values_list("action", flat=True))
    assert AuditAction.LOGIN in actions
    assert AuditAction.LOGOUT in actions


def test_signing_out_needs_a_post(world, client):
    sign_in(client, "theo@demo.test")
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert is_signed_in(client)


def test_a_person_in_two_clinics_chooses_one(world, client):
    Membership.objects.create(user=world.therapist.user, clinic=world.other, role=Role.THERAPIST)
    response = sign_in(client, "theo@demo.test", follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("accounts:choose_clinic")
    assert "Demo KAP Clinic" in page
    assert "Other KAP Clinic" in page
