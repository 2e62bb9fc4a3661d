"""In the browser: a nurse makes a read-only API token from the profile menu (keyboard only,
the secret shown once in a read-only field), then opens the API documentation, which renders
from kapflow's own files under the site's Content-Security-Policy (the fixture fails the test
on any console error, a refused style or script included) and asks nothing of the internet."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, expect

from kapflow.api.models import ApiToken
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_token_is_made_from_the_profile_and_the_api_documentation_works_offline(
    world, page, live_server, screenshot
):
    elsewhere: list[str] = []
    here = urlsplit(live_server.url).netloc

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).netloc != here:
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/*", offline)
    sign_in(page, world.nurse)

    page.locator(".usermenu summary").click()  # the profile menu
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    page.get_by_role("link", name="Make a token").click()

    page.get_by_label("Name").fill("Registry export")
    expect(page.get_by_role("radio", name="Read only")).to_be_checked()
    page.get_by_label("Name").press("Enter")  # submitted from the keyboard
    secret = page.get_by_label("Your new token")
    expect(secret).to_have_attribute("readonly", "")
    expect(secret).to_have_value(re.compile(r"^kf_"))
    expect(page.get_by_role("alert")).to_contain_text("shown only this once")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the token").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret.input_value()
    token = ApiToken.objects.get(user=world.nurse.user)
    assert token.read_only and secret.input_value().startswith(token.prefix)
    screenshot(page, "api-token-created")

    page.get_by_role("link", name="API documentation").click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("kapflow API")
    expect(page.locator(".opblock").first).to_be_visible()
    patients = page.locator(".opblock-get").filter(has_text="/api/v1/patients/").first
    patients.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()  # the signed-in session calls the API
    expect(page.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    screenshot(page, "api-docs")
    assert elsewhere == [], f"the documentation asked the internet for {elsewhere}"
