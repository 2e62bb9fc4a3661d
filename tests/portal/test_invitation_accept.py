"""The patient follows the link, chooses a password, and lands on their portal home, signed in."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from kapflow.accounts.models import User
from kapflow.core.models import AccessLogEntry
from kapflow.portal.models import PortalAccount, PortalInvitation
from tests.accounts.conftest import is_signed_in, sign_in
from tests.html import field_error
from tests.portal.conftest import NEW_PASSWORD, accept

HOME = reverse("portal:home")


def test_the_link_shows_the_clinic_the_address_and_a_password_form(world, invite, client):
    link = invite()
    response = client.get(link)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Demo KAP Clinic" in page
    assert "jordan@example.org" in page
    assert 'name="password1"' in page and 'name="password2"' in page
    assert "In crisis?" in page
    assert str(world.demo.crisis_line_text) in page
    assert "1986" not in page and world.patient.record_number not in page
    expires = timezone.localtime(PortalInvitation.objects.get().expires_at, world.demo.tzinfo)
    assert f"until {expires.day} {expires:%B %Y, %H:%M} (America/Denver time)" in page  # the clinic's time


def test_choosing_a_password_creates_the_account_and_signs_the_patient_in(world, invite, client):
    link = invite()
    response = accept(client, link)
    assert response.status_code == 302
    assert response["Location"] == HOME
    user = User.objects.get(email="jordan@example.org")
    assert user.full_name == world.patient.display_name
    assert user.check_password(NEW_PASSWORD)
    assert not user.memberships.exists()
    account = PortalAccount.objects.get(user=user)
    assert (account.patient, account.clinic, account.is_active) == (world.patient, world.demo, True)
    assert PortalInvitation.objects.get().used_at is not None
    assert is_signed_in(client)
    home = client.get(HOME)
    assert home.status_code == 200
    assert "Your account is ready. Welcome to Demo KAP Clinic." in home.content.decode()


def test_accepting_is_logged_against_the_patient(world, invite, client):
    accept(client, invite())
    entry = AccessLogEntry.objects.filter(
        category="portal", detail__startswith="portal invitation accepted"
    ).get()
    assert entry.patient_id == world.patient.pk
    assert entry.clinic_id == world.demo.pk
    assert entry.user_email == "jordan@example.org"


def test_the_patient_signs_in_later_at_the_same_sign_in_page(world, invite, client):
    accept(client, invite())
    client.logout()
    response = sign_in(client, "jordan@example.org", NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == HOME


def test_mismatched_or_weak_passwords_store_nothing_and_the_link_still_works(world, invite, client):
    link = invite()
    response = client.post(link, {"password1": NEW_PASSWORD, "password2": "something-else-42"})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "password2") == "The two passwords differ."
    response = accept(client, link, "12345")
    assert response.status_code == 400
    assert field_error(response.content.decode(), "password1")
    response = accept(client, link, "jordan@example.org")  # the same validators as staff
    assert response.status_code == 400
    assert "too similar" in field_error(response.content.decode(), "password1")
    assert not User.objects.filter(email="jordan@example.org").exists()
    assert not PortalAccount.objects.exists()
    assert not is_signed_in(client)
    assert client.get(link).status_code == 200


def test_an_address_taken_meanwhile_is_refused_and_stores_nothing(world, invite, client):
    from kapflow.core.roles import Role
    from tests.conftest import make_member

    link = invite(email="sam@example.org")
    make_member(world.demo, "sam@example.org", "Sam Staff", Role.NURSE)  # hired after the invitation
    response = accept(client, link)
    assert response.status_code == 400
    assert "staff account" in response.content.decode()
    assert not PortalAccount.objects.exists()
    assert PortalInvitation.objects.get().used_at is None


def test_a_switched_off_account_opens_again_through_a_new_invitation(world, invite, client):
    accept(client, invite())
    client.logout()
    PortalAccount.objects.update(is_active=False)
    link = invite(email="jordan.new@example.org")
    response = accept(client, link, "another-long-passphrase")
    assert response["Location"] == HOME
    account = PortalAccount.objects.get()
    assert account.is_active
    assert account.user.email == "jordan.new@example.org"
    assert account.user.check_password("another-long-passphrase")
    assert User.objects.filter(email="jordan@example.org").count() == 0


def test_opening_the_link_is_logged_against_the_patient(world, invite, client):
    client.get(invite())
    entry = AccessLogEntry.objects.filter(detail="portal invitation link opened").get()
    assert (entry.clinic_id, entry.patient_id, entry.user_id) == (world.demo.pk, world.patient.pk, None)


def test_an_empty_post_is_a_form_error_not_a_blank_page(world, invite, client):
    response = client.post(invite(), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not PortalAccount.objects.exists()
