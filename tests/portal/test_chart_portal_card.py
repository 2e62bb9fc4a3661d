"""The chart's "Patient portal" card tells staff where the patient stands with the portal."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kapflow.portal.models import PortalInvitation
from tests.html import field_value
from tests.portal.conftest import accept, chart_url


def test_no_account_yet(world, login):
    page = login(world.admin).get(chart_url(world.patient)).content.decode()
    assert "No portal account yet." in page
    assert "Send the invitation" in page


def test_a_waiting_invitation_shows_when_it_was_sent_and_when_it_expires(world, invite, login):
    invite(email="jo@example.org")
    invitation = PortalInvitation.objects.get()
    page = login(world.frontdesk).get(chart_url(world.patient)).content.decode()
    sent = timezone.localtime(invitation.created_at, world.demo.tzinfo).strftime("%Y-%m-%d %H:%M")
    expires = timezone.localtime(invitation.expires_at, world.demo.tzinfo).strftime("%Y-%m-%d %H:%M")
    assert f"Invitation sent on {sent} to jo@example.org; the link expires on {expires}." in page
    assert "Send a new invitation" in page
    assert field_value(page, "email") == "jordan@example.org"  # the record's address, editable


def test_an_expired_invitation_says_so(world, invite, login):
    invite()
    PortalInvitation.objects.update(expires_at=timezone.now() - timedelta(hours=1))
    page = login(world.frontdesk).get(chart_url(world.patient)).content.decode()
    assert "expired on" in page and "without being used" in page
    assert "Send the invitation" in page


def test_an_accepted_invitation_shows_the_active_account(world, invite, login, client):
    accept(client, invite())
    page = login(world.frontdesk).get(chart_url(world.patient)).content.decode()
    assert "Portal account active since" in page
    assert "jordan@example.org" in page
