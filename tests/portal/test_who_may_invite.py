"""Front desk and clinic admins invite patients to the portal; clinicians and other clinics may not."""

from __future__ import annotations

import pytest
from django.core import mail

from kapflow.core.models import AccessLogEntry
from kapflow.portal.models import PortalInvitation
from tests.portal.conftest import chart_url, invite_url


@pytest.mark.parametrize("persona", ["frontdesk", "admin"])
def test_front_desk_and_admin_may_invite(world, login, persona, django_capture_on_commit_callbacks):
    client = login(world.member(persona))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(invite_url(world.patient), {"email": "jordan@example.org"})
    assert response.status_code == 302
    assert response["Location"] == chart_url(world.patient)
    assert PortalInvitation.objects.get().sent_by == world.member(persona).user
    assert len(mail.outbox) == 1
    page = client.get(response["Location"]).content.decode()
    assert "Portal invitation sent to jordan@example.org" in page
    assert "Invitation sent on" in page
    assert "Send a new invitation" in page


@pytest.mark.parametrize("persona", ["therapist", "prescriber", "nurse"])
def test_clinicians_get_403_and_the_refusal_is_logged(world, login, persona):
    client = login(world.member(persona))
    response = client.post(invite_url(world.patient), {"email": "jordan@example.org"})
    assert response.status_code == 403
    assert not PortalInvitation.objects.exists()
    assert mail.outbox == []
    denied = AccessLogEntry.objects.filter(outcome="denied", category="portal").get()
    assert denied.user_id == world.member(persona).user.pk
    assert denied.patient_id == world.patient.pk


@pytest.mark.parametrize("persona", ["therapist", "prescriber", "nurse"])
def test_clinicians_do_not_see_the_portal_card(world, login, persona):
    page = login(world.member(persona)).get(chart_url(world.patient)).content.decode()
    assert "Patient portal" not in page


@pytest.mark.parametrize("clinic", ["demo", "other"])
def test_another_clinics_admin_gets_404_and_the_attempt_is_logged(world, login, clinic):
    client = login(world.other_admin)
    response = client.post(invite_url(world.patient, clinic=clinic), {"email": "jordan@example.org"})
    assert response.status_code == 404
    assert not PortalInvitation.objects.exists()
    if clinic == "other":  # through their own clinic: the attempt names our patient
        denied = AccessLogEntry.objects.filter(outcome="denied").get()
        assert denied.patient_id == world.patient.pk
        assert denied.clinic_id == world.other.pk
