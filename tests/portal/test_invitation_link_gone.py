"""A used, replaced, expired or made-up link answers 410 with a clear page, and stores nothing."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kapflow.accounts.models import User
from kapflow.portal.models import PortalAccount, PortalInvitation
from kapflow.portal.services import InvitationUnusable, portal_invitation_accept
from tests.portal.conftest import accept

GONE = "This invitation link no longer works"


def assert_gone(response) -> None:
    assert response.status_code == 410
    page = response.content.decode()
    assert GONE in page
    assert "In crisis?" in page


def test_a_used_link_gives_410_and_changes_nothing(world, invite, client):
    link = invite()
    accept(client, link)
    client.logout()
    user = User.objects.get(email="jordan@example.org")
    assert_gone(client.get(link))
    assert_gone(accept(client, link, "another-long-passphrase"))
    user.refresh_from_db()
    assert user.check_password("a-long-portal-passphrase")
    assert PortalAccount.objects.count() == 1
    assert "_auth_user_id" not in client.session


def test_an_expired_link_gives_410_and_creates_no_account(world, invite, client):
    link = invite()
    PortalInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_gone(client.get(link))
    assert_gone(accept(client, link))
    assert not User.objects.filter(email="jordan@example.org").exists()
    assert not PortalAccount.objects.exists()


def test_a_made_up_link_gives_410_not_500(world, client):
    for token in ("x", "A" * 300, "%00", "%E2%80%AE", "..%5C..%5Cetc"):
        assert_gone(client.get(f"/portal/join/{token}/"))
        assert client.post(f"/portal/join/{token}/", {"password1": "x"}).status_code == 410


def test_a_link_used_between_opening_and_posting_gives_410(world, invite, client):
    """Two tabs: the second submit finds the invitation used and stores nothing."""
    link = invite()
    invitation = PortalInvitation.objects.get()
    portal_invitation_accept(invitation=invitation, password="first-tab-passphrase")
    try:
        portal_invitation_accept(invitation=invitation, password="second-tab-passphrase")
    except InvitationUnusable:
        pass
    else:
        raise AssertionError("a used invitation was accepted twice")
    assert PortalAccount.objects.count() == 1
    assert User.objects.get(email="jordan@example.org").check_password("first-tab-passphrase")
    assert_gone(accept(client, link))
