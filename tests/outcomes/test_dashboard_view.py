"""The dashboard page: who sees it, each clinic its own figures only, the period checked, and
every view written to the access log."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from kapflow.core.models import AccessLogEntry, AuditAction, AuditOutcome, DataCategory
from kapflow.outcomes.dashboard import TOO_FEW
from tests.html import field_error
from tests.outcomes import fixtures

MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


def url(clinic: str = "demo") -> str:
    return reverse("outcomes:dashboard", kwargs={"clinic": clinic})


def headline(page: str) -> dict[str, str]:
    """The headline facts as shown: term -> value."""
    block = re.search(r'<dl class="facts" id="headline">(.*?)</dl>', page, re.S)
    assert block is not None, "no headline on the page"
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", block.group(1), re.S)
    return {html.unescape(dt).strip(): html.unescape(dd).strip() for dt, dd in pairs}


def table_rows(page: str, key: str) -> list[list[str]]:
    section = re.search(rf'<section[^>]*id="table-{key}">(.*?)</section>', page, re.S)
    assert section is not None, key
    body = re.search(r"<tbody>(.*?)</tbody>", section.group(1), re.S)
    assert body is not None
    return [
        [html.unescape(cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


@pytest.fixture
def fixed(world):
    world.demo.report_min_group = 1
    world.demo.save()
    return fixtures.build(world)


@pytest.mark.parametrize("member", ["admin", "prescriber", "nurse"])
def test_admin_and_medical_staff_see_the_figures(world, login, fixed, member):
    response = login(world.member(member)).get(url(), MARCH)
    assert response.status_code == 200
    page = response.content.decode()
    assert headline(page) == {
        "Courses with a first dose in the period": "6",
        "Dosing sessions": "14",
        "PHQ-9 response": "75.0% (95% CI 30.1-95.4; 3 of 4)",
        "PHQ-9 remission": "40.0% (95% CI 11.8-76.9; 2 of 5)",
        "Courses without a baseline (left out)": "1",
    }
    assert table_rows(page, "outcomes")[0] == [
        "All courses",
        "6",
        "1",
        "75.0% (95% CI 30.1-95.4; 3 of 4)",
        "40.0% (95% CI 11.8-76.9; 2 of 5)",
        "-7.0",
        "-8.0",
    ]
    assert table_rows(page, "bp") == [["14", "4", "1"]]
    assert table_rows(page, "integration") == [["13", "6", "46.2% (95% CI 23.2-70.9; 6 of 13)"]]


@pytest.mark.parametrize("member", ["therapist", "frontdesk"])
def test_therapist_and_front_desk_are_refused(world, login, fixed, member):
    response = login(world.member(member)).get(url(), MARCH)
    assert response.status_code == 403
    assert b"75.0%" not in response.content
    denied = AccessLogEntry.objects.filter(
        user=world.member(member).user, category=DataCategory.OUTCOMES, outcome=AuditOutcome.DENIED
    )
    assert denied.count() == 1


def test_the_other_clinics_admin_sees_only_their_own_empty_figures(world, login, fixed):
    client = login(world.other_admin)
    response = client.get(url("other"), MARCH)
    assert response.status_code == 200
    page = response.content.decode()
    facts = headline(page)
    assert facts["Courses with a first dose in the period"] == "0"
    assert facts["Dosing sessions"] == "0"
    assert facts["Courses without a baseline (left out)"] == "0"
    assert facts["PHQ-9 response"] == TOO_FEW
    assert table_rows(page, "outcomes") == [["All courses", "0", "0", TOO_FEW, TOO_FEW, TOO_FEW, TOO_FEW]]
    assert table_rows(page, "bp") == [["0", "0", "0"]]
    assert "Nothing in this period." in page  # no route, band or discharge rows
    for demo_only in ("sublingual", "buccal", "intramuscular", "75.0%", "Demo KAP Clinic"):
        assert demo_only not in page
    # ... and Demo's page is not theirs to open.
    assert client.get(url("demo"), MARCH).status_code == 404


def test_a_period_ending_before_it_starts_is_refused(world, login):
    response = login(world.admin).get(url(), {"start": "2025-03-31", "end": "2025-03-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert field_error(page, "end") == "The period must end on or after the day it starts."
    assert 'id="headline"' not in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2025-02-30", "end": "2025-03-31"}, "start"),
        ({"start": "2025-03-01", "end": "next tuesday"}, "end"),
        ({"start": "", "end": "2025-03-31"}, "start"),
        ({"start": "2025-03-01"}, "end"),
        ({"start": "1999-12-31", "end": "2025-03-31"}, "start"),
        ({"start": "2025-03-01", "end": "3000-01-01"}, "end"),
    ],
)
def test_bad_dates_are_refused(world, login, query, field):
    response = login(world.admin).get(url(), query)
    assert response.status_code == 400
    assert field_error(response.content.decode(), field) != ""
    assert not AccessLogEntry.objects.filter(
        category=DataCategory.OUTCOMES, outcome=AuditOutcome.ALLOWED
    ).exists()


def test_the_default_period_is_shown_without_a_query(world, login, fixed):
    response = login(world.admin).get(url())
    assert response.status_code == 200
    assert 'id="headline"' in response.content.decode()


def test_viewing_the_dashboard_is_audited(world, login, fixed):
    login(world.prescriber).get(url(), MARCH)
    entry = AccessLogEntry.objects.get(category="outcomes", outcome=AuditOutcome.ALLOWED)
    assert entry.user == world.prescriber.user
    assert entry.clinic == world.demo
    assert entry.patient is None
    assert entry.action == AuditAction.VIEW
    assert "2025-03-01" in entry.detail
    assert "2025-03-31" in entry.detail


def test_the_export_links_carry_the_period(world, login, fixed):
    page = login(world.admin).get(url(), MARCH).content.decode()
    for name in ("dashboard_csv", "research_csv"):
        link = reverse(f"outcomes:{name}", kwargs={"clinic": "demo"})
        assert f"{link}?start=2025-03-01&amp;end=2025-03-31" in page
