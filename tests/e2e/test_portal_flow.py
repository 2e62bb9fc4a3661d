"""Front desk invites a patient from the chart; the patient follows the emailed link on a phone."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from kapflow.portal.models import PortalAccount
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "a-long-portal-passphrase"


def test_the_patient_joins_the_portal_from_the_emailed_link(world, new_page, screenshot):
    desk = new_page()
    sign_in(desk, world.frontdesk)
    desk.goto(f"/c/demo/patients/{world.patient.public_id}/")
    card = desk.get_by_role("region", name="Patient portal")
    expect(card).to_contain_text("No portal account yet.")
    expect(card.get_by_label("Patient's email address")).to_have_value("jordan@example.org")
    card.get_by_role("button", name="Send the invitation").click()
    expect(desk.get_by_role("status")).to_contain_text("Portal invitation sent to jordan@example.org")
    expect(desk.get_by_role("region", name="Patient portal")).to_contain_text("Invitation sent on")

    found = re.search(r"https?://[^/\s]+(/portal/join/[^/\s]+/)", str(mail.outbox[-1].body))
    assert found, mail.outbox[-1].body

    phone = new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(found.group(1))
    expect(phone.get_by_role("note", name="Crisis support")).to_contain_text("988")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Demo KAP Clinic")
    phone.get_by_label("Choose a password").fill(PASSPHRASE)
    phone.get_by_label("Type it again").fill("not the same passphrase")
    phone.get_by_role("button", name="Create my account").click()
    expect(phone.locator("#id_password2_error")).to_have_text("The two passwords differ.")
    phone.get_by_label("Choose a password").fill(PASSPHRASE)
    phone.get_by_label("Type it again").fill(PASSPHRASE)
    phone.get_by_role("button", name="Create my account").click()

    phone.wait_for_url(re.compile(r"/portal/$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello, Jordan")
    expect(phone.get_by_role("region", name="Your care team")).to_contain_text("Theo Therapist")
    expect(phone.get_by_role("region", name="Your next steps")).to_contain_text("screening appointment")
    expect(phone.get_by_role("note", name="Crisis support")).to_be_visible()
    screenshot(phone, "portal-home-phone")
    assert PortalAccount.objects.get(patient=world.patient).user.email == "jordan@example.org"

    phone.get_by_role("button", name="Sign out").click()
    phone.wait_for_url(re.compile(r"/accounts/login/$"))
    phone.goto(found.group(1))
    expect(phone.get_by_role("heading", level=1)).to_have_text("This invitation link no longer works")
