"""The outcomes downloads: the dashboard's tables as CSV, and the de-identified research export.

The research export is searched for every identifying value of every demo patient (and of the
staff): none may appear. Its dates are moved by a per-patient offset that keeps the intervals.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kapflow.accounts.models import Membership, User
from kapflow.clinics.models import Clinic
from kapflow.core.models import AccessLogEntry
from kapflow.courses.models import TreatmentCourse
from kapflow.dosing.models import AdverseEvent, DosingSession
from kapflow.measures.models import MeasureResponse
from kapflow.outcomes import dashboard, exports
from kapflow.outcomes.forms import PeriodForm
from kapflow.patients.models import ClinicalBackground, Patient
from kapflow.portal.models import PortalAccount
from tests.dosing.helpers import backdate, dosed, make_lot, make_ready

ALL_TIME = {"start": "2000-01-01", "end": "2999-12-31"}
COLUMNS = [
    "row_type",
    "patient",
    "course",
    "age_band_at_course_start",
    "sex_at_birth",
    "route",
    "course_status",
    "planned_sessions",
    "days_from_first_dose",
    "shifted_date",
    "instrument",
    "total",
    "band",
    "session_number",
    "session_status",
    "dose_mg",
    "mg_per_kg",
    "boosters",
    "minutes_to_discharge",
    "events_nausea_vomiting",
    "events_hypertension",
    "events_tachycardia",
    "events_agitation",
    "events_sedation",
    "events_respiratory_depression",
    "events_desaturation",
    "events_other",
    "events_serious",
]
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)
CLOCK_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")


def url(name: str, clinic: str = "demo") -> str:
    return reverse(f"outcomes:{name}", kwargs={"clinic": clinic})


def research_rows(response) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    assert reader.fieldnames == COLUMNS
    return list(reader)


def local_day(clinic: Clinic, at: datetime) -> date:
    return at.astimezone(clinic.tzinfo).date()


def respond(world, key: str, total: int, at: datetime, *, patient: Patient | None = None) -> MeasureResponse:
    return MeasureResponse.objects.create(
        clinic=world.demo,
        patient=patient or world.patient,
        instrument_key=key,
        instrument_version="1",
        instrument_name=key.upper(),
        answers={},
        total=total,
        band="Moderate",
        answered_at=at,
        source="staff",
    )


@pytest.fixture
def treated(world):
    """Jordan's sublingual course: a 200 mg first dose (70 kg) ten days ago; PHQ-9 18 and
    GAD-7 12 twenty days ago (the baseline), PHQ-9 7 and GAD-7 6 three days ago."""
    world.demo.report_min_group = 1
    world.demo.save()
    course = make_ready(world)
    session = dosed(world, course, make_lot(world))
    backdate(session, 10 * 24 * 60)
    now = timezone.now()
    respond(world, "phq9", 18, now - timedelta(days=20))
    respond(world, "gad7", 12, now - timedelta(days=20, hours=1))
    respond(world, "phq9", 7, now - timedelta(days=3))
    respond(world, "gad7", 6, now - timedelta(days=3, hours=1))
    return course


def recent(days: int = 60) -> dict[str, str]:
    today = timezone.localdate()
    return {"start": (today - timedelta(days=days)).isoformat(), "end": today.isoformat()}


def exports_logged(member: Membership) -> list[AccessLogEntry]:
    return list(
        AccessLogEntry.objects.filter(
            user_id=member.user_id, action="export", category="outcomes", outcome="allowed"
        ).order_by("seq")
    )


# --- the acceptance test: nothing identifying in the research export ---------------------------
def identifying_values(patient: Patient) -> tuple[list[str], list[str]]:
    """(names to look for as whole words, other values to look for anywhere)."""
    words = [patient.legal_given_name, patient.legal_family_name, patient.preferred_name]
    born = patient.date_of_birth
    values = [
        patient.email,
        patient.phone,
        re.sub(r"\D", "", patient.phone),
        patient.record_number,
        f"{born:%Y-%m-%d}",
        f"{born:%m/%d/%Y}",
        f"{born:%d.%m.%Y}",
        patient.emergency_contact_name,
        patient.emergency_contact_phone,
        re.sub(r"\D", "", patient.emergency_contact_phone),
        str(patient.public_id),
        patient.public_id.hex,
        *(line.strip() for line in patient.address.splitlines()),
    ]
    background = ClinicalBackground.objects.filter(patient=patient).first()
    if background is not None:
        values.append(background.referral_source)
    portal = PortalAccount.objects.filter(patient=patient).select_related("user").first()
    if portal is not None:
        values.append(portal.user.email)
    records: list[Any] = [
        *TreatmentCourse.objects.filter(patient=patient),
        *DosingSession.objects.filter(patient=patient),
        *MeasureResponse.objects.filter(patient=patient),
        *AdverseEvent.objects.filter(patient=patient),
    ]
    values += [str(r.public_id) for r in records] + [r.public_id.hex for r in records]
    for session in DosingSession.objects.filter(patient=patient):
        values += [session.escort_name, session.discharge_note, session.concomitant_medications]
    values += [e.description for e in AdverseEvent.objects.filter(patient=patient)]
    return [w for w in words if w], [v for v in values if v]


def real_dates(patient: Patient) -> set[date]:
    clinic = patient.clinic
    days: set[date] = set()
    for answered_at in MeasureResponse.objects.filter(patient=patient).values_list("answered_at", flat=True):
        days.add(local_day(clinic, answered_at))
    for session in DosingSession.objects.filter(patient=patient):
        for at in (session.checked_in_at, session.first_administered_at, session.discharged_at):
            if at is not None:
                days.add(local_day(clinic, at))
    for course in TreatmentCourse.objects.filter(patient=patient):
        days.update(d for d in (course.starts_on, course.ended_on) if d is not None)
    return days


@pytest.mark.django_db
def test_the_research_export_contains_none_of_the_patients_identifiers(client):
    call_command("demo", stdout=io.StringIO())
    demo = Clinic.objects.get(slug="demo")
    client.force_login(User.objects.get(email="admin@demo.kapflow.test"))

    response = client.get(url("research_csv"), ALL_TIME)

    assert response.status_code == 200
    text = response.content.decode()
    rows = research_rows(response)
    # Not empty: every demo course with a dose given is there, with its answers and sessions.
    dosed_courses = TreatmentCourse.objects.filter(
        clinic=demo,
        voided_at__isnull=True,
        dosing_sessions__first_administered_at__isnull=False,
        dosing_sessions__voided_at__isnull=True,
    ).distinct()
    assert dosed_courses.count() >= 5
    assert {r["course"] for r in rows} == {exports.course_pseudonym(c.pk) for c in dosed_courses}
    assert {r["row_type"] for r in rows} == {"response", "session"}
    assert {r["instrument"] for r in rows if r["row_type"] == "response"} >= {"phq9", "gad7"}

    # The shifted dates are checked row by row below: a moved date may fall by chance on the
    # real date of another record, which tells nothing. Every other cell is searched here.
    shifted_at = COLUMNS.index("shifted_date")
    others = io.StringIO()
    for line in csv.reader(io.StringIO(text)):
        csv.writer(others).writerow(line[:shifted_at] + line[shifted_at + 1 :])
    rest = others.getvalue()

    patients = list(Patient.objects.all())
    assert len(patients) >= 8
    for patient in patients:
        words, values = identifying_values(patient)
        for word in words:
            assert not re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE), (
                patient.record_number,
                word,
            )
        for value in values:
            assert value.lower() not in text.lower(), (patient.record_number, value)
        for day in real_dates(patient):
            for written in (f"{day:%Y-%m-%d}", f"{day:%m/%d/%Y}", f"{day:%d.%m.%Y}"):
                assert written not in rest, (patient.record_number, written)
        # Each of the patient's rows carries a real date of theirs moved by their offset (never 0).
        offset = exports.shift_days(patient.pk)
        assert offset != 0 and -182 <= offset <= 182
        theirs = [r for r in rows if r["patient"] == exports.patient_pseudonym(patient.pk)]
        for row in theirs:
            day = date.fromisoformat(row["shifted_date"])
            assert day - timedelta(days=offset) in real_dates(patient)

    staff = User.objects.filter(memberships__isnull=False).distinct()
    assert staff.count() >= 7
    for user in staff:
        assert user.full_name.lower() not in text.lower()
        assert user.email.lower() not in text.lower()
    assert demo.name not in text
    assert not UUID.search(text), "no public id of any record"
    assert not CLOCK_TIME.search(text), "no time of day"
    for row in rows:
        assert re.fullmatch(r"[0-9a-f]{12}", row["patient"]) and re.fullmatch(r"[0-9a-f]{12}", row["course"])
        assert row["age_band_at_course_start"] in {"90+"} | {f"{n}-{n + 9}" for n in range(0, 90, 10)}


# --- the dashboard CSV ---------------------------------------------------------------------------
def test_the_dashboard_csv_has_the_dashboards_tables_and_numbers(world, treated, login):
    period = recent()
    response = login(world.admin).get(url("dashboard_csv"), period)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    first, last = period["start"].replace("-", ""), period["end"].replace("-", "")
    assert response["Content-Disposition"] == f'attachment; filename="outcomes-demo-{first}-{last}.csv"'

    form = PeriodForm(period)
    with timezone.override(world.demo.tzinfo):
        assert form.is_valid()
        start, end = form.bounds()
        built = dashboard.build(world.demo, start, end)
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[1] == ["From", period["start"], "Until (inclusive)", period["end"]]
    for table in built.tables:
        at = lines.index([table.title])
        assert lines[at - 1] == [], f"a blank line before {table.title}"
        assert lines[at + 1] == list(table.columns)
        body = lines[at + 2 : at + 2 + len(table.rows)]
        assert body == [[str(v) for v in row] for row in table.rows], table.key
        after = lines[at + 2 + len(table.rows) :]
        assert after == [] or after[0] in ([], [table.note])

    overall = lines[lines.index(list(dashboard.OUTCOME_COLUMNS)) + 1]
    assert overall[:3] == ["All courses", "1", "0"]
    assert overall[3].startswith("100.0% (95% CI")  # PHQ-9 18 -> 7: a response
    assert overall[4].startswith("0.0% (95% CI")  # 7 is not below 5: no remission
    assert overall[5:] == ["-11.0", "-6.0"]  # numbers as written, never quoted as text
    sessions = lines[
        lines.index(["Sessions", "With a caution-level reading", "With a hard-stop reading"]) + 1
    ]
    assert sessions == ["1", "0", "0"]


def test_text_that_starts_like_a_formula_is_quoted_and_numbers_are_not():
    assert exports.cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert exports.cell("@SUM(A1)") == "'@SUM(A1)"
    assert exports.cell("-cmd") == "'-cmd"
    assert exports.cell("-11.0") == "-11.0"
    assert exports.cell("+1.5") == "+1.5"
    assert exports.cell(-3) == "-3"
    assert exports.cell(None) == ""


# --- who may download, and the access log -------------------------------------------------------
@pytest.mark.parametrize("persona", ["frontdesk", "therapist"])
def test_front_desk_and_therapists_are_refused_both_downloads_and_the_refusal_is_logged(
    world, treated, login, persona
):
    member = world.member(persona)
    client = login(member)
    for name in ("dashboard_csv", "research_csv"):
        assert client.get(url(name), recent()).status_code == 403
    denied = AccessLogEntry.objects.filter(user_id=member.user_id, category="outcomes", outcome="denied")
    assert denied.count() == 2
    assert all("outcomes.export" in entry.detail for entry in denied)
    assert exports_logged(member) == []


@pytest.mark.parametrize("persona", ["admin", "prescriber", "nurse"])
def test_admins_prescribers_and_nurses_download_both(world, treated, login, persona):
    client = login(world.member(persona))
    assert client.get(url("dashboard_csv"), recent()).status_code == 200
    rows = research_rows(client.get(url("research_csv"), recent()))
    assert len(rows) == 5  # four answers and one session


def test_the_other_clinics_admin_gets_their_own_empty_data_never_demos(world, treated, login):
    client = login(world.other_admin)
    for name in ("dashboard_csv", "research_csv"):
        assert client.get(url(name), ALL_TIME).status_code == 404  # Demo's address: not theirs

    research = client.get(url("research_csv", "other"), ALL_TIME)
    assert research.status_code == 200
    assert research_rows(research) == []
    board = client.get(url("dashboard_csv", "other"), ALL_TIME)
    assert board.status_code == 200
    text = board.content.decode()
    assert "Other KAP Clinic" in text and "Demo KAP Clinic" not in text
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[lines.index(list(dashboard.OUTCOME_COLUMNS)) + 1][:2] == ["All courses", "0"]
    assert exports.patient_pseudonym(world.patient.pk) not in research.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-02-30", "end": "2026-03-31"},
        {"start": "2026-03-31", "end": "2026-03-01"},
        {"start": "1999-12-31", "end": "2026-03-01"},
        {"start": "2026-01-01"},
        {"start": "soon", "end": "later"},
    ],
)
def test_a_bad_period_answers_400_and_exports_nothing(world, treated, login, query):
    client = login(world.admin)
    for name in ("dashboard_csv", "research_csv"):
        response = client.get(url(name), query)
        assert response.status_code == 400
        assert not response["Content-Type"].startswith("text/csv")
        assert "Content-Disposition" not in response
    assert exports_logged(world.admin) == []


def test_each_download_is_logged_as_an_export(world, treated, login):
    client = login(world.prescriber)
    client.get(url("dashboard_csv"), recent())
    client.get(url("research_csv"), recent())
    client.get(url("research_csv"), recent())

    logged = exports_logged(world.prescriber)
    assert len(logged) == 3
    assert all(entry.clinic_id == world.demo.pk and entry.patient_id is None for entry in logged)
    assert logged[0].detail.startswith("outcomes dashboard CSV")
    assert logged[1].detail.startswith("de-identified research CSV")
    assert logged[1].detail.endswith(": 5 rows, 1 courses")


# --- what the research rows hold ---------------------------------------------------------------
def test_the_shifted_dates_of_a_patient_keep_their_intervals_and_are_not_the_real_ones(world, treated, login):
    rows = research_rows(login(world.prescriber).get(url("research_csv"), recent()))
    answers = list(
        MeasureResponse.objects.filter(patient=world.patient, instrument_key="phq9").order_by("answered_at")
    )
    session = DosingSession.objects.get(course=treated)
    phq = sorted((r for r in rows if r["instrument"] == "phq9"), key=lambda r: int(r["days_from_first_dose"]))
    dose = next(r for r in rows if r["row_type"] == "session")
    assert [int(r["days_from_first_dose"]) for r in phq] == [-10, 7]
    assert dose["days_from_first_dose"] == "0"

    real = [local_day(world.demo, a.answered_at) for a in answers]
    assert session.first_administered_at is not None
    real_dose = local_day(world.demo, session.first_administered_at)
    moved = [date.fromisoformat(r["shifted_date"]) for r in phq]
    moved_dose = date.fromisoformat(dose["shifted_date"])
    assert moved[1] - moved[0] == real[1] - real[0]
    assert moved_dose - moved[0] == real_dose - real[0]
    assert all(m != r for m, r in zip(moved, real, strict=True)) and moved_dose != real_dose
    assert len({m - r for m, r in zip([*moved, moved_dose], [*real, real_dose], strict=True)}) == 1


def test_a_row_holds_the_course_the_answer_and_the_session_without_identifiers(world, treated, login):
    client = login(world.admin)
    rows = research_rows(client.get(url("research_csv"), recent()))
    assert rows == research_rows(client.get(url("research_csv"), recent())), "stable between exports"

    pseudonym = exports.patient_pseudonym(world.patient.pk)
    assert {r["patient"] for r in rows} == {pseudonym}
    assert {r["course"] for r in rows} == {exports.course_pseudonym(treated.pk)}
    assert pseudonym != exports.course_pseudonym(world.patient.pk)
    age = world.patient.age_on(treated.starts_on)
    for row in rows:
        assert row["age_band_at_course_start"] == f"{age // 10 * 10}-{age // 10 * 10 + 9}"
        assert row["sex_at_birth"] == ""  # not recorded for Jordan here
        assert (row["route"], row["course_status"], row["planned_sessions"]) == ("sublingual", "active", "6")
    baseline = next(r for r in rows if r["instrument"] == "phq9" and r["days_from_first_dose"] == "-10")
    assert (baseline["total"], baseline["band"], baseline["session_number"]) == ("18", "Moderate", "")
    session = next(r for r in rows if r["row_type"] == "session")
    assert session["session_number"] == "1" and session["session_status"] == "in_session"
    assert (session["dose_mg"], session["mg_per_kg"], session["boosters"]) == ("200", "2.857", "0")
    assert session["minutes_to_discharge"] == ""  # not discharged yet
    assert session["events_nausea_vomiting"] == "0" and session["instrument"] == ""


def test_adverse_events_are_counted_by_kind_without_their_text(world, treated, login):
    session = DosingSession.objects.get(course=treated)
    for kind, serious in (("nausea_vomiting", False), ("nausea_vomiting", False), ("hypertension", True)):
        AdverseEvent.objects.create(
            clinic=world.demo,
            session=session,
            patient=world.patient,
            kind=kind,
            description="Vomited twice in the recovery chair",
            severity="mild",
            serious=serious,
            occurred_at=timezone.now(),
            intervention="Ondansetron 4 mg",
            outcome="resolved",
            recorded_by=world.prescriber.user,
        )
    response = login(world.admin).get(url("research_csv"), recent())
    row = next(r for r in research_rows(response) if r["row_type"] == "session")
    assert (row["events_nausea_vomiting"], row["events_hypertension"], row["events_serious"]) == (
        "2",
        "1",
        "1",
    )
    assert row["dose_mg"] == "200", "the events do not multiply the dose"
    assert "Vomited" not in response.content.decode() and "Ondansetron" not in response.content.decode()
