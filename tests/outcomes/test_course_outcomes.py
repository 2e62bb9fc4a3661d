"""A course's outcomes: the figures worked out by hand (baseline, latest, change, response and
remission with the reason when they cannot be judged), the chart with each dosing session
marked, the progress summary PDF (never a psychotherapy note), and who may see them."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kapflow.core.models import AccessLogEntry, AuditAction, AuditOutcome, DataCategory
from kapflow.courses import psychotherapy_services
from kapflow.courses import services as course_services
from kapflow.courses.models import TreatmentCourse
from kapflow.dosing.models import DosingSession, SessionStatus
from kapflow.measures.models import MeasureResponse
from kapflow.outcomes import course as outcomes
from kapflow.outcomes import queries, stats
from kapflow.outcomes.course import Score
from tests.dosing.helpers import dosed, make_lot, make_ready

NOW = timezone.now()
NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7"}
THERAPY_SECRET = "ZEBRA-THERAPY-SECRET-42"
VISIT_SECRET = "PREP-NOTE-CONTENT-77"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def score(world, key: str, total: int, days_ago: float, **extra) -> MeasureResponse:
    return MeasureResponse.objects.create(
        clinic=world.demo,
        patient=world.patient,
        instrument_key=key,
        instrument_version="1",
        instrument_name=NAMES[key],
        answers={},
        total=total,
        answered_at=ago(days_ago),
        source="staff",
        **extra,
    )


def session_at(world, course: TreatmentCourse, lot, days_ago: float, *, close: bool = True) -> DosingSession:
    """A dosing session whose first dose was given ``days_ago`` (closed, so the next can start)."""
    session = dosed(world, course, lot)
    at = ago(days_ago)
    DosingSession.objects.filter(pk=session.pk).update(
        first_administered_at=at,
        checked_in_at=at - timedelta(minutes=30),
        **({"status": SessionStatus.DISCHARGED, "discharged_at": at + timedelta(hours=2)} if close else {}),
    )
    session.refresh_from_db()
    return session


@pytest.fixture
def course(world) -> TreatmentCourse:
    """Jordan's course: sessions 20 and 10 days ago (discharged) and one today (in session);
    PHQ-9 22 (40 days ago), 20 (baseline, 25 days ago), 14, then 10 yesterday; GAD-7 15
    (baseline) then 6."""
    course = make_ready(world)
    TreatmentCourse.objects.filter(pk=course.pk).update(starts_on=timezone.localdate() - timedelta(days=45))
    course.refresh_from_db()
    lot = make_lot(world)
    session_at(world, course, lot, 20)
    session_at(world, course, lot, 10)
    session_at(world, course, lot, 0.01, close=False)
    for total, days in ((22, 40), (20, 25), (14, 15), (10, 1)):
        score(world, "phq9", total, days)
    score(world, "gad7", 15, 30)
    score(world, "gad7", 6, 2)
    return course


def url(name: str, course: TreatmentCourse, clinic: str = "demo") -> str:
    return reverse(f"outcomes:{name}", kwargs={"clinic": clinic, "course_id": course.public_id})


# --- the figures ---------------------------------------------------------------------------------
def test_baseline_is_the_last_score_before_the_first_dose_and_latest_the_newest(world, course):
    result = outcomes.course_outcomes(course)
    phq, gad = result.phq9, result.gad7
    assert phq.baseline == Score(20, ago(25)) and phq.latest == Score(10, ago(1))
    assert (phq.change, phq.percent_change) == (-10, -50.0)
    assert (phq.change_text, phq.percent_text) == ("-10", "-50.0%")
    assert gad.baseline == Score(15, ago(30)) and gad.latest == Score(6, ago(2)) and gad.change == -9
    assert gad.percent_change == pytest.approx(-60.0)
    assert result.first_dose == ago(20)
    assert result.sessions_held == 2  # the session in progress is not held yet


def test_a_drop_of_exactly_half_is_a_response_and_ten_is_not_remission(world, course):
    result = outcomes.course_outcomes(course)
    assert result.response.met is True and result.response.reason == ""
    assert result.remission.met is False
    assert result.response.text == "yes" and result.remission.text == "no"
    assert result.response.definition == stats.RESPONSE_SOURCE
    assert result.remission.definition == stats.REMISSION_SOURCE


def test_one_point_short_of_half_is_not_a_response(world, course):
    score(world, "phq9", 11, 0.5)
    result = outcomes.course_outcomes(course)
    assert result.phq9.latest == Score(11, ago(0.5)) and result.response.met is False


def test_a_corrected_score_counts_in_place_of_the_one_it_replaces(world, course):
    latest = MeasureResponse.objects.get(instrument_key="phq9", total=10)
    score(world, "phq9", 4, 1, replaces=latest, correction_reason="misread")
    result = outcomes.course_outcomes(course)
    assert result.phq9.latest == Score(4, ago(1))
    assert result.response.met is True and result.remission.met is True


def test_the_figures_are_the_dashboards(world, course):
    counts = queries.outcome_counts(queries.annotated_courses(world.demo).filter(pk=course.pk))
    assert (counts.with_baseline, counts.response_eligible, counts.responders) == (1, 1, 1)
    assert (counts.remission_eligible, counts.remitters) == (1, 0)
    assert counts.phq_mean_change == outcomes.course_outcomes(course).phq9.change


def test_without_a_score_before_the_first_dose_there_is_no_baseline(world):
    course = make_ready(world)
    session_at(world, course, make_lot(world), 10)
    score(world, "phq9", 6, 2)
    result = outcomes.course_outcomes(course)
    assert result.phq9.baseline is None and result.phq9.latest == Score(6, ago(2))
    assert result.phq9.change is None and result.phq9.percent_text == "—"
    assert (result.response.met, result.response.reason) == (None, outcomes.NO_BASELINE)
    assert (result.remission.met, result.remission.reason) == (None, outcomes.NO_BASELINE)
    assert result.response.text == "not judged: no baseline"


def test_without_a_score_since_the_first_dose_nothing_is_judged(world):
    course = make_ready(world)
    score(world, "phq9", 18, 12)
    session_at(world, course, make_lot(world), 10)
    result = outcomes.course_outcomes(course)
    assert result.phq9.baseline == Score(18, ago(12)) and result.phq9.latest is None
    assert result.response.reason == outcomes.NO_LATER_SCORE == "no score since the first dose"
    assert result.remission.reason == outcomes.NO_LATER_SCORE


@pytest.mark.parametrize(
    ("baseline", "latest", "response", "reason", "remission"),
    [
        (9, 2, None, "baseline 9 or less: not eligible for response", True),
        (10, 5, True, "", False),  # the lowest eligible baseline, halved; 5 is not below 5
        (10, 4, True, "", True),
        (10, 6, False, "", False),
        (27, 13, True, "", False),  # 14 points down is more than half
        (27, 14, False, "", False),  # 13 points down is not
    ],
)
def test_boundaries_of_response_and_remission(world, baseline, latest, response, reason, remission):
    course = make_ready(world)
    score(world, "phq9", baseline, 12)
    session_at(world, course, make_lot(world), 10)
    score(world, "phq9", latest, 1)
    result = outcomes.course_outcomes(course)
    assert (result.response.met, result.response.reason) == (response, reason)
    assert result.remission.met is remission


def test_a_course_without_a_dose_has_neither_baseline_nor_judgement(world):
    course = make_ready(world)
    score(world, "phq9", 18, 2)
    result = outcomes.course_outcomes(course)
    assert result.first_dose is None and result.phq9.baseline is None and result.phq9.latest is None
    assert result.response.reason == result.remission.reason == outcomes.NO_DOSE
    assert [r.total for r in result.phq9.rows] == [18]  # still drawn: scored since the course began


def test_definitions_name_their_sources(world, course):
    texts = dict(outcomes.course_outcomes(course).definitions)
    assert texts["Response"] == stats.RESPONSE_SOURCE and texts["Remission"] == stats.REMISSION_SOURCE
    assert texts["Published comparison"] == stats.HULL
    assert "before the course's first dosing session" in texts["Baseline"]


# --- the chart -----------------------------------------------------------------------------------
def marker_labels(svg: str) -> list[str]:
    """matplotlib writes each text of the SVG as a comment before its glyphs."""
    return re.findall(r"<!-- (S\d+) -->", svg)


def test_the_chart_marks_each_dosing_session_on_the_time_axis(world, login, course):
    response = login(world.therapist).get(url("course_chart", course))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]  # styled by attributes, not CSS
    svg = response.content.decode()
    assert marker_labels(svg) == ["S1", "S2", "S3"]
    assert svg.count("<!-- baseline -->") == 1
    gad = login(world.prescriber).get(url("course_chart", course) + "?instrument=gad7").content.decode()
    assert marker_labels(gad) == ["S1", "S2", "S3"] and "GAD-7" in gad


def test_the_chart_draws_from_the_baseline_and_leaves_cancelled_sessions_out(world, course):
    DosingSession.objects.filter(course=course, number=3).update(status=SessionStatus.CANCELLED)
    result = outcomes.course_outcomes(course)
    assert [p.total for p in result.phq9.points] == [20, 14, 10]  # 22 came before the baseline
    assert [s.label for s in result.sessions] == ["S1", "S2"]
    assert marker_labels(outcomes.chart_svg(result, "phq9")) == ["S1", "S2"]
    assert [(r.what, r.total) for r in result.phq9.rows] == [
        ("PHQ-9", 20),
        ("Dosing session 1 (S1)", None),
        ("PHQ-9", 14),
        ("Dosing session 2 (S2)", None),
        ("PHQ-9", 10),
    ]


def test_an_unknown_instrument_is_not_found(world, login, course):
    assert login(world.therapist).get(url("course_chart", course) + "?instrument=cssrs").status_code == 404


# --- the course page -----------------------------------------------------------------------------
def test_the_course_page_shows_the_figures_the_charts_and_the_pdf_link(world, login, course):
    response = login(world.therapist).get(
        reverse("courses:course", kwargs={"clinic": "demo", "course_id": course.public_id})
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Progress summary (PDF)" in page and url("course_pdf", course) in page
    assert f'src="{url("course_chart", course)}?instrument=phq9"' in page
    assert f'src="{url("course_chart", course)}?instrument=gad7"' in page
    assert 'id="outcome-response">yes<' in page and 'id="outcome-remission">no<' in page
    assert stats.RESPONSE_SOURCE in page and stats.REMISSION_SOURCE in page and stats.HULL in page
    assert "-50.0%" in page and "Dosing session 3 (S3)" in page
    assert " style=" not in page


# --- the progress summary PDF --------------------------------------------------------------------
def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_progress_summary_downloads_with_the_scores_and_no_note_contents(world, login, course):
    psychotherapy_services.note_create(
        member=world.therapist, patient=world.patient, text=THERAPY_SECRET, course=course
    )
    visit = course_services.visit_create(
        member=world.therapist, course=course, kind="preparation", happened_on=timezone.localdate()
    )
    course_services.note_save_draft(
        member=world.therapist, note=visit.note, content={"readiness": VISIT_SECRET}, base_version=1
    )
    response = login(world.therapist).get(url("course_pdf", course))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith('attachment; filename="progress-summary-R-1-')
    text = pdf_text(response.content)
    assert "Patient progress summary" in text and "Jordan Rivera" in text
    assert "20 (" in text and "10 (" in text and "-50.0%" in text and "-60.0%" in text
    assert "Response" in text and "NQF 1884/1885" in text and "CMS159" in text
    assert "Dosing session 2" in text and "Preparation visit" in text
    assert "note signed" in text and "note in draft" in text
    assert THERAPY_SECRET not in text and VISIT_SECRET not in text
    assert THERAPY_SECRET.encode() not in response.content


def test_the_download_is_audited_as_an_export(world, login, course):
    login(world.prescriber).get(url("course_pdf", course))
    entry = AccessLogEntry.objects.filter(action=AuditAction.EXPORT).get()
    assert entry.category == DataCategory.OUTCOMES and entry.patient == world.patient
    assert entry.user_id == world.prescriber.user_id and str(course.public_id) in entry.detail


def test_without_weasyprint_the_summary_answers_503(world, login, course, monkeypatch):
    monkeypatch.setattr(outcomes, "_weasyprint", lambda: None)
    response = login(world.therapist).get(url("course_pdf", course))
    assert response.status_code == 503
    assert "cannot render PDFs" in response.content.decode()
    assert not AccessLogEntry.objects.filter(action=AuditAction.EXPORT).exists()


# --- who may ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["course_pdf", "course_chart"])
def test_front_desk_is_refused_and_the_refusal_is_logged(world, login, course, name):
    response = login(world.frontdesk).get(url(name, course))
    assert response.status_code == 403
    assert AccessLogEntry.objects.filter(
        user_id=world.frontdesk.user_id, patient=world.patient, outcome=AuditOutcome.DENIED
    ).exists()
    assert not AccessLogEntry.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize("name", ["course_pdf", "course_chart"])
def test_the_nurse_off_the_care_team_and_the_admin_are_refused(world, login, course, name):
    assert login(world.nurse).get(url(name, course)).status_code == 403
    assert login(world.admin).get(url(name, course)).status_code == 403


@pytest.mark.parametrize("name", ["course_pdf", "course_chart"])
def test_another_clinic_finds_nothing(world, login, course, name):
    assert login(world.other_therapist).get(url(name, course, clinic="other")).status_code == 404
    assert login(world.other_therapist).get(url(name, course)).status_code == 404


def test_post_is_not_allowed(world, login, course):
    assert login(world.therapist).post(url("course_pdf", course)).status_code == 405
    assert login(world.therapist).post(url("course_chart", course)).status_code == 405
