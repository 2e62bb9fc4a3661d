"""Who cannot be given a portal account: staff addresses, another patient's, a patient who has one."""

from __future__ import annotations

from datetime import date

from django.core import mail

from kapflow.patients import services
from kapflow.portal.models import PortalInvitation
from tests.html import field_error, field_value
from tests.portal.conftest import invite_url


def test_a_staff_members_address_is_refused(world, login):
    response = login(world.frontdesk).post(invite_url(world.patient), {"email": "THEO@demo.test"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "theo@demo.test is the address of a staff account" in field_error(page, "email")
    assert field_value(page, "email") == "THEO@demo.test"
    assert not PortalInvitation.objects.exists()
    assert mail.outbox == []


def test_the_address_of_staff_at_another_clinic_is_refused_too(world, login):
    response = login(world.admin).post(invite_url(world.patient), {"email": "olive@other.test"})
    assert response.status_code == 400
    assert "staff account" in field_error(response.content.decode(), "email")


def test_another_patients_portal_address_is_refused(world, login, portal_user):
    casey = services.patient_create(
        member=world.frontdesk,
        data={"legal_given_name": "Casey", "legal_family_name": "Lee", "date_of_birth": date(1990, 5, 5)},
    )
    response = login(world.frontdesk).post(invite_url(casey), {"email": portal_user.email})
    assert response.status_code == 400
    assert "another patient's portal account" in field_error(response.content.decode(), "email")
    assert not PortalInvitation.objects.exists()


def test_a_patient_with_an_active_portal_account_is_not_invited_again(world, login, portal_user):
    response = login(world.frontdesk).post(invite_url(world.patient), {"email": "new@example.org"})
    assert response.status_code == 400
    assert "already has an active portal account" in field_error(response.content.decode(), "email")
    assert not PortalInvitation.objects.exists()
    assert mail.outbox == []


def test_the_chart_shows_an_active_account_and_no_send_form(world, login, portal_user):
    page = login(world.frontdesk).get(f"/c/demo/patients/{world.patient.public_id}/").content.decode()
    assert "Portal account active since" in page
    assert portal_user.email in page
    assert field_value(page, "email") is None
