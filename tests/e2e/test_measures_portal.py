"""On a phone, Jordan fills in a due PHQ-9 in the portal and sees the crisis resources at once."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kapflow.measures import services
from kapflow.measures.models import MeasureResponse, SafetyAlert
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CRISIS = "Call the Demo crisis line at 555-0199, day and night."
PHONE = {"width": 390, "height": 844}


def sign_in_to_the_portal(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal/$"))


def assert_big_enough_to_tap(page: Page) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    for label in page.locator("label.answer-option").all():
        box = label.bounding_box()
        assert box is not None and box["height"] >= 44, box
        assert box["width"] >= width * 0.8, f"answer labels span the width: {box}"
    for button in (page.get_by_role("button", name="Next"), page.get_by_role("link", name="Back")):
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44, box


def test_the_patient_answers_a_phq9_on_a_phone_and_sees_the_crisis_resources(
    world, portal_user, new_page, screenshot
):
    world.demo.crisis_line_text = CRISIS
    world.demo.phone = "+1 303 555 0100"
    world.demo.save()
    services.assignment_create(
        member=world.therapist,
        patient=world.patient,
        instrument_key="phq9",
        schedule="once",
        starts_on=timezone.localdate(timezone=world.demo.tzinfo),
    )

    phone = new_page()
    phone.set_viewport_size(PHONE)
    sign_in_to_the_portal(phone, portal_user.email)
    due = phone.get_by_role("region", name="Questionnaires to fill in")
    expect(due).to_contain_text("PHQ-9: due since")
    expect(phone.get_by_role("region", name="Your next steps")).to_contain_text(
        "You have 1 questionnaire to fill in."
    )
    screenshot(phone, "measures-portal-home-phone")
    due.get_by_role("link", name=re.compile("PHQ-9")).click()

    # Question 1: the intro, the question as the group's name, four answers, Back and Next
    expect(phone.get_by_text("Question 1 of 9")).to_be_visible()
    expect(phone.locator("progress")).to_have_attribute("max", "9")
    group = phone.get_by_role("group", name="Little interest or pleasure in doing things")
    expect(group.get_by_role("radio")).to_have_count(4)
    assert_big_enough_to_tap(phone)
    screenshot(phone, "measures-portal-question-phone")

    # Next without an answer: refused next to the question, nothing saved
    phone.get_by_role("button", name="Next").click()
    expect(phone.get_by_role("alert")).to_contain_text("Your answer was not saved.")
    expect(group).to_have_attribute("aria-describedby", "question-intro answer-error")
    screenshot(phone, "measures-portal-question-error-phone")

    # Tapping the words of an answer chooses it
    for number in range(1, 9):
        expect(phone.get_by_text(f"Question {number} of 9")).to_be_visible()
        phone.locator("label.answer-option", has_text="Not at all").click()
        phone.get_by_role("button", name="Next").click()

    # Question 9 from the keyboard: arrow to "Several days", Tab past Back to Next, Enter
    expect(phone.get_by_text("Question 9 of 9")).to_be_visible()
    phone.get_by_role("radio", name="Not at all").focus()
    phone.keyboard.press("ArrowDown")
    expect(phone.get_by_role("radio", name="Several days")).to_be_checked()
    screenshot(phone, "measures-portal-question-chosen-phone")
    phone.keyboard.press("Tab")
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("button", name="Next")).to_be_focused()
    phone.keyboard.press("Enter")

    # The review: every answer, each with a way to change it
    review = phone.get_by_role("region", name="Check your answers")
    expect(review.get_by_role("listitem")).to_have_count(9)
    expect(review.get_by_role("link", name="Change your answer to question 9")).to_be_visible()
    screenshot(phone, "measures-portal-review-phone")
    review.get_by_role("button", name="Submit my answers").click()

    # The thank-you page: the crisis resources first, the clinic's phone to tap
    crisis = phone.get_by_role("region", name="If you are thinking about hurting yourself")
    expect(crisis).to_be_visible()
    expect(crisis).to_contain_text(CRISIS)
    expect(crisis.get_by_role("link", name="Call the clinic: +1 303 555 0100")).to_have_attribute(
        "href", "tel:+13035550100"
    )
    expect(crisis).to_contain_text("Your care team has been told about your answers.")
    box = crisis.bounding_box()
    assert box is not None and box["y"] < PHONE["height"], "the crisis resources are on the first screen"
    screenshot(phone, "measures-portal-thanks-phone")

    response = MeasureResponse.objects.get()
    assert response.answers["q9"] == 1 and response.total == 1
    assert SafetyAlert.objects.get().response == response

    # Back to the portal: nothing left to fill in
    phone.get_by_role("link", name="Back to your portal").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello, Jordan")
    expect(phone.get_by_role("region", name="Questionnaires to fill in")).to_have_count(0)

    # The therapist on the care team sees the alert on their home page until they act on it.
    desk = new_page()
    sign_in(desk, world.therapist)
    banner = desk.get_by_role("alert").filter(has_text="open safety alert")
    expect(banner).to_contain_text("Jordan Rivera")
    banner.get_by_role("link").first.click()
    desk.get_by_label("Action taken").fill("Called Jordan; risk assessment done, safety plan reviewed.")
    desk.get_by_role("button", name="Record the action and close the alert").click()
    desk.wait_for_url(re.compile(r"/c/demo/$"))
    expect(desk.get_by_role("status")).to_contain_text("Action recorded")
    expect(desk.get_by_text("open safety alert")).to_have_count(0)
    assert SafetyAlert.objects.get().status == "acknowledged"
