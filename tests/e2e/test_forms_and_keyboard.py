"""A refused form keeps what was typed; the page can be used from the keyboard alone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from kapflow.patients.models import Patient
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FUTURE_ERROR = "The date of birth cannot be in the future."


def test_a_future_date_of_birth_is_refused_next_to_the_field_and_nothing_typed_is_lost(
    world, page, screenshot
):
    sign_in(page, world.frontdesk)
    page.goto("/c/demo/patients/new/")
    born = (date.today() + timedelta(days=400)).isoformat()
    page.get_by_label("Legal given name").fill("Robin")
    page.get_by_label("Legal family name").fill("Ashford")
    page.get_by_label("Date of birth").fill(born)
    page.get_by_label("Email").fill("robin@example.org")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Create patient").click()
    response = navigation.value
    assert response is not None and response.status == 400

    expect(page.get_by_role("alert")).to_contain_text("nothing has been saved yet")
    dob = page.get_by_label("Date of birth")
    field = page.locator(".field", has=dob)
    expect(field).to_have_class("field has-error")
    expect(field.locator(".errors")).to_have_text(FUTURE_ERROR)
    expect(dob).to_have_attribute("aria-invalid", "true")
    expect(dob).to_have_attribute("aria-describedby", "id_date_of_birth_error")
    expect(dob).to_have_value(born)
    expect(page.get_by_label("Legal given name")).to_have_value("Robin")
    expect(page.get_by_label("Legal family name")).to_have_value("Ashford")
    expect(page.get_by_label("Email")).to_have_value("robin@example.org")
    assert not Patient.objects.filter(legal_family_name="Ashford").exists()
    screenshot(page, "form-error")


@pytest.mark.parametrize("path", ["/c/demo/", "/c/demo/patients/"])
def test_skip_to_content_is_the_first_tab_stop_and_moves_focus_to_the_page(world, page, path):
    sign_in(page, world.frontdesk)
    page.goto(path)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the focused skip link must be on screen"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab stop is inside the content, not back in the header or navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
