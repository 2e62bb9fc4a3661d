"""The portal home: the patient's own name, care team, clinic and next steps, and nothing else."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from kapflow.accounts.models import User
from kapflow.core.models import AccessLogEntry
from kapflow.patients import services
from kapflow.portal.models import PortalAccount
from tests.conftest import PASSWORD

HOME = reverse("portal:home")


@pytest.fixture
def patient_client(portal_user) -> Client:
    client = Client()
    client.force_login(portal_user)
    return client


def test_the_home_greets_the_patient_by_their_preferred_name(world, patient_client):
    services.patient_update(
        member=world.frontdesk,
        patient=world.patient,
        data={"preferred_name": "Jo"},
        base_version=None,
    )
    page = patient_client.get(HOME).content.decode()
    assert "Hello, Jo" in page


def test_the_home_shows_care_team_names_and_roles_clinic_contact_and_next_steps(world, patient_client):
    world.demo.phone = "+1 303 555 0100"
    world.demo.email = "hello@demo.test"
    world.demo.save()
    response = patient_client.get(HOME)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hello, Jordan" in page
    assert "Theo Therapist" in page and "Priya Prescriber" in page
    assert "Medical professional" in page
    assert "theo@demo.test" not in page  # names and roles only
    assert "+1 303 555 0100" in page and "hello@demo.test" in page
    assert "Your care team has been chosen. They will contact you" in page
    assert reverse("accounts:two_factor") in page
    assert reverse("accounts:password_change") in page


def test_every_portal_page_has_the_crisis_line_and_a_sign_out_button(world, patient_client):
    world.demo.crisis_line_text = "Call the Demo crisis line at 555-0199, day and night."
    world.demo.save()
    page = patient_client.get(HOME).content.decode()
    assert 'class="crisis"' in page
    assert "Call the Demo crisis line at 555-0199, day and night." in page
    assert f'action="{reverse("accounts:logout")}"' in page
    assert "Sign out" in page


def test_no_clinical_or_identifying_details_are_shown(world, patient_client):
    services.clinical_background_save(
        member=world.therapist,
        patient=world.patient,
        data={"presenting_concerns": "Secret concerns", "diagnoses": "F33.1"},
        base_version=None,
    )
    page = patient_client.get(HOME).content.decode()
    for hidden in ("Secret concerns", "F33.1", world.patient.record_number, "1986"):
        assert hidden not in page


def test_each_view_of_the_home_is_logged_against_the_patient(world, portal_user, patient_client):
    patient_client.get(HOME)
    entry = AccessLogEntry.objects.filter(user=portal_user, action="view").get()
    assert (entry.clinic_id, entry.patient_id, entry.category) == (world.demo.pk, world.patient.pk, "portal")
    assert entry.chain == world.demo.pk


def test_a_patients_portal_shows_only_their_own_record(world, portal_user):
    casey = services.patient_create(
        member=world.frontdesk,
        data={
            "legal_given_name": "Casey",
            "legal_family_name": "Nguyen",
            "date_of_birth": date(1990, 5, 5),
        },
    )
    casey_user = User.objects.create_user("casey@example.org", PASSWORD, full_name="Casey Nguyen")
    PortalAccount.objects.create(user=casey_user, patient=casey, clinic=world.demo)
    client = Client()
    client.force_login(casey_user)
    page = client.get(HOME).content.decode()
    assert "Hello, Casey" in page
    assert "Jordan" not in page and "Rivera" not in page
    assert "Theo Therapist" not in page  # Jordan's care team, not Casey's
    assert "The clinic will contact you to arrange your screening appointment." in page
    # and Jordan's chart address is just another staff page: 404
    chart = f"/c/demo/patients/{world.patient.public_id}/"
    assert client.get(chart).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("persona", ["admin", "frontdesk", "therapist", "other_admin"])
def test_staff_without_a_portal_account_get_404(world, login, persona):
    assert login(world.member(persona)).get(HOME).status_code == 404


def test_a_switched_off_portal_account_gets_404(world, portal_user, patient_client):
    PortalAccount.objects.update(is_active=False)
    assert patient_client.get(HOME).status_code == 404


@pytest.mark.parametrize("name", ["accounts:two_factor", "accounts:password_change"])
def test_the_account_pages_a_patient_uses_show_the_crisis_line_too(world, patient_client, login, name):
    page = patient_client.get(reverse(name)).content.decode()
    assert 'class="crisis"' in page
    assert str(world.demo.crisis_line_text) in page
    staff_page = login(world.frontdesk).get(reverse(name)).content.decode()
    assert 'class="crisis"' not in staff_page
