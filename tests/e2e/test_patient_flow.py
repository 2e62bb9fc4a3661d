"""Front desk registers a patient, finds them, opens the chart; no one else gets in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from kapflow.core.models import AccessLogEntry, AuditOutcome
from kapflow.patients.models import Patient
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHART_URL = re.compile(r"/c/demo/patients/(?P<id>[0-9a-f-]{36})/$")


def create_patient(page: Page) -> str:
    """Fill in the New patient form; returns the chart's address."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New patient")
    page.get_by_label("Legal given name").fill("Avery")
    page.get_by_label("Legal family name").fill("Quinlan")
    page.get_by_label("Pronouns").fill("she/her")
    page.get_by_label("Date of birth").fill("1988-07-23")
    page.get_by_label("Email").fill("avery.quinlan@example.org")
    page.get_by_label("Phone", exact=True).fill("+1 303 555 0123")
    page.get_by_role("button", name="Create patient").click()
    page.wait_for_url(CHART_URL)
    expect(page.get_by_role("status")).to_contain_text("Patient Avery Quinlan created.")
    return page.url


def test_front_desk_registers_finds_and_opens_a_patient_but_not_the_clinical_part(
    world, new_page, screenshot
):
    page = new_page()
    sign_in(page, world.frontdesk)
    chart_url = create_patient(page)

    # Live search: typing fills the results in place (htmx), without submitting the form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients", exact=True).click()
    with page.expect_response(
        lambda r: "q=Quinlan" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.get_by_label("Search by name, date of birth or record number").fill("Quinlan")
    results = page.locator("#results")
    expect(results).to_contain_text("1 patient found")
    expect(page).to_have_url(re.compile(r"/c/demo/patients/\?q=Quinlan$"))  # hx-push-url
    screenshot(page, "patient-search")
    results.get_by_role("link", name="Quinlan, Avery").click()

    page.wait_for_url(chart_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Avery Quinlan")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Avery Quinlan")
    expect(page.get_by_role("region", name="Contact")).to_contain_text("avery.quinlan@example.org")
    expect(page.locator("main")).to_contain_text("1988-07-23")
    expect(page.get_by_role("heading", name="Clinical summary")).to_have_count(0)
    assert "Clinical summary" not in page.content()

    # The front desk puts the therapist on the care team (and could take them off again).
    team = page.get_by_role("region", name="Care team")
    team.get_by_label("Staff member").select_option(label="Theo Therapist (Therapist)")
    team.get_by_role("button", name="Add to care team").click()
    expect(page.get_by_role("status")).to_contain_text("added to the care team")
    expect(team.get_by_role("listitem")).to_contain_text(["Theo Therapist"])
    expect(team.get_by_role("button", name="Remove Theo Therapist from the care team")).to_be_visible()
    expect(page.get_by_role("heading", name="Clinical summary")).to_have_count(0)
    screenshot(page, "chart-front-desk")

    response = page.goto(chart_url + "clinical/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    screenshot(page, "403-clinical")

    # Olive, a therapist of the Other clinic, at another desk: the record does not exist for her.
    patient_id = CHART_URL.search(chart_url)["id"]  # type: ignore[index]
    olive = new_page()
    sign_in(olive, world.other_therapist)
    for url in (f"/c/demo/patients/{patient_id}/", f"/c/other/patients/{patient_id}/"):
        response = olive.goto(url)
        assert response is not None and response.status == 404, url
        expect(olive.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(olive.locator("main")).not_to_contain_text("Quinlan")
    screenshot(olive, "404-other-clinic")
    patient = Patient.objects.get(public_id=patient_id)
    denied = AccessLogEntry.objects.filter(
        patient=patient, user=world.other_therapist.user, outcome=AuditOutcome.DENIED
    )
    assert denied.exists()


def test_a_therapist_on_the_care_team_sees_the_clinical_summary(world, page, screenshot):
    sign_in(page, world.therapist)
    page.get_by_role("region", name="Your patients").get_by_role("link", name="Jordan Rivera").click()
    expect(page.get_by_role("heading", name="Clinical summary")).to_be_visible()
    expect(page.get_by_role("region", name="Care team")).to_contain_text("Theo Therapist")
    screenshot(page, "chart-therapist")
