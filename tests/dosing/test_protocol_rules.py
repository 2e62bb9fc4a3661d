"""Dosing protocols (kapflow.dosing.protocol): the shipped examples, and ``parse`` naming every
problem a medical director could type into a protocol."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.dosing import protocol as rules
from kapflow.dosing.protocol import CheckKind, DischargeItem, DoseUnit, Limit, Protocol, parse, to_json

ROUTES = ["sublingual", "buccal", "intramuscular", "intravenous", "nasal"]


def with_changes(example: str = "sublingual", /, **changes: Any) -> dict[str, Any]:
    """A deep copy of the shipped example for the route ``example`` with top-level keys replaced."""
    data = copy.deepcopy(rules.EXAMPLES[example])
    data.update(changes)
    return data


def problems_of(data: object) -> list[str]:
    protocol, problems = parse(data)
    assert protocol is None, "expected the protocol to be refused"
    assert problems
    return problems


def assert_problem(data: object, *fragments: str) -> None:
    problems = problems_of(data)
    joined = "\n".join(problems)
    for fragment in fragments:
        assert fragment in joined, f"{fragment!r} not in {problems}"


# --- The shipped examples ----------------------------------------------------------------


def test_an_example_is_shipped_for_every_route():
    assert sorted(rules.EXAMPLES) == sorted(ROUTES)


@pytest.mark.parametrize("route", ROUTES)
def test_every_shipped_example_parses_without_problems(route):
    protocol, problems = parse(rules.EXAMPLES[route])
    assert problems == []
    assert isinstance(protocol, Protocol)
    assert protocol.route == route
    assert rules.example(route) == protocol


@pytest.mark.parametrize("route", ROUTES)
def test_every_shipped_example_round_trips_through_json(route):
    protocol = rules.example(route)
    data = to_json(protocol)
    assert data == rules.EXAMPLES[route]
    again, problems = parse(data)
    assert problems == []
    assert again == protocol
    assert again is not None and to_json(again) == data


@pytest.mark.parametrize("route", ROUTES)
def test_every_example_names_its_sources_for_dose_monitoring_and_observation(route):
    sources = rules.EXAMPLES[route]["sources"]
    for key in ("dose", "monitoring", "min_observation"):
        assert sources.get(key, "").strip(), f"{route} has no source for {key}"
    assert rules.example(route).sources == sources


@pytest.mark.parametrize("route", ROUTES)
def test_every_example_is_internally_consistent(route):
    p = rules.example(route)
    assert p.dose_min <= p.dose_max <= p.max_cumulative
    assert p.monitoring[CheckKind.VITALS], "vital signs are always monitored"
    assert p.discharge_criteria == frozenset(DischargeItem)
    assert not p.hard_stop_overridable
    assert not p.dose_override_allowed
    for limits in (p.before, p.during):
        assert set(limits) == set(rules.LIMITS)


def test_per_kg_is_true_only_for_mg_per_kg_protocols():
    assert rules.example("intramuscular").per_kg
    assert rules.example("intravenous").per_kg
    assert rules.example("intravenous").infusion_minutes == 40
    for route in ("sublingual", "buccal", "nasal"):
        assert rules.example(route).dose_unit == DoseUnit.MG
        assert not rules.example(route).per_kg


def test_the_examples_pre_dose_limits_are_the_ones_the_gate_tests_rely_on():
    before = rules.example("sublingual").before
    assert before["systolic"] == Limit(caution=140, hard_stop=160)
    assert before["diastolic"] == Limit(caution=90, hard_stop=100)


# --- parse names each problem --------------------------------------------------------------


@pytest.mark.parametrize("data", [None, [], "protocol", 42, 1.5, True, ["route", "sublingual"]])
def test_anything_but_a_json_object_is_refused_with_one_clear_problem(data):
    assert parse(data) == (None, ["The protocol must be a JSON object."])


def test_an_empty_object_lists_every_missing_setting():
    problems = problems_of({})
    joined = "\n".join(problems)
    for key in (
        "route:",
        "dose_unit:",
        "dose_min:",
        "dose_max:",
        "max_cumulative:",
        "monitoring:",
        "before:",
        "during:",
        "min_observation_minutes:",
        "discharge_criteria:",
        "fasting_food_hours:",
        "fasting_liquid_minutes:",
        "pregnancy_test_required:",
        "weight_valid_days:",
        "hard_stop_overridable:",
        "dose_override_allowed:",
    ):
        assert key in joined, f"no problem names {key}"


@pytest.mark.parametrize("unit", ["mcg", "MG", "", None, 1, "mg/kg"])
def test_an_unknown_dose_unit_is_named(unit):
    assert_problem(with_changes(dose_unit=unit), "dose_unit: mg or mg_per_kg.")


def test_a_missing_or_empty_route_is_named():
    assert_problem(with_changes(route=""), "route:")
    assert_problem(with_changes(route=7), "route:")


def test_a_lowest_dose_above_the_highest_is_named():
    assert_problem(
        with_changes(dose_min="300", dose_max="200", max_cumulative="400"),
        "dose_min: the lowest dose cannot be above the highest.",
    )


def test_equal_lowest_and_highest_dose_is_accepted():
    protocol, problems = parse(with_changes(dose_min="200", dose_max="200"))
    assert problems == []
    assert protocol is not None and protocol.dose_min == protocol.dose_max == Decimal(200)


def test_a_cumulative_maximum_below_the_highest_single_dose_is_named():
    assert_problem(
        with_changes(dose_max="400", max_cumulative="300"),
        "max_cumulative: the cumulative maximum cannot be below the highest single dose.",
    )


@pytest.mark.parametrize(
    "value", ["0", "-5", "1000.01", "NaN", "Infinity", "-Infinity", "abc", "", None, True]
)
def test_a_dose_in_mg_outside_0_01_to_1000_or_not_a_number_is_named(value):
    assert_problem(with_changes(dose_min=value), "dose_min: a number from 0.01 to 1000.")


def test_a_dose_in_mg_per_kg_above_20_is_named():
    assert_problem(
        with_changes("intramuscular", dose_max="21", max_cumulative="21"),
        "dose_max: a number from 0.01 to 20.",
    )


def test_doses_may_be_json_numbers_as_well_as_strings():
    protocol, problems = parse(with_changes("intramuscular", dose_min=0.25, dose_max=1, max_cumulative=1.5))
    assert problems == []
    assert protocol is not None
    assert (protocol.dose_min, protocol.dose_max, protocol.max_cumulative) == (
        Decimal("0.25"),
        Decimal(1),
        Decimal("1.5"),
    )


@pytest.mark.parametrize(
    ("key", "name", "caution", "hard_stop", "side"),
    [
        ("before", "systolic", 170, 160, "below"),
        ("during", "diastolic", 111, 110, "below"),
        ("before", "heart_rate_high", 131, 130, "below"),
        ("before", "heart_rate_low", 39, 40, "above"),
        ("during", "spo2_low", 88, 90, "above"),
    ],
)
def test_a_caution_level_beyond_the_hard_stop_is_named_in_each_direction(key, name, caution, hard_stop, side):
    limits = copy.deepcopy(rules.EXAMPLES["sublingual"][key])
    limits[name] = {"caution": caution, "hard_stop": hard_stop}
    assert_problem(
        with_changes(**{key: limits}), f"{key}.{name}: the caution level must be {side} the hard stop."
    )


@pytest.mark.parametrize("name", list(rules.LIMITS))
def test_a_caution_level_equal_to_the_hard_stop_is_accepted(name):
    limits = copy.deepcopy(rules.EXAMPLES["sublingual"]["before"])
    limits[name] = {"caution": limits[name]["hard_stop"], "hard_stop": limits[name]["hard_stop"]}
    assert parse(with_changes(before=limits))[1] == []


def test_a_limit_with_only_a_caution_or_only_a_hard_stop_is_accepted():
    limits = {"systolic": {"caution": 140, "hard_stop": None}, "spo2_low": {"caution": None, "hard_stop": 90}}
    protocol, problems = parse(with_changes(before=limits))
    assert problems == []
    assert protocol is not None
    assert protocol.before == {"systolic": Limit(140, None), "spo2_low": Limit(None, 90)}


def test_an_unknown_limit_is_named():
    limits = {**rules.EXAMPLES["sublingual"]["during"], "temperature": {"caution": 38, "hard_stop": 39}}
    assert_problem(with_changes(during=limits), "during.temperature: not a known limit")


@pytest.mark.parametrize(
    "spec", [140, "140/160", [140, 160], {"caution": 140, "hard_stop": 160, "note": "x"}, None]
)
def test_a_limit_that_is_not_caution_and_hard_stop_is_named(spec):
    limits = {**rules.EXAMPLES["sublingual"]["before"], "systolic": spec}
    assert_problem(with_changes(before=limits), "before.systolic: give caution and hard_stop")


@pytest.mark.parametrize("value", [400, 49, "140", 140.5, True])
def test_a_limit_value_outside_what_a_body_shows_or_not_a_whole_number_is_named(value):
    limits = {**rules.EXAMPLES["sublingual"]["before"], "systolic": {"caution": value, "hard_stop": 160}}
    assert_problem(
        with_changes(before=limits), "before.systolic.caution: a whole number from 50 to 300, or null."
    )


@pytest.mark.parametrize("limits", [None, [], "strict", 1])
def test_limits_that_are_not_an_object_are_named(limits):
    assert_problem(with_changes(before=limits), "before: an object of limits")


def test_an_unknown_check_kind_is_named():
    monitoring = {"vitals": [0, 20], "temperature": [30]}
    assert_problem(with_changes(monitoring=monitoring), "monitoring.temperature: not a known check")


def test_duplicate_minutes_in_a_schedule_are_named():
    assert_problem(
        with_changes(monitoring={"vitals": [0, 20, 20, 40]}),
        "monitoring.vitals: a list of different minutes from 0 to 1440 (at most 100).",
    )


@pytest.mark.parametrize(
    "minutes", [[-1, 20], [0, 1441], [0, "20"], [0, 20.0], [0, True], "0,20", None, list(range(101))]
)
def test_schedule_minutes_must_be_a_short_list_of_whole_minutes_within_a_day(minutes):
    assert_problem(with_changes(monitoring={"vitals": [0], "moaas": minutes}), "monitoring.moaas: a list of")


def test_a_schedule_of_100_minutes_is_the_most_accepted():
    protocol, problems = parse(with_changes(monitoring={"vitals": list(range(100))}))
    assert problems == []
    assert protocol is not None and len(protocol.monitoring[CheckKind.VITALS]) == 100


@pytest.mark.parametrize(
    "monitoring", [{}, {"moaas": [20, 40]}, {"vitals": []}, {"vitals": [0, 0], "moaas": [20]}]
)
def test_a_protocol_without_a_vital_signs_schedule_is_named(monitoring):
    assert_problem(
        with_changes(monitoring=monitoring),
        "monitoring.vitals: at least one vital-signs check is required.",
    )


def test_monitoring_that_is_not_an_object_is_named():
    assert_problem(with_changes(monitoring=[0, 20, 40]), "monitoring: an object of check kinds")


def test_schedule_minutes_are_kept_in_time_order():
    protocol, problems = parse(with_changes(monitoring={"vitals": [60, 0, 20], "dissociation": [45, 15]}))
    assert problems == []
    assert protocol is not None
    assert protocol.monitoring == {CheckKind.VITALS: (0, 20, 60), CheckKind.DISSOCIATION: (15, 45)}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("min_observation_minutes", 14, "min_observation_minutes: a whole number from 15 to 1440."),
        ("min_observation_minutes", 1441, "min_observation_minutes: a whole number from 15 to 1440."),
        ("fasting_food_hours", -1, "fasting_food_hours: a whole number from 0 to 24."),
        ("fasting_food_hours", 25, "fasting_food_hours: a whole number from 0 to 24."),
        ("fasting_liquid_minutes", 1441, "fasting_liquid_minutes: a whole number from 0 to 1440."),
        ("weight_valid_days", 0, "weight_valid_days: a whole number from 1 to 365."),
        ("weight_valid_days", 366, "weight_valid_days: a whole number from 1 to 365."),
        ("infusion_minutes", 0, "infusion_minutes: a whole number from 1 to 600."),
        ("infusion_minutes", 601, "infusion_minutes: a whole number from 1 to 600."),
        ("min_observation_minutes", "120", "min_observation_minutes: a whole number"),
        ("min_observation_minutes", 120.0, "min_observation_minutes: a whole number"),
        ("weight_valid_days", True, "weight_valid_days: a whole number"),
    ],
)
def test_whole_numbers_out_of_range_or_of_the_wrong_type_are_named(key, value, message):
    assert_problem(with_changes(**{key: value}), message)


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [
        ("min_observation_minutes", 15, 1440),
        ("fasting_food_hours", 0, 24),
        ("fasting_liquid_minutes", 0, 1440),
        ("weight_valid_days", 1, 365),
        ("infusion_minutes", 1, 600),
    ],
)
def test_whole_numbers_at_both_ends_of_their_range_are_accepted(key, low, high):
    for value in (low, high):
        protocol, problems = parse(with_changes(**{key: value}))
        assert problems == []
        assert getattr(protocol, key) == value


def test_an_infusion_time_may_be_left_empty():
    protocol, problems = parse(with_changes(infusion_minutes=None))
    assert problems == [] and protocol is not None and protocol.infusion_minutes is None


@pytest.mark.parametrize("key", ["pregnancy_test_required", "hard_stop_overridable", "dose_override_allowed"])
@pytest.mark.parametrize("value", ["true", "false", "yes", 1, 0, None])
def test_yes_no_settings_given_as_strings_or_numbers_are_named(key, value):
    assert_problem(with_changes(**{key: value}), f"{key}: true or false.")


@pytest.mark.parametrize("key", ["pregnancy_test_required", "hard_stop_overridable", "dose_override_allowed"])
def test_yes_no_settings_given_as_true_are_kept(key):
    protocol, problems = parse(with_changes(**{key: True}))
    assert problems == []
    assert getattr(protocol, key) is True


@pytest.mark.parametrize("criteria", [None, "moaas_5", ["moaas_5", "sober"], [["moaas_5"]]])
def test_unknown_discharge_criteria_are_named(criteria):
    assert_problem(with_changes(discharge_criteria=criteria), "discharge_criteria: a list from")


@pytest.mark.parametrize("criteria", [[], ["vitals_ok", "moaas_5"]])
def test_the_minimum_observation_cannot_be_left_out_of_the_discharge_criteria(criteria):
    assert_problem(
        with_changes(discharge_criteria=criteria),
        "discharge_criteria: the minimum observation time is always a criterion.",
    )


def test_the_minimum_observation_alone_is_enough():
    protocol, problems = parse(with_changes(discharge_criteria=["min_observation"]))
    assert problems == [] and protocol is not None
    assert protocol.discharge_criteria == frozenset({DischargeItem.MIN_OBSERVATION})


@pytest.mark.parametrize("sources", [["dose"], {"dose": 5}, "Spravato"])
def test_sources_must_be_texts(sources):
    assert_problem(with_changes(sources=sources), "sources: an object of texts.")


@pytest.mark.parametrize("instrument", [5, "x" * 41, None])
def test_a_dissociation_instrument_must_be_a_short_key(instrument):
    assert_problem(with_changes(dissociation_instrument=instrument), "dissociation_instrument:")


def test_every_problem_is_reported_at_once_not_only_the_first():
    data = with_changes(
        dose_unit="grains",
        min_observation_minutes=5,
        pregnancy_test_required="no",
        monitoring={"pulse": [0]},
    )
    problems = problems_of(data)
    for prefix in (
        "dose_unit:",
        "min_observation_minutes:",
        "pregnancy_test_required:",
        "monitoring.pulse:",
        "monitoring.vitals:",
    ):
        assert any(p.startswith(prefix) for p in problems), prefix


# --- Property: junk never raises --------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["mg", "mg_per_kg", "vitals", "moaas", "NaN", "Infinity", "1e999999999", "0.25", "-1"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=20,
)
KEYS = sorted(rules.EXAMPLES["sublingual"])


def assert_well_formed(result: object) -> None:
    assert isinstance(result, tuple) and len(result) == 2
    protocol, problems = result
    assert isinstance(problems, list)
    assert all(isinstance(p, str) and p.strip() for p in problems)
    if protocol is None:
        assert problems, "a refused protocol names at least one problem"
    else:
        assert isinstance(protocol, Protocol)
        assert problems == []
        assert parse(to_json(protocol)) == (protocol, [])


@given(json_values)
def test_property_any_json_value_gives_a_protocol_or_named_problems(data):
    assert_well_formed(parse(data))


@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=len(KEYS)))
def test_property_an_object_with_the_right_keys_and_junk_values_never_raises(data):
    assert_well_formed(parse(data))


@given(
    route=st.sampled_from(ROUTES),
    changes=st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4),
    removed=st.sets(st.sampled_from(KEYS), max_size=3),
)
def test_property_an_example_with_some_values_spoiled_never_raises(route, changes, removed):
    data = with_changes(route, **changes)
    for key in removed:
        data.pop(key, None)
    assert_well_formed(parse(data))


limit_values = st.one_of(st.none(), st.integers(min_value=0, max_value=320))


@given(
    name=st.sampled_from(list(rules.LIMITS)),
    caution=limit_values,
    hard_stop=limit_values,
)
def test_property_a_limit_is_accepted_exactly_when_it_is_plausible_and_ordered(name, caution, hard_stop):
    vital, direction = rules.LIMITS[name]
    low, high = rules.PHYSIOLOGICAL[vital]
    limits = {**rules.EXAMPLES["sublingual"]["before"], name: {"caution": caution, "hard_stop": hard_stop}}
    protocol, problems = parse(with_changes(before=limits))
    plausible = all(v is None or low <= v <= high for v in (caution, hard_stop))
    ordered = (
        caution is None
        or hard_stop is None
        or (caution <= hard_stop if direction == rules.Direction.ABOVE else caution >= hard_stop)
    )
    assert (protocol is not None) == (plausible and ordered), problems
    if protocol is not None:
        assert protocol.before[name] == Limit(caution, hard_stop)
