"""The issue's browser acceptance for outcomes and reports: the clinic admin opens the dashboard
from the navigation, sees the figures, changes the period (an empty one shows no courses and
"too few to report", a recent one the figures again) and downloads the tables as CSV; Priya,
the prescriber on Jordan's care team, downloads the course's progress summary as PDF from the
course page (the admin may not read clinical pages)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kapflow.measures.services import response_record_paper
from tests.dosing.helpers import backdate, dosed, make_lot, make_ready
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMPTY = ("2024-01-01", "2024-01-31")


def answers(key: str, total: int) -> dict[str, int]:
    """Answers adding up to ``total``; PHQ-9 item 9 kept at 0 (no safety alert)."""
    items = [f"q{n}" for n in range(1, 10 if key == "phq9" else 8)]
    scored = items[:-1] if key == "phq9" else items
    given = dict.fromkeys(items, 0)
    for index in range(total):
        given[scored[index % len(scored)]] += 1
    return given


def show_period(page: Page, start: str, end: str) -> None:
    period = page.get_by_role("form", name="Period")
    period.get_by_label("From").fill(start)
    period.get_by_label("Until (inclusive)").fill(end)
    period.get_by_role("button", name="Show the period").click()
    page.wait_for_url(re.compile(rf"start={start}&end={end}"))


def fact(page: Page, term: str) -> str:
    """The value shown for ``term`` in the headline figures."""
    return page.locator("#headline dt", has_text=term).locator("xpath=following-sibling::dd[1]").inner_text()


def test_the_admin_reads_the_dashboard_changes_the_period_and_downloads_csv_and_pdf(world, new_page):
    world.demo.report_min_group = 1
    world.demo.save()
    # Jordan: baseline PHQ-9 18 and GAD-7 14, a first dose three hours ago, then 8 and 7: a response.
    course = make_ready(world)
    session = dosed(world, course, make_lot(world))
    backdate(session, 180)
    now = timezone.now()
    for key, before, after in (("phq9", 18, 8), ("gad7", 14, 7)):
        for total, at in ((before, now - timedelta(days=5)), (after, now - timedelta(hours=1))):
            response_record_paper(
                member=world.therapist,
                patient=world.patient,
                instrument_key=key,
                answers=answers(key, total),
                answered_at=at,
            )

    page = new_page()
    sign_in(page, world.admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outcomes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes and safety")
    expect(page.locator("#headline")).to_contain_text("1 of 1")
    assert fact(page, "Courses with a first dose in the period") == "1"
    assert fact(page, "Dosing sessions") == "1"
    assert fact(page, "PHQ-9 response").startswith("100.0% (95% CI")
    assert fact(page, "PHQ-9 remission").startswith("0.0% (95% CI")
    outcomes = page.locator("#table-outcomes")
    expect(outcomes.get_by_role("row", name=re.compile("^sublingual"))).to_contain_text("-10.0")

    # A month with no dosing: nothing to report.
    show_period(page, *EMPTY)
    expect(page.locator("#h-headline")).to_have_text("Jan. 1, 2024 to Jan. 31, 2024")
    assert fact(page, "Courses with a first dose in the period") == "0"
    assert fact(page, "PHQ-9 response") == "too few to report"
    expect(outcomes.get_by_role("row", name=re.compile("^All courses"))).to_contain_text("too few to report")
    expect(outcomes).not_to_contain_text("sublingual")

    # The last 30 days: the figures again, and the tables of that period as CSV.
    today = timezone.localdate(timezone.now(), world.demo.tzinfo)
    start, end = f"{today - timedelta(days=30):%Y-%m-%d}", f"{today:%Y-%m-%d}"
    show_period(page, start, end)
    assert fact(page, "Courses with a first dose in the period") == "1"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the tables (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"outcomes-demo-{start.replace('-', '')}-{end.replace('-', '')}.csv"
    lines = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert lines[0] == ["Outcomes and safety", world.demo.name]
    assert lines[1] == ["From", start, "Until (inclusive)", end]
    overall = next(line for line in lines if line and line[0] == "All courses")
    assert overall[1:3] == ["1", "0"] and overall[3].startswith("100.0% (95% CI")
    assert ["Sessions", "With a caution-level reading", "With a hard-stop reading"] in lines

    # The progress summary is clinical: Priya, on Jordan's care team, downloads it.
    prescriber = new_page()
    sign_in(prescriber, world.prescriber)
    prescriber.goto(f"/c/demo/courses/{course.public_id}/")
    card = prescriber.locator("#outcomes")
    expect(card.locator("#outcome-response")).to_have_text("yes")  # 18 -> 8: a drop of more than half
    with prescriber.expect_download() as download_info:
        card.get_by_role("link", name="Progress summary (PDF)").click()
    summary = download_info.value
    assert summary.suggested_filename.endswith(".pdf")
    assert Path(summary.path()).read_bytes().startswith(b"%PDF")
