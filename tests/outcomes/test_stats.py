"""The pure arithmetic of the reports: the Wilson interval against published values, response
and remission at their exact boundaries, suppression of small groups, rates per 100 sessions
and the bands."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.outcomes import stats
from kapflow.outcomes.stats import Rate


# --- the Wilson score interval --------------------------------------------------------------
@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Closed forms: 0/n -> [0, z^2/(n+z^2)]; n/n -> [n/(n+z^2), 1]; z^2 = 3.841459.
        (0, 10, 0.0, 0.2775),  # 3.841459 / 13.841459 = 0.27753
        (10, 10, 0.7225, 1.0),  # 10 / 13.841459 = 0.72247
        (1, 1, 0.2065, 1.0),  # 1 / 4.841459 = 0.20655
        (0, 1, 0.0, 0.7935),  # 3.841459 / 4.841459 = 0.79345
        # 0.5 +- z*sqrt(0.025 + z^2/400)/(1 + z^2/10) = 0.5 +- 0.26341
        (5, 10, 0.2366, 0.7634),
        # Newcombe, Stat Med 1998;17:857-872, table II, method 3 (Wilson score):
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(successes, n, low, high):
    got_low, got_high = stats.wilson(successes, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_at_the_ends_is_exactly_zero_and_one():
    assert stats.wilson(0, 10)[0] == 0.0
    assert stats.wilson(10, 10)[1] == 1.0
    assert stats.wilson(1, 1)[1] == 1.0


def test_wilson_of_nothing_is_zero_and_impossible_counts_are_refused():
    assert stats.wilson(0, 0) == (0.0, 0.0)
    with pytest.raises(ValueError):
        stats.wilson(11, 10)
    with pytest.raises(ValueError):
        stats.wilson(-1, 10)


@given(
    st.integers(min_value=1, max_value=100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))
)
def test_wilson_interval_contains_the_proportion_and_lies_in_zero_one(case):
    successes, n = case
    low, high = stats.wilson(successes, n)
    assert 0.0 <= low <= successes / n <= high <= 1.0


# --- response and remission at their boundaries ---------------------------------------------
@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (9, 0, None),  # a baseline of 9 is never eligible, whatever the drop
        (9, 4, None),
        (10, 5, True),  # 5 of 10 = exactly 50%
        (10, 6, False),  # 4 of 10 = 40%
        (11, 5, True),  # 6 of 11 = 54.5%
        (11, 6, False),  # 5 of 11 = 45.5%
        (27, 13, True),  # 14 of 27 = 51.9%
        (27, 14, False),  # 13 of 27 = 48.1%
        (20, 10, True),  # exactly 50%
        (20, 25, False),  # worse
        (None, 3, None),  # no baseline
        (15, None, None),  # no later score
    ],
)
def test_response_is_a_drop_of_at_least_half_from_a_baseline_above_nine(baseline, latest, expected):
    assert stats.is_response(baseline, latest) is expected


@pytest.mark.parametrize(
    ("latest", "expected"), [(0, True), (4, True), (5, False), (27, False), (None, None)]
)
def test_remission_is_a_score_below_five(latest, expected):
    assert stats.is_remission(latest) is expected


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [(10, 5, -50.0), (11, 6, -500 / 11), (9, 3, -600 / 9), (4, 8, 100.0), (0, 3, None), (None, 3, None)],
)
def test_percent_change(baseline, latest, expected):
    got = stats.percent_change(baseline, latest)
    assert got == (pytest.approx(expected) if expected is not None else None)


# --- rates and suppression ------------------------------------------------------------------
def test_a_rate_below_the_minimum_is_too_few_to_report():
    rate = Rate(3, 4, minimum=5)
    assert not rate.reportable
    assert rate.percent is None
    assert rate.interval is None
    assert rate.text() == "too few to report"


def test_a_rate_at_the_minimum_is_reported_with_its_interval():
    rate = Rate(3, 4, minimum=4)
    assert rate.reportable
    assert rate.percent == 75.0
    low, high = rate.interval or (0, 0)
    assert low == pytest.approx(30.06, abs=0.01)  # Wilson 3/4: 0.30064-0.95441
    assert high == pytest.approx(95.44, abs=0.01)
    assert rate.text() == "75.0% (95% CI 30.1-95.4; 3 of 4)"


def test_a_rate_of_nothing_is_never_reported_even_with_a_minimum_of_zero():
    assert Rate(0, 0, minimum=0).text() == "too few to report"
    assert Rate(1, 1, minimum=0).text() == "100.0% (95% CI 20.7-100.0; 1 of 1)"


@pytest.mark.parametrize(
    ("events", "sessions", "expected"), [(2, 14, 200 / 14), (0, 14, 0.0), (3, 100, 3.0), (5, 0, None)]
)
def test_per_hundred_sessions(events, sessions, expected):
    got = stats.per_hundred(events, sessions)
    assert got == (pytest.approx(expected) if expected is not None else None)


# --- bands ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("count", "band"),
    [
        (0, "none"),
        (1, "1-2"),
        (2, "1-2"),
        (3, "3-4"),
        (4, "3-4"),
        (5, "5-6"),
        (6, "5-6"),
        (7, "7 or more"),
        (40, "7 or more"),
    ],
)
def test_session_band(count, band):
    assert stats.session_band(count) == band


@pytest.mark.parametrize(
    ("mg_per_kg", "band"),
    [
        (None, "no weight recorded"),
        ("0", "under 0.5 mg/kg"),
        ("0.499", "under 0.5 mg/kg"),
        ("0.5", "0.5 to under 1 mg/kg"),
        ("0.999", "0.5 to under 1 mg/kg"),
        ("1", "1 to under 2 mg/kg"),
        ("1.999", "1 to under 2 mg/kg"),
        ("2", "2 to under 4 mg/kg"),
        ("3.999", "2 to under 4 mg/kg"),
        ("4", "4 mg/kg or more"),
        ("2000", "4 mg/kg or more"),
    ],
)
def test_dose_band_edges(mg_per_kg, band):
    assert stats.dose_band(Decimal(mg_per_kg) if mg_per_kg is not None else None) == band


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (18, "10-19"),
        (19, "10-19"),
        (20, "20-29"),
        (29, "20-29"),
        (30, "30-39"),
        (89, "80-89"),
        (90, "90+"),
        (104, "90+"),
    ],
)
def test_age_band_puts_ninety_and_over_together(age, band):
    assert stats.age_band(age) == band
