"""Screening to readiness: the patient reports, the prescriber screens and decides, the
patient signs consent, the chart shows ready; withdrawing consent flips it back."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kapflow.consent.services import template_publish
from kapflow.screening.models import EligibilityDecision, HealthQuestionnaire
from tests.e2e.conftest import sign_in
from tests.e2e.test_measures_portal import sign_in_to_the_portal

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_from_health_questionnaire_to_ready_for_dosing_and_back(world, portal_user, new_page, screenshot):
    template_publish(
        member=world.admin, title="Consent to KAP", body="## What KAP is\nKetamine with therapy."
    )

    patient = new_page()
    sign_in_to_the_portal(patient, portal_user.email)
    patient.get_by_role("link", name=re.compile("Fill in your health questionnaire")).click()
    patient.get_by_label("Medicines you take now").fill("Sertraline 100 mg daily")
    for group in ("pregnant", "psychosis", "bipolar disorder"):
        patient.get_by_role("group", name=re.compile(group)).get_by_label("No", exact=True).check()
    patient.get_by_label(re.compile("How many antidepressant medicines")).fill("3")
    patient.get_by_label("I have had talk therapy (psychotherapy)").check()
    patient.get_by_role("button", name="Send to the clinic").click()
    expect(patient.get_by_role("status")).to_contain_text("Your answers are with the clinic")
    assert HealthQuestionnaire.objects.get().medications == "Sertraline 100 mg daily"

    prescriber = new_page()
    sign_in(prescriber, world.prescriber)
    prescriber.goto(f"/c/demo/patients/{world.patient.public_id}/")
    expect(prescriber.get_by_role("region", name="Screening and readiness for dosing")).to_contain_text(
        "Not ready for dosing"
    )
    prescriber.get_by_role("link", name="Screening, findings and eligibility").click()
    prescriber.get_by_role("link", name="New medical screening").click()
    expect(prescriber.get_by_label("Current medicines (names and doses)")).to_have_value(
        "Sertraline 100 mg daily"
    )
    prescriber.get_by_label("Systolic blood pressure (mmHg)").fill("144")
    prescriber.get_by_label("Diastolic blood pressure (mmHg)").fill("86")
    prescriber.get_by_label("Heart rate (beats per minute)").fill("74")
    prescriber.get_by_label("Weight (kg)").fill("70")
    prescriber.get_by_label("Height (cm)").fill("175")
    prescriber.get_by_role("button", name="Save the screening").click()
    current = prescriber.get_by_role("region", name="Current screening")
    expect(current).to_contain_text("caution")
    expect(current).to_contain_text("144/86")
    prescriber.get_by_role("link", name="Decide eligibility").click()
    prescriber.get_by_label("Eligible", exact=True).check()
    prescriber.get_by_label("Valid until (for eligible)").fill(
        (timezone.localdate() + timedelta(days=120)).isoformat()
    )
    prescriber.get_by_label("Sublingual lozenge or tablet").check()
    prescriber.get_by_role("button", name="Record the decision").click()
    expect(prescriber.get_by_role("region", name="Eligibility decision")).to_contain_text("Eligible")
    assert EligibilityDecision.objects.get().routes == ["sublingual"]
    expect(prescriber.locator("main")).to_contain_text("Not ready for dosing")  # no consent yet

    patient.goto("/portal/consent/")
    patient.get_by_label("Type your full legal name").fill("Jordan Rivera")
    patient.get_by_label(re.compile("I have read and understood this consent form")).check()
    patient.get_by_role("button", name="Sign the consent form").click()
    expect(patient.get_by_role("link", name="Download your signed form (PDF)")).to_be_visible()

    prescriber.goto(f"/c/demo/patients/{world.patient.public_id}/")
    readiness = prescriber.get_by_role("region", name="Screening and readiness for dosing")
    expect(readiness).to_contain_text("Ready for dosing")
    screenshot(prescriber, "chart-ready-for-dosing")

    patient.goto("/portal/consent/")
    patient.get_by_role("button", name="Withdraw my consent").click()
    prescriber.reload()
    expect(prescriber.get_by_role("region", name="Screening and readiness for dosing")).to_contain_text(
        "Not ready for dosing"
    )
    expect(prescriber.get_by_role("region", name="Screening and readiness for dosing")).to_contain_text(
        "withdrew consent"
    )
