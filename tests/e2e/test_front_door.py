"""The whole front door: a visitor reads, self-checks and asks; front desk converts and
invites; the patient opens the emailed link, sets a password and sees the portal home."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from kapflow.intake.models import AppointmentRequest
from kapflow.patients.models import Patient
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-portal-passphrase"


def test_a_visitor_becomes_a_patient_with_a_portal_account(world, new_page, screenshot, settings):
    settings.KAPFLOW_PUBLIC_CLINIC = "demo"
    world.demo.crisis_line_text = "Call or text 988 any time."
    world.demo.save()

    visitor = new_page()
    visitor.goto("/")
    expect(visitor.get_by_role("note", name="Crisis support")).to_contain_text("Call or text 988 any time.")
    visitor.get_by_role("navigation", name="Main").get_by_role("link", name="How KAP works").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("How KAP works")
    expect(visitor.locator("main")).to_contain_text("never your therapist")

    visitor.get_by_role("navigation", name="Main").get_by_role("link", name="Is KAP for me?").click()
    visitor.get_by_role("group", name=re.compile("Which treatments")).get_by_label("Two or more").check()
    visitor.get_by_role("group", name=re.compile("talk therapy")).get_by_label("Yes").check()
    for group in visitor.locator("fieldset.choice-group").all()[2:]:
        group.get_by_label("No", exact=True).check()
    visitor.get_by_role("group", name=re.compile("MAO inhibitors")).get_by_label("Not sure").check()
    visitor.get_by_role("button", name="See what my answers mean").click()
    expect(
        visitor.get_by_role("heading", level=2, name="Some answers need a clinician's review first")
    ).to_be_visible()
    expect(visitor.locator("main")).not_to_contain_text("eligible")
    screenshot(visitor, "prescreen-result")
    assert AppointmentRequest.objects.count() == 0  # nothing kept unless they ask

    visitor.get_by_label("Your name").fill("Casey Morgan")
    visitor.get_by_role("textbox", name="Email").fill("casey.morgan@example.org")
    visitor.get_by_label("I agree that the clinic may contact me").check()
    visitor.get_by_role("button", name="Send my request").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Thank you: we have your request")
    request = AppointmentRequest.objects.get()
    assert request.prescreen_outcome == "review"

    desk = new_page()
    sign_in(desk, world.frontdesk)
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Requests").click()
    desk.get_by_role("link", name="Casey Morgan").click()
    expect(desk.get_by_role("region", name=re.compile("Self-check answers"))).to_contain_text(
        "MAO inhibitors"
    )
    desk.get_by_role("link", name="Convert to patient").click()
    expect(desk.get_by_label("Legal given name")).to_have_value("Casey")
    desk.get_by_label("Date of birth").fill("1990-05-06")
    desk.get_by_role("button", name="Create patient record").click()
    desk.wait_for_url(re.compile(r"/c/demo/patients/[0-9a-f-]{36}/$"))
    patient = Patient.objects.get(legal_given_name="Casey")

    portal = desk.get_by_role("region", name="Patient portal")
    expect(portal.get_by_label("Patient's email address")).to_have_value("casey.morgan@example.org")
    portal.get_by_role("button", name="Send the invitation").click()
    expect(desk.get_by_role("region", name="Patient portal")).to_contain_text("Invitation sent")
    screenshot(desk, "chart-with-portal-invitation")

    (message,) = [m for m in mail.outbox if m.to == ["casey.morgan@example.org"]]
    link = re.search(r"https?://\S+/portal/join/\S+/", str(message.body))
    assert link, message.body

    patient_page = new_page()
    patient_page.goto(link.group(0))
    patient_page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    patient_page.get_by_label("Type it again").fill(NEW_PASSWORD)
    patient_page.get_by_role("button", name="Create my account").click()
    patient_page.wait_for_url(re.compile(r"/portal/$"))
    expect(patient_page.get_by_role("heading", level=1)).to_contain_text("Hello, Casey")
    expect(patient_page.locator("body")).to_contain_text("Call or text 988 any time.")
    screenshot(patient_page, "portal-home")
    assert patient.portal_account.user.email == "casey.morgan@example.org"
