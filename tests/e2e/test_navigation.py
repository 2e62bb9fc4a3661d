"""Each role signs in through the login form, sees the navigation of its role, and every
item of it opens (without a console error: the fixture checks)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADMIN_NAV = [
    "Home",
    "Patients",
    "Today",
    "Calendar",
    "New patient",
    "Requests",
    "Staff",
    "Outcomes",
    "Controlled substances",
    "Clinic settings",
    "Protocols",
    "Access log",
]
DESK_NAV = ["Home", "Patients", "Today", "Calendar", "New patient", "Requests"]
CLINICIAN_NAV = ["Home", "Patients", "Today", "Calendar"]
MEDICAL_NAV = ["Home", "Patients", "Today", "Calendar", "Outcomes", "Controlled substances"]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("admin", ADMIN_NAV),
        ("frontdesk", DESK_NAV),
        ("therapist", CLINICIAN_NAV),
        ("prescriber", MEDICAL_NAV),
        ("nurse", MEDICAL_NAV),
        ("other_admin", ADMIN_NAV),
    ],
)
def test_each_role_sees_its_own_navigation_and_every_item_opens(world, page, persona, expected, screenshot):
    member = world.member(persona)
    sign_in(page, member)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(expected)
    expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("banner")).to_contain_text(member.clinic.name)
    expect(page.get_by_role("banner")).to_contain_text(member.get_role_display())

    for label in expected[1:]:
        with page.expect_navigation() as navigation:
            nav.get_by_role("link", name=label, exact=True).click()
        response = navigation.value
        assert response is not None and response.status == 200, label
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "page")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        if persona == "admin":
            screenshot(page, "admin-" + label.lower().replace(" ", "-"))
