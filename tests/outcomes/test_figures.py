"""Every figure of the dashboard computed by hand on the fixed data set (tests/outcomes/fixtures.py)
and compared with what the queries and ``dashboard.build`` answer.

March 2025 in Denver; the population is courses A-F (G's first dose falls on 28 February local
time). Rates are written as the text of ``stats.Rate``; their Wilson intervals were computed
independently (see test_stats.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kapflow.outcomes import dashboard, queries
from kapflow.outcomes.dashboard import TOO_FEW
from tests.outcomes import fixtures
from tests.outcomes.fixtures import END, START

# Wilson 95% intervals (as percentages, one decimal) used below.
R_3_4 = "75.0% (95% CI 30.1-95.4; 3 of 4)"
R_2_5 = "40.0% (95% CI 11.8-76.9; 2 of 5)"
R_1_1 = "100.0% (95% CI 20.7-100.0; 1 of 1)"
R_0_1 = "0.0% (95% CI 0.0-79.3; 0 of 1)"
R_2_2 = "100.0% (95% CI 34.2-100.0; 2 of 2)"
R_1_2 = "50.0% (95% CI 9.5-90.5; 1 of 2)"
R_0_2 = "0.0% (95% CI 0.0-65.8; 0 of 2)"
R_2_3 = "66.7% (95% CI 20.8-93.9; 2 of 3)"
R_0_3 = "0.0% (95% CI 0.0-56.1; 0 of 3)"
R_6_13 = "46.2% (95% CI 23.2-70.9; 6 of 13)"


@pytest.fixture
def fixed(world):
    world.demo.report_min_group = 1
    world.demo.save()
    return fixtures.build(world)


def board(world, start: datetime = START, end: datetime = END) -> dashboard.Dashboard:
    world.demo.refresh_from_db()
    return dashboard.build(world.demo, start, end)


# --- the courses, one by one ----------------------------------------------------------------
def test_each_course_has_its_baseline_latest_sessions_and_largest_dose(world, fixed):
    rows = {
        row["patient__record_number"]: row
        for row in queries.annotated_courses(world.demo, until=END).values(
            "patient__record_number",
            "phq_base",
            "phq_latest",
            "gad_base",
            "gad_latest",
            "sessions_held",
            "max_mg_per_kg",
        )
    }
    got = {
        key.removeprefix("OUT-"): (
            r["phq_base"],
            r["phq_latest"],
            r["gad_base"],
            r["gad_latest"],
            r["sessions_held"],
            queries.dose_value(r["max_mg_per_kg"]),
        )
        for key, r in rows.items()
    }
    dose = queries.dose_value
    assert got == {
        # A: baseline is the 10 of 1 Mar (not the 20 of 20 Feb); latest the 5 of 20 Mar (not the
        # 20 of 5 Apr, after the period); the 3 mg/kg booster is not the dose.
        "A": (10, 5, 12, 6, 2, dose("0.500")),
        # B: the voided session (5 mg/kg) counts for nothing.
        "B": (11, 6, None, None, 1, dose("0.499")),
        # C: the 9 of 25 Mar was corrected to 4.
        "C": (16, 4, 15, 5, 3, dose("2.000")),
        # D: the cancelled session is not held.
        "D": (12, 5, None, None, 1, dose("1.999")),
        # E: the voided 5 mg/kg administration is not the largest.
        "E": (9, 3, None, None, 5, dose("1.000")),
        # F: no score before the first dose; still in session; no weight.
        "F": (None, 7, None, None, 0, None),
        "G": (20, 2, None, None, 2, dose("1.000")),
    }


def test_the_population_is_the_courses_with_a_first_dose_in_the_period(world, fixed):
    population = queries.course_population(world.demo, START, END)
    got = sorted(population.values_list("patient__record_number", flat=True))
    # G's first dose is 23:30 on 28 February in Denver (06:30 on 1 March in UTC): outside.
    assert got == ["OUT-A", "OUT-B", "OUT-C", "OUT-D", "OUT-E", "OUT-F"]


def test_outcome_counts_of_the_period(world, fixed):
    counts = queries.outcome_counts(queries.course_population(world.demo, START, END))
    assert counts == queries.OutcomeCounts(
        courses=6,  # A-F
        with_baseline=5,  # A-E
        without_baseline=1,  # F, left out and counted
        response_eligible=4,  # baseline above 9 and a later score: A(10), B(11), C(16), D(12); not E(9)
        responders=3,  # A 10->5 (2*5 <= 10), C 16->4, D 12->5 (2*5 <= 12); not B 11->6 (2*6 > 11)
        remission_eligible=5,  # A-E
        remitters=2,  # C (4), E (3); not A or D (exactly 5)
        phq_mean_change=-7.0,  # (-5 - 5 - 12 - 7 - 6) / 5 = -35 / 5
        gad_eligible=2,  # A, C
        gad_mean_change=-8.0,  # (-6 - 10) / 2
    )


# --- safety and process figures -------------------------------------------------------------
def test_sessions_of_the_period(world, fixed):
    # A1 A2, B1, C1 C2 C3, D1, E1-E5, F1, G2 = 2 + 1 + 3 + 1 + 5 + 1 + 1 = 14
    # (not: B2 voided, D2 cancelled before a dose, G1 on 28 Feb local)
    assert queries.sessions_in(world.demo, START, END).count() == 14


def test_adverse_events_by_kind_and_serious(world, fixed):
    # nausea A1, C3; hypertension C2; desaturation E3 (serious); agitation G2. Not: the voided
    # tachycardia (A2), the sedation of voided session B2, the nausea of G1 (February).
    assert queries.events_by_kind(world.demo, START, END) == {
        "nausea_vomiting": 2,
        "hypertension": 1,
        "desaturation": 1,
        "agitation": 1,
    }
    assert queries.serious_events(world.demo, START, END) == 1


def test_blood_pressure_breaches_count_sessions_not_heart_rate(world, fixed):
    # caution: A1 (systolic 165 during), C1 (systolic 170), E1 (systolic 165 caution; its heart
    # rate 145 is a hard stop but not blood pressure), F1 (145 before the dose, above 140).
    # hard stop: C1 (diastolic 115 above 110). Not: D1 (heart rate only), the voided reading of
    # E2, G1 (February), B2 (voided session).
    assert queries.bp_breaches(world.demo, START, END) == {"sessions": 14, "caution": 4, "hard_stop": 1}


def test_minutes_from_first_dose_to_discharge_by_route(world, fixed):
    assert queries.discharge_minutes_by_route(world.demo, START, END) == [
        # C1 60, C2 75, C3 90, D1 47: (60 + 75 + 90 + 47) / 4 = 272 / 4 = 68
        {"route": "buccal", "n": 4, "mean": 68.0, "shortest": 47.0, "longest": 90.0},
        # E1-E5 60, 70, 80, 90, 100: 400 / 5 = 80 (F1 is still in session)
        {"route": "intramuscular", "n": 5, "mean": 80.0, "shortest": 60.0, "longest": 100.0},
        # A1 120, A2 90, B1 100, G2 110: 420 / 4 = 105
        {"route": "sublingual", "n": 4, "mean": 105.0, "shortest": 90.0, "longest": 120.0},
    ]


def test_integration_visits_within_the_due_days(world, fixed):
    assert world.demo.integration_due_days == 3
    # discharged sessions: A1 A2 B1 C1 C2 C3 D1 E1-E5 G2 = 13; in time (session's local day to
    # 3 days after): A1 (3 -> 6 Mar), B1 (4 Mar local, visit 4 Mar), C2 (12 -> 13), E2 (7 -> 8),
    # E4 (15 -> 16), G2 (5 -> 7) = 6
    assert queries.integration_on_time(world.demo, START, END) == {"sessions": 13, "on_time": 6}


def test_integration_due_days_is_the_clinics_setting(world, fixed):
    world.demo.integration_due_days = 4
    world.demo.save()
    # A2 (10 -> 14 Mar) is now in time as well: 7 of 13
    assert queries.integration_on_time(world.demo, START, END) == {"sessions": 13, "on_time": 7}


def test_questionnaires_due_answered_and_on_time(world, fixed):
    # due in March and not cancelled: A 1 Mar, B 10 Mar, E 12 Mar, D 15 Mar (missed), D 22 Mar
    # (due) = 5; completed A, B, E = 3; within 7 days: A (1 hour), B (exactly 7 days) = 2; E was
    # answered 7 days and 1 minute after due.
    assert queries.measures_on_time(world.demo, START, END) == {"due": 5, "completed": 3, "on_time": 2}


# --- the dashboard --------------------------------------------------------------------------
def test_dashboard_headline(world, fixed):
    built = board(world)
    headline = built.headline
    assert (headline["courses"], headline["sessions"], headline["without_baseline"]) == (6, 14, 1)
    assert headline["response"].text() == R_3_4  # 3 responders of 4 eligible
    assert headline["remission"].text() == R_2_5  # 2 remitters of 5 with a baseline
    assert built.minimum == 1


def test_dashboard_outcomes_overall_and_by_route(world, fixed):
    assert board(world).table("outcomes").rows == [
        ("All courses", 6, 1, R_3_4, R_2_5, "-7.0", "-8.0"),
        # C 16->4, D 12->5: both respond; C remits; (-12 - 7) / 2 = -9.5; GAD-7 C -10
        ("buccal", 2, 0, R_2_2, R_1_2, "-9.5", "-10.0"),
        # E (baseline 9, not eligible) and F (no baseline): none eligible; E remits; -6
        ("intramuscular", 2, 1, TOO_FEW, R_1_1, "-6.0", TOO_FEW),
        # A responds, B does not; neither remits; (-5 - 5) / 2 = -5; GAD-7 A -6
        ("sublingual", 2, 0, R_1_2, R_0_2, "-5.0", "-6.0"),
    ]


def test_dashboard_by_sessions_held(world, fixed):
    assert board(world).table("by_sessions").rows == [
        # A (2), B (1), D (1): A and D respond; none remits; (-5 - 5 - 7) / 3 = -5.67; GAD-7 A -6
        ("1-2", 3, 0, R_2_3, R_0_3, "-5.7", "-6.0"),
        ("3-4", 1, 0, R_1_1, R_1_1, "-12.0", "-10.0"),  # C
        ("5-6", 1, 0, TOO_FEW, R_1_1, "-6.0", TOO_FEW),  # E
        # F, still in its first session, has none held: counted in "All courses" only.
    ]


def test_dashboard_by_dose_band(world, fixed):
    assert board(world).table("by_dose").rows == [
        ("0.5 to under 1 mg/kg", 1, 0, R_1_1, R_0_1, "-5.0", "-6.0"),  # A (0.500 exactly)
        # D (1.999) responds; E (1.000) remits; (-7 - 6) / 2 = -6.5
        ("1 to under 2 mg/kg", 2, 0, R_1_1, R_1_2, "-6.5", TOO_FEW),
        ("2 to under 4 mg/kg", 1, 0, R_1_1, R_1_1, "-12.0", "-10.0"),  # C (2.000 exactly)
        ("no weight recorded", 1, 1, TOO_FEW, TOO_FEW, TOO_FEW, TOO_FEW),  # F
        ("under 0.5 mg/kg", 1, 0, R_0_1, R_0_1, "-5.0", TOO_FEW),  # B (0.499)
    ]


def test_dashboard_events_per_hundred_sessions(world, fixed):
    assert board(world).table("events").rows == [
        ("Nausea or vomiting", 2, "14.3"),  # 2 * 100 / 14 = 14.29
        ("Hypertension", 1, "7.1"),  # 100 / 14 = 7.14
        ("Tachycardia", 0, "0.0"),
        ("Agitation or emergence reaction", 1, "7.1"),
        ("Sedation", 0, "0.0"),
        ("Respiratory depression", 0, "0.0"),
        ("Desaturation", 1, "7.1"),
        ("Other", 0, "0.0"),
        ("Serious (any type)", 1, "7.1"),
    ]


def test_dashboard_safety_and_process_tables(world, fixed):
    built = board(world)
    assert built.table("bp").rows == [(14, 4, 1)]
    assert built.table("discharge").rows == [
        ("buccal", 4, "68", "47", "90"),
        ("intramuscular", 5, "80", "60", "100"),
        ("sublingual", 4, "105", "90", "120"),
    ]
    assert built.table("integration").rows == [(13, 6, R_6_13)]
    assert built.table("measures").rows == [(5, 3, 2, R_2_5)]


# --- small groups, empty periods, other clinics ---------------------------------------------
def test_a_larger_minimum_turns_small_groups_into_too_few_to_report(world, fixed):
    world.demo.report_min_group = 5
    world.demo.save()
    built = board(world)
    assert built.headline["response"].text() == TOO_FEW  # 4 eligible < 5
    assert built.headline["remission"].text() == R_2_5  # 5 eligible: shown
    outcomes = built.table("outcomes").rows
    assert outcomes[0] == ("All courses", 6, 1, TOO_FEW, R_2_5, "-7.0", TOO_FEW)  # GAD-7: 2 < 5
    for row in outcomes[1:]:  # two courses per route
        assert row[3:] == (TOO_FEW, TOO_FEW, TOO_FEW, TOO_FEW)
    assert built.table("events").rows[0] == ("Nausea or vomiting", 2, "14.3")  # 14 sessions >= 5
    assert built.table("discharge").rows == [
        ("buccal", 4, TOO_FEW, TOO_FEW, TOO_FEW),  # 4 < 5
        ("intramuscular", 5, "80", "60", "100"),
        ("sublingual", 4, TOO_FEW, TOO_FEW, TOO_FEW),
    ]
    assert built.table("integration").rows == [(13, 6, R_6_13)]
    assert built.table("measures").rows == [(5, 3, 2, R_2_5)]

    world.demo.report_min_group = 20
    world.demo.save()
    built = board(world)
    assert built.table("events").rows[0] == ("Nausea or vomiting", 2, TOO_FEW)  # 14 < 20
    assert built.table("events").rows[-1] == ("Serious (any type)", 1, TOO_FEW)
    assert built.table("integration").rows == [(13, 6, TOO_FEW)]
    assert built.table("measures").rows == [(5, 3, 2, TOO_FEW)]
    assert built.headline["remission"].text() == TOO_FEW


def test_a_period_with_no_data_gives_zeros_and_too_few_to_report(world, fixed):
    denver = ZoneInfo("America/Denver")
    built = board(world, datetime(2024, 1, 1, tzinfo=denver), datetime(2024, 2, 1, tzinfo=denver))
    assert (built.headline["courses"], built.headline["sessions"], built.headline["without_baseline"]) == (
        0,
        0,
        0,
    )
    assert built.headline["response"].text() == TOO_FEW
    assert built.headline["remission"].text() == TOO_FEW
    assert built.table("outcomes").rows == [("All courses", 0, 0, TOO_FEW, TOO_FEW, TOO_FEW, TOO_FEW)]
    assert built.table("by_sessions").rows == []
    assert built.table("by_dose").rows == []
    assert all(row[1:] == (0, TOO_FEW) for row in built.table("events").rows)
    assert built.table("bp").rows == [(0, 0, 0)]
    assert built.table("discharge").rows == []
    assert built.table("integration").rows == [(0, 0, TOO_FEW)]
    assert built.table("measures").rows == [(0, 0, 0, TOO_FEW)]


def test_the_latest_score_is_the_last_before_the_period_end(world, fixed):
    end = datetime(2025, 3, 20, tzinfo=ZoneInfo("America/Denver"))  # 1-19 March
    counts = queries.outcome_counts(queries.course_population(world.demo, START, end))
    # population: A (3 Mar), B (4 Mar), C (5 Mar), D (6 Mar), E (3 Mar); not F (28 Mar)
    assert (counts.courses, counts.with_baseline, counts.without_baseline) == (5, 5, 0)
    # latest before 20 Mar: A the 8 of 10 Mar (its 5 is on 20 Mar), B the 6 of 17 Mar, E the 3
    # of 19 Mar; C and D have none yet (25 and 27 Mar).
    # response: A 10 -> 8 (2*8 > 10), B 11 -> 6 (2*6 > 11): 0 of 2
    assert (counts.response_eligible, counts.responders) == (2, 0)
    # remission: A, B, E; E (3) remits: 1 of 3
    assert (counts.remission_eligible, counts.remitters) == (3, 1)
    # ((8 - 10) + (6 - 11) + (3 - 9)) / 3 = -13 / 3
    assert counts.phq_mean_change == pytest.approx(-13 / 3)


def test_other_clinics_data_never_counts(world, fixed):
    fixtures.build_other(world)
    built = board(world)
    assert (built.headline["courses"], built.headline["sessions"]) == (6, 14)
    assert built.table("bp").rows == [(14, 4, 1)]
    assert built.table("events").rows[-1] == ("Serious (any type)", 1, "7.1")
    assert built.table("measures").rows == [(5, 3, 2, R_2_5)]

    world.other.report_min_group = 1
    world.other.save()
    theirs = dashboard.build(world.other, START, END)
    assert (theirs.headline["courses"], theirs.headline["sessions"]) == (1, 1)
    assert theirs.headline["response"].text() == R_1_1  # Z: 20 -> 2
    assert theirs.table("bp").rows == [(1, 0, 1)]  # 190/120: hard stop only
    assert theirs.table("integration").rows == [(1, 1, R_1_1)]
    assert theirs.table("measures").rows == [(1, 1, 1, R_1_1)]


def test_a_clinic_with_no_data_at_all(world, fixed):
    other = dashboard.build(world.other, START, END)
    assert (other.headline["courses"], other.headline["sessions"]) == (0, 0)
    assert other.table("outcomes").rows == [("All courses", 0, 0, TOO_FEW, TOO_FEW, TOO_FEW, TOO_FEW)]
