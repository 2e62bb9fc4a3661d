"""Vital signs against the protocol's limits (kapflow.dosing.vitals): exact boundaries, the
worst level reported, and readings no living patient shows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.dosing import protocol as rules
from kapflow.dosing.protocol import Limit
from kapflow.dosing.vitals import Level, breaches, implausible, worst

# caution/hard stop: systolic 140/160, diastolic 90/100, HR 110/130 and 50/40, SpO2 95/90
BEFORE = rules.example("sublingual").before
DURING = rules.example("sublingual").during
ABOVE = ["systolic", "diastolic", "heart_rate_high"]
BELOW = ["heart_rate_low", "spo2_low"]


def caution_of(name: str, limits: dict[str, Limit] = BEFORE) -> int:
    value = limits[name].caution
    assert value is not None
    return value


def hard_stop_of(name: str, limits: dict[str, Limit] = BEFORE) -> int:
    value = limits[name].hard_stop
    assert value is not None
    return value


def one(name: str, value: int, limits: dict[str, Limit] = BEFORE) -> list:
    vital, _ = rules.LIMITS[name]
    return breaches({vital: value}, {name: limits[name]})


# --- Boundaries -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ABOVE + BELOW)
@pytest.mark.parametrize("limits", [BEFORE, DURING], ids=["before", "during"])
def test_a_value_exactly_at_a_threshold_is_not_a_breach(name, limits):
    assert one(name, caution_of(name, limits), limits) == []
    # exactly at the hard stop is beyond the caution level, but not a hard stop
    [found] = one(name, hard_stop_of(name, limits), limits)
    assert found.level == Level.CAUTION


@pytest.mark.parametrize("name", ABOVE)
def test_one_above_an_upper_caution_level_is_a_caution(name):
    caution = caution_of(name)
    [found] = one(name, caution + 1)
    assert (found.limit, found.level, found.value, found.threshold) == (
        name,
        Level.CAUTION,
        caution + 1,
        caution,
    )
    assert f"{caution + 1} is above the caution level of {caution}." in found.message
    assert found.message.startswith(rules.LIMIT_LABELS[name])


@pytest.mark.parametrize("name", ABOVE)
def test_one_above_an_upper_hard_stop_is_a_hard_stop(name):
    hard = hard_stop_of(name)
    [found] = one(name, hard + 1)
    assert (found.level, found.value, found.threshold) == (Level.HARD_STOP, hard + 1, hard)
    assert f"{hard + 1} is above the hard stop of {hard}." in found.message


@pytest.mark.parametrize("name", BELOW)
def test_one_below_a_lower_caution_level_is_a_caution(name):
    caution = caution_of(name)
    [found] = one(name, caution - 1)
    assert (found.level, found.value, found.threshold) == (Level.CAUTION, caution - 1, caution)
    assert f"{caution - 1} is below the caution level of {caution}." in found.message


@pytest.mark.parametrize("name", BELOW)
def test_one_below_a_lower_hard_stop_is_a_hard_stop(name):
    hard = hard_stop_of(name)
    [found] = one(name, hard - 1)
    assert (found.level, found.threshold) == (Level.HARD_STOP, hard)
    assert f"{hard - 1} is below the hard stop of {hard}." in found.message


@pytest.mark.parametrize("name", BELOW)
def test_a_value_above_a_lower_limit_is_never_a_breach(name):
    assert one(name, caution_of(name) + 1) == []


@pytest.mark.parametrize("name", ABOVE)
def test_a_value_below_an_upper_limit_is_never_a_breach(name):
    assert one(name, caution_of(name) - 1) == []


def test_the_hard_stop_is_reported_rather_than_the_caution_when_both_are_crossed():
    found = breaches({"systolic": 175}, BEFORE)
    assert [(b.limit, b.level, b.threshold) for b in found] == [("systolic", Level.HARD_STOP, 160)]
    assert "caution" not in found[0].message


def test_each_crossed_limit_is_reported_once_at_its_own_worst_level():
    reading = {"systolic": 150, "diastolic": 105, "heart_rate": 72, "spo2": 93}
    found = {b.limit: b.level for b in breaches(reading, BEFORE)}
    assert found == {"systolic": Level.CAUTION, "diastolic": Level.HARD_STOP, "spo2_low": Level.CAUTION}
    assert worst(breaches(reading, BEFORE)) == Level.HARD_STOP


def test_heart_rate_is_judged_against_both_its_high_and_low_limits():
    assert [b.limit for b in breaches({"heart_rate": 135}, BEFORE)] == ["heart_rate_high"]
    assert [b.limit for b in breaches({"heart_rate": 45}, BEFORE)] == ["heart_rate_low"]
    assert breaches({"heart_rate": 72}, BEFORE) == []


def test_a_normal_reading_crosses_nothing():
    reading = {"systolic": 124, "diastolic": 80, "heart_rate": 72, "spo2": 98, "respiratory_rate": 14}
    assert breaches(reading, BEFORE) == []
    assert worst([]) == Level.OK


def test_missing_or_empty_vitals_are_not_judged():
    assert breaches({}, BEFORE) == []
    assert breaches({"systolic": None, "diastolic": None, "heart_rate": None, "spo2": None}, BEFORE) == []
    found = breaches({"systolic": None, "spo2": 80}, BEFORE)
    assert [b.limit for b in found] == ["spo2_low"]


def test_a_limit_without_a_caution_level_only_stops_at_its_hard_stop():
    limits = {"systolic": Limit(caution=None, hard_stop=160)}
    assert breaches({"systolic": 160}, limits) == []
    assert [b.level for b in breaches({"systolic": 161}, limits)] == [Level.HARD_STOP]


def test_a_limit_without_a_hard_stop_only_cautions():
    limits = {"spo2_low": Limit(caution=95, hard_stop=None)}
    assert [b.level for b in breaches({"spo2": 70}, limits)] == [Level.CAUTION]


def test_a_limit_with_neither_level_never_breaches():
    assert breaches({"systolic": 299}, {"systolic": Limit(None, None)}) == []


def test_only_the_limits_the_protocol_sets_are_judged():
    assert breaches({"systolic": 250, "spo2": 60}, {"spo2_low": BEFORE["spo2_low"]})[0].limit == "spo2_low"
    assert len(breaches({"systolic": 250, "spo2": 60}, {"spo2_low": BEFORE["spo2_low"]})) == 1


def test_the_worst_level_ranks_hard_stop_over_caution_over_ok():
    caution = breaches({"systolic": 150}, BEFORE)
    hard = breaches({"diastolic": 120}, BEFORE)
    assert worst(caution) == Level.CAUTION
    assert worst(hard) == Level.HARD_STOP
    assert worst(caution + hard) == Level.HARD_STOP
    assert worst(hard + caution) == Level.HARD_STOP


@given(name=st.sampled_from(ABOVE + BELOW), value=st.integers(min_value=0, max_value=320))
def test_property_the_level_follows_the_thresholds_for_any_value(name, value):
    vital, direction = rules.LIMITS[name]
    limit = BEFORE[name]
    beyond = (lambda t: value > t) if direction == rules.Direction.ABOVE else (lambda t: value < t)
    expected = (
        Level.HARD_STOP if beyond(limit.hard_stop) else Level.CAUTION if beyond(limit.caution) else Level.OK
    )
    assert worst(breaches({vital: value}, {name: limit})) == expected


# --- Implausible readings ---------------------------------------------------------------------


@pytest.mark.parametrize(("vital", "bounds"), sorted(rules.PHYSIOLOGICAL.items()))
def test_values_at_the_ends_of_the_physiological_range_are_plausible(vital, bounds):
    low, high = bounds
    assert implausible({vital: low}) == []
    assert implausible({vital: high}) == []


@pytest.mark.parametrize(("vital", "bounds"), sorted(rules.PHYSIOLOGICAL.items()))
def test_values_just_outside_the_physiological_range_are_typing_errors(vital, bounds):
    low, high = bounds
    for value in (low - 1, high + 1):
        [problem] = implausible({vital: value})
        assert f"{vital.replace('_', ' ')} {value} is outside {low}-{high}; check the reading." == problem


def test_a_blood_pressure_typed_in_the_wrong_order_is_refused():
    assert implausible({"systolic": 80, "diastolic": 120}) == [
        "The diastolic pressure must be below the systolic; check the reading."
    ]


def test_a_diastolic_equal_to_the_systolic_is_refused():
    assert "The diastolic pressure must be below the systolic; check the reading." in implausible(
        {"systolic": 100, "diastolic": 100}
    )


def test_a_diastolic_one_below_the_systolic_is_accepted():
    assert implausible({"systolic": 100, "diastolic": 99}) == []


def test_a_missing_pressure_or_unknown_vital_is_not_checked():
    assert implausible({"systolic": None, "diastolic": 80}) == []
    assert implausible({"systolic": 120, "diastolic": None}) == []
    assert implausible({"temperature": 1000}) == []


def test_every_implausible_value_is_named_at_once():
    problems = implausible({"systolic": 30, "diastolic": 250, "heart_rate": 300, "spo2": 101})
    assert len(problems) == 5  # four out of range, and the diastolic above the systolic
