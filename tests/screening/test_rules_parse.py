"""parse_rules() and rules_to_data(): the clinic-edited JSON form of a rule set."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kapflow.screening.rules import (
    DEFAULT_RULES,
    Condition,
    Level,
    MedClass,
    RulesError,
    RuleSet,
    parse_rules,
    rules_to_data,
)


def default_data() -> dict[str, Any]:
    return copy.deepcopy(rules_to_data(DEFAULT_RULES))


def problems_of(data: object) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(data)
    return caught.value.problems


def test_the_default_rules_round_trip_through_json():
    data = rules_to_data(DEFAULT_RULES)
    assert parse_rules(json.loads(json.dumps(data))) == DEFAULT_RULES


def test_the_data_form_is_plain_json():
    data = rules_to_data(DEFAULT_RULES)
    assert data["version"] == "example-1"
    assert data["example"] is True
    assert data["bp_caution"] == [140, 90]
    assert data["bp_hard_stop"] == [180, 110]
    assert data["min_adequate_trials"] == 2
    assert data["caution_med_classes"] == [m.value for m in MedClass]
    assert data["conditions"][0] == {
        "key": "aneurysmal_vascular_disease",
        "label": "Aneurysmal vascular disease or arteriovenous malformation",
        "level": "hard_stop",
        "source": "Spravato (esketamine) label (contraindication)",
    }


def test_a_clinic_rule_set_round_trips():
    rules = RuleSet(
        version="clinic-2026-03",
        conditions=(Condition("asthma", "Asthma", Level.INFO, "Clinic list"),),
        bp_caution=(130, 85),
        bp_hard_stop=(160, 100),
        min_adequate_trials=0,
        caution_med_classes=frozenset({MedClass.OPIOID}),
        example=False,
    )
    assert parse_rules(rules_to_data(rules)) == rules
    assert parse_rules(rules_to_data(RuleSet("empty", ()))) == RuleSet("empty", ())


def test_optional_settings_take_the_shipped_defaults():
    rules = parse_rules({"version": "v", "conditions": []})
    assert rules == RuleSet(version="v", conditions=())
    assert rules.example is True
    assert rules.caution_med_classes == frozenset(MedClass)


def test_an_empty_med_class_list_means_no_medication_cautions():
    data = default_data() | {"caution_med_classes": []}
    assert parse_rules(data).caution_med_classes == frozenset()


def edited(**changes: Any) -> dict[str, Any]:
    return default_data() | changes


def with_condition(index: int, **changes: Any) -> dict[str, Any]:
    data = default_data()
    data["conditions"][index] |= changes
    return data


def without(key: str) -> dict[str, Any]:
    data = default_data()
    del data[key]
    return data


def without_condition_field(index: int, key: str) -> dict[str, Any]:
    data = default_data()
    del data["conditions"][index][key]
    return data


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "the rule set must be a JSON object"),
        ("rules", "the rule set must be a JSON object"),
        (None, "the rule set must be a JSON object"),
        (edited(colour="blue"), "unknown key 'colour'"),
        (without("version"), "'version' is required"),
        (edited(version=""), "version must be a non-empty string"),
        (edited(version="   "), "version must be a non-empty string"),
        (edited(version=3), "version must be a non-empty string"),
        (edited(example="yes"), "example must be true or false"),
        (without("conditions"), "'conditions' is required"),
        (edited(conditions={"a": 1}), "conditions must be a list"),
        (edited(conditions=["asthma"]), "conditions[0] must be an object"),
        (with_condition(1, colour="red"), "conditions[1]: unknown key 'colour'"),
        (without_condition_field(2, "source"), "conditions[2]: 'source' is required"),
        (without_condition_field(0, "key"), "conditions[0]: 'key' is required"),
        (
            with_condition(3, level="severe"),
            "conditions[3].level must be one of hard_stop, caution, info, got 'severe'",
        ),
        (
            with_condition(3, level="HARD_STOP"),
            "conditions[3].level must be one of hard_stop, caution, info, got 'HARD_STOP'",
        ),
        (with_condition(4, source=""), "conditions[4].source must be a non-empty string"),
        (with_condition(4, source=" "), "conditions[4].source must be a non-empty string"),
        (with_condition(5, label=""), "conditions[5].label must be a non-empty string"),
        (with_condition(5, label=None), "conditions[5].label must be a non-empty string"),
        (
            with_condition(0, key="Liver Disease"),
            "conditions[0].key must be lower-case letters, digits and underscores, got 'Liver Disease'",
        ),
        (
            with_condition(0, key=""),
            "conditions[0].key must be lower-case letters, digits and underscores, got ''",
        ),
        (
            with_condition(0, key=7),
            "conditions[0].key must be lower-case letters, digits and underscores, got 7",
        ),
        (with_condition(5, key="hepatic_impairment"), "conditions[5]: duplicate key 'hepatic_impairment'"),
        (edited(bp_caution=[140]), "bp_caution must be [systolic, diastolic], two positive whole numbers"),
        (edited(bp_caution="140/90"), "bp_caution must be [systolic, diastolic], two positive whole numbers"),
        (
            edited(bp_caution=[140, 90.5]),
            "bp_caution must be [systolic, diastolic], two positive whole numbers",
        ),
        (
            edited(bp_caution=[140, True]),
            "bp_caution must be [systolic, diastolic], two positive whole numbers",
        ),
        (
            edited(bp_hard_stop=[0, 110]),
            "bp_hard_stop must be [systolic, diastolic], two positive whole numbers",
        ),
        (
            edited(bp_hard_stop=[180, 110, 1]),
            "bp_hard_stop must be [systolic, diastolic], two positive whole numbers",
        ),
        (
            edited(bp_hard_stop=[140, 110]),
            "bp_hard_stop (140/110) must be above bp_caution (140/90) for both systolic and diastolic",
        ),
        (
            edited(bp_hard_stop=[180, 90]),
            "bp_hard_stop (180/90) must be above bp_caution (140/90) for both systolic and diastolic",
        ),
        (
            edited(bp_caution=[190, 80]),
            "bp_hard_stop (180/110) must be above bp_caution (190/80) for both systolic and diastolic",
        ),
        (edited(min_adequate_trials=-1), "min_adequate_trials must not be negative"),
        (edited(min_adequate_trials=1.5), "min_adequate_trials must be a whole number"),
        (edited(min_adequate_trials="2"), "min_adequate_trials must be a whole number"),
        (edited(min_adequate_trials=True), "min_adequate_trials must be a whole number"),
        (edited(caution_med_classes="maoi"), "caution_med_classes must be a list"),
        (
            edited(caution_med_classes=["maoi", "aspirin"]),
            "caution_med_classes: unknown class 'aspirin' (known: maoi, psychostimulant, benzodiazepine, "
            "cns_depressant, opioid, theophylline)",
        ),
        (edited(caution_med_classes=["maoi", "maoi"]), "caution_med_classes: 'maoi' is listed twice"),
    ],
)
def test_each_malformed_input_is_refused_with_its_problem(data, problem):
    assert problems_of(data) == [problem]


def test_every_problem_is_named_at_once():
    data = default_data() | {"colour": "blue", "version": "", "min_adequate_trials": -2}
    data["conditions"][0]["level"] = "fatal"
    data["conditions"][1]["key"] = "aneurysmal_vascular_disease"
    assert problems_of(data) == [
        "unknown key 'colour'",
        "version must be a non-empty string",
        "conditions[0].level must be one of hard_stop, caution, info, got 'fatal'",
        "conditions[1]: duplicate key 'aneurysmal_vascular_disease'",
        "min_adequate_trials must not be negative",
    ]


def test_a_condition_with_several_problems_names_each():
    data = default_data()
    data["conditions"][0] = {"key": "X", "level": "bad", "extra": 1}
    assert problems_of(data) == [
        "conditions[0]: unknown key 'extra'",
        "conditions[0]: 'label' is required",
        "conditions[0]: 'source' is required",
        "conditions[0].key must be lower-case letters, digits and underscores, got 'X'",
        "conditions[0].level must be one of hard_stop, caution, info, got 'bad'",
    ]


def test_the_error_message_joins_the_problems():
    with pytest.raises(RulesError, match=r"^unknown key 'a'; unknown key 'b'$"):
        parse_rules(default_data() | {"a": 1, "b": 2})


def test_rules_error_is_a_value_error():
    assert issubclass(RulesError, ValueError)
