"""The clinic admin invites staff by email; the link works once and expires."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from kapflow.accounts.models import Invitation, Membership, User
from tests.accounts.conftest import is_signed_in, sign_in

INVITE_URL = reverse("staff:invite", kwargs={"clinic": "demo"})
NEW_PASSWORD = "a-long-new-password-42"


@pytest.fixture
def invite(world, login, django_capture_on_commit_callbacks):
    """``invite(email, role)`` sends an invitation as Alex and returns the link from the email."""

    def send(email: str = "sam@new.test", role: str = "therapist", full_name: str = "Sam New") -> str:
        admin = login(world.admin)
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(INVITE_URL, {"email": email, "full_name": full_name, "role": role})
        assert response.status_code == 302, response.content.decode()
        admin.logout()
        match = re.search(r"http://testserver(/accounts/invitation/[^/\s]+/)", str(mail.outbox[-1].body))
        assert match, mail.outbox[-1].body
        return match.group(1)

    return send


def accept_as_new(client, link: str, name: str = "Sam New"):
    return client.post(link, {"full_name": name, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def test_an_invitation_emails_a_link_to_the_person(world, invite):
    link = invite("Sam@New.test", "nurse")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@new.test"]
    assert "Demo KAP Clinic" in message.subject
    assert "Nurse" in message.body
    assert link.startswith("/accounts/invitation/")


def test_the_invitation_token_is_stored_only_as_a_hash(world, invite):
    link = invite()
    token = link.rstrip("/").rsplit("/", 1)[-1]
    invitation = Invitation.objects.get(email="sam@new.test")
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = Invitation.objects.filter(pk=invitation.pk).values().first()
    assert row is not None
    stored = " ".join(str(v) for v in row.values())
    assert token not in stored


def test_the_staff_list_shows_the_waiting_invitation(world, invite, login):
    invite()
    page = login(world.admin).get(reverse("staff:list", kwargs={"clinic": "demo"})).content.decode()
    assert "Invitations waiting" in page
    assert "sam@new.test" in page


def test_a_new_person_accepts_and_is_signed_in_to_the_clinic(world, invite, client):
    link = invite(role="prescriber")
    page = client.get(link)
    assert page.status_code == 200
    assert "Join Demo KAP Clinic" in page.content.decode()
    response = accept_as_new(client, link, "Sam Newcomer")
    assert response.status_code == 302
    assert response["Location"] == reverse("clinic_home", kwargs={"clinic": "demo"})
    user = User.objects.get(email="sam@new.test")
    assert user.full_name == "Sam Newcomer"
    assert Membership.objects.get(user=user, clinic=world.demo).role == "prescriber"
    assert is_signed_in(client)
    assert client.get(response["Location"]).status_code == 200
    client.logout()
    assert sign_in(client, "sam@new.test", NEW_PASSWORD).status_code == 302


def test_reusing_the_link_gives_410(world, invite, client):
    link = invite()
    accept_as_new(client, link)
    client.logout()
    assert client.get(link).status_code == 410
    response = accept_as_new(client, link, "Someone Else")
    assert response.status_code == 410
    assert "This invitation link no longer works" in response.content.decode()
    assert User.objects.get(email="sam@new.test").full_name == "Sam New"


def test_an_expired_invitation_gives_410(world, invite, client):
    link = invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(link).status_code == 410
    assert accept_as_new(client, link).status_code == 410
    assert not User.objects.filter(email="sam@new.test").exists()


def test_a_withdrawn_invitation_gives_410(world, invite, login, client):
    link = invite()
    invitation = Invitation.objects.get()
    login(world.admin).post(
        reverse("staff:invitation_revoke", kwargs={"clinic": "demo", "invitation_id": invitation.pk})
    )
    assert client.get(link).status_code == 410


def test_a_second_invitation_replaces_the_first(world, invite, client):
    first = invite()
    second = invite()
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_a_made_up_link_gives_410_not_500(world, client):
    for token in ("x", "A" * 300, "%00", "%E2%80%AE", "..%5C..%5Cetc"):
        assert client.get(f"/accounts/invitation/{token}/").status_code == 410, token


def test_mismatched_or_weak_passwords_are_refused(world, invite, client):
    link = invite()
    response = client.post(link, {"full_name": "Sam", "password1": NEW_PASSWORD, "password2": "other-pw-42"})
    assert response.status_code == 400
    assert "The two passwords differ." in response.content.decode()
    response = client.post(link, {"full_name": "Sam", "password1": "12345", "password2": "12345"})
    assert response.status_code == 400
    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(email="sam@new.test").exists()
    assert client.get(link).status_code == 200  # still usable


def test_an_existing_user_of_another_clinic_accepts_by_signing_in_first(world, invite, client):
    link = invite("oscar@other.test", "front_desk")
    page = client.get(link).content.decode()
    assert "Sign in with it, then open this link again." in page
    # Posting without signing in joins nothing.
    response = client.post(link, follow=True)
    assert "Sign in as oscar@other.test to accept." in response.content.decode()
    assert not Membership.objects.filter(user=world.other_admin.user, clinic=world.demo).exists()
    # Sign in, come back to the link, accept.
    assert sign_in(client, "oscar@other.test", next=link)["Location"] == link
    response = client.post(link)
    assert response["Location"] == reverse("clinic_home", kwargs={"clinic": "demo"})
    assert Membership.objects.get(user=world.other_admin.user, clinic=world.demo).role == "front_desk"
    assert world.other_admin.user.active_memberships().count() == 2


def test_someone_else_signed_in_cannot_accept_for_the_invited_person(world, invite, login):
    link = invite("oscar@other.test", "front_desk")
    client = login(world.other_therapist)
    client.post(link)
    assert not Membership.objects.filter(user=world.other_admin.user, clinic=world.demo).exists()
    assert client.get(link).status_code == 200  # still usable by Oscar


def test_inviting_someone_already_on_staff_is_a_field_error(world, login):
    response = login(world.admin).post(
        INVITE_URL, {"email": "THEO@demo.test", "full_name": "Theo", "role": "nurse"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["theo@demo.test is already on this clinic's staff."]
    assert mail.outbox == []


def test_a_bad_invitation_form_is_400_not_500(world, login):
    client = login(world.admin)
    response = client.post(INVITE_URL, {"email": "nope", "full_name": "", "role": "superuser"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "full_name", "role"}
    assert not Invitation.objects.exists()


def test_a_deactivated_person_rejoins_through_a_new_invitation_with_a_new_password(world, client):
    from kapflow.accounts.services import invitation_create, membership_deactivate

    nico = world.nurse
    membership_deactivate(actor=world.admin.user, membership=nico)
    nico.user.refresh_from_db()
    assert not nico.user.is_active
    _invitation, token = invitation_create(
        actor=world.admin.user,
        clinic=world.demo,
        email=nico.user.email,
        full_name="Nico Nurse",
        role="nurse",
        accept_url="http://testserver/accounts/invitation/{token}/",
    )
    url = f"/accounts/invitation/{token}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "password1" in page.content.decode()
    response = client.post(
        url,
        {
            "full_name": "Nico Nurse",
            "password1": "a-new-long-passphrase",
            "password2": "a-new-long-passphrase",
        },
    )
    assert response.status_code == 302
    nico.user.refresh_from_db()
    nico.refresh_from_db()
    assert nico.user.is_active and nico.is_active
    assert nico.user.check_password("a-new-long-passphrase")
    assert client.get("/c/demo/").status_code == 200
