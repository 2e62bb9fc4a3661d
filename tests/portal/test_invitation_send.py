"""Front desk sends a patient a portal invitation from the chart: a link by email, nothing more."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from kapflow.core.models import AccessLogEntry
from kapflow.patients.services import clinical_background_save
from kapflow.portal.models import PortalInvitation
from tests.html import field_error, field_value
from tests.portal.conftest import chart_url, invite_url

SUMMARY = "Recurrent depression after three medication trials"


def test_the_invitation_email_names_the_clinic_the_link_and_its_expiry(world, invite):
    link = invite(email="Jordan@Example.org")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jordan@example.org"]
    assert "Demo KAP Clinic" in message.subject
    body = str(message.body)
    assert "Demo KAP Clinic" in body
    assert f"http://testserver{link}" in body
    assert "expires in 72 hours" in body
    expires = timezone.localtime(PortalInvitation.objects.get().expires_at, world.demo.tzinfo)
    assert expires.strftime("%H:%M") in body
    assert "America/Denver" in body


def test_the_email_carries_no_health_information(world, invite):
    clinical_background_save(
        member=world.therapist,
        patient=world.patient,
        data={"presenting_concerns": SUMMARY, "diagnoses": "F33.1", "allergies": "Latex"},
        base_version=None,
    )
    invite()
    message = mail.outbox[0]
    text = f"{message.subject}\n{message.body}"
    for secret in (
        "1986",
        "04-12",
        "April",
        world.patient.record_number,
        SUMMARY,
        "F33.1",
        "Latex",
        "Rivera",
        "Theo",
        "Priya",
    ):
        assert secret not in text, secret


def test_the_token_is_stored_only_as_its_sha256(world, invite):
    link = invite()
    token = link.rstrip("/").rsplit("/", 1)[-1]
    invitation = PortalInvitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = PortalInvitation.objects.filter(pk=invitation.pk).values().first()
    assert row is not None
    assert token not in " ".join(str(value) for value in row.values())


def test_the_link_expires_after_the_configured_hours(world, invite):
    before = timezone.now()
    invite()
    invitation = PortalInvitation.objects.get()
    assert before + timedelta(hours=72) <= invitation.expires_at <= timezone.now() + timedelta(hours=72)
    assert invitation.sent_by == world.frontdesk.user
    assert invitation.clinic == world.demo


def test_sending_is_logged_against_the_patient_in_the_clinics_chain(world, invite):
    invite()
    entry = AccessLogEntry.objects.filter(category="portal").get()
    assert (entry.user_id, entry.clinic_id, entry.patient_id) == (
        world.frontdesk.user.pk,
        world.demo.pk,
        world.patient.pk,
    )
    assert (entry.action, entry.outcome) == ("create", "allowed")
    assert entry.chain == world.demo.pk


def test_a_new_invitation_makes_the_earlier_link_stop_working(world, invite, client):
    first = invite()
    second = invite()
    assert PortalInvitation.objects.filter(revoked_at__isnull=True).count() == 1
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_the_chart_card_prefills_the_patients_email(world, login):
    page = login(world.frontdesk).get(chart_url(world.patient)).content.decode()
    assert "Patient portal" in page
    assert "No portal account yet." in page
    assert field_value(page, "email") == "jordan@example.org"


@pytest.mark.parametrize("email", ["", "not-an-email", "a@" + "b" * 300 + ".org"])
def test_a_bad_address_is_a_field_error_that_keeps_what_was_typed(world, login, email):
    response = login(world.frontdesk).post(invite_url(world.patient), {"email": email})
    assert response.status_code == 400
    page = response.content.decode()
    assert field_error(page, "email")
    assert field_value(page, "email") == email
    assert "nothing has been saved yet" in page
    assert not PortalInvitation.objects.exists()
    assert mail.outbox == []


def test_get_on_the_send_route_is_405_for_those_allowed(world, login):
    assert login(world.frontdesk).get(invite_url(world.patient)).status_code == 405
