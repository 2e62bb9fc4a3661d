"""An upload's flag rules and top-level fields are checked, and every problem is listed at once."""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import parse_definition, to_definition
from tests.measures.instruments.definition_samples import bands, custom, flag, phq9, problems


def test_a_flag_on_an_unknown_item_is_named():
    definition = custom()
    definition["flags"] = [flag(item="q99")]
    assert problems(definition) == ['flag "f1" refers to unknown item "q99"']


def test_a_flag_that_can_never_fire_is_named():
    definition = custom()
    definition["flags"] = [flag(min_value=3)]
    assert problems(definition) == [
        'flag "f1" can never fire: min_value 3 is above the highest answer of "q1" (2)'
    ]


def test_a_flag_severity_must_be_moderate_or_high():
    definition = custom()
    definition["flags"] = [flag(severity="low")]
    assert problems(definition) == ['flag "f1": "severity" must be "moderate" or "high", not "low"']


def test_flag_ids_must_be_unique():
    definition = custom()
    definition["flags"] = [flag(), flag(item="q2")]
    assert problems(definition) == ['flag "f1" appears twice']


def test_a_flag_needs_a_message():
    definition = custom()
    del (rule := flag())["message"]
    definition["flags"] = [rule]
    assert problems(definition) == ['flag "f1": missing "message"']


def test_an_unknown_top_level_key_is_named():
    definition = phq9()
    definition["colour"] = "blue"
    assert problems(definition) == ['unknown key "colour"']


def test_unknown_keys_inside_items_options_bands_and_flags_are_named_too():
    definition = custom()
    definition["items"][0]["colour"] = "blue"
    definition["items"][1]["options"][0]["weight"] = 2
    definition["bands"] = [{"low": 0, "high": 6, "label": "All", "colour": "red"}]
    definition["flags"] = [flag(urgent=True)]
    assert problems(definition) == [
        'item "q1": unknown key "colour"',
        'item "q2", option 1: unknown key "weight"',
        'band "All": unknown key "colour"',
        'flag "f1": unknown key "urgent"',
    ]


def test_cssrs_scoring_is_refused_for_a_clinic_upload():
    definition = custom()
    definition["scoring"] = "cssrs"
    assert problems(definition) == ['scoring "cssrs" is reserved for the built-in C-SSRS screener']


def test_a_built_in_cssrs_definition_must_have_the_screeners_items():
    definition = to_definition(BUILT_IN["cssrs"])
    definition["items"] = definition["items"][:6]
    assert problems(definition, builtin=True) == [
        'scoring "cssrs" needs the items q1, q2, q3, q4, q5, q6, q6b, each with the answers 0 and 1'
    ]


def test_an_unknown_scoring_is_refused():
    definition = custom()
    definition["scoring"] = "weighted"
    assert problems(definition) == ['"scoring" must be "sum" or "single", not "weighted"']


@pytest.mark.parametrize("field", ["key", "version", "name", "rater", "scoring", "items"])
def test_each_required_field_is_named_when_missing(field):
    definition = custom()
    del definition[field]
    assert problems(definition) == [f'missing "{field}"']


@pytest.mark.parametrize("key", ["PHQ9", "my scale", "", "é", "a/b"])
def test_the_key_must_be_slug_like(key):
    definition = custom()
    definition["key"] = key
    expected = (
        '"key" is empty'
        if not key
        else f'"key" may contain only lowercase letters, digits, "_" and "-", not "{key}"'
    )
    assert problems(definition) == [expected]


def test_wrong_types_at_the_top_level_are_named():
    definition = custom()
    definition.update(version=2, rater="self", items={"q1": {}})
    assert problems(definition) == [
        '"version" must be a string, not 2',
        '"rater" must be "patient" or "observer", not "self"',
        '"items" must be a list, not {"q1": {}}',
    ]


@pytest.mark.parametrize(("data", "shown"), [([], "[]"), ("phq9", '"phq9"'), (None, "null"), (3, "3")])
def test_a_definition_must_be_an_object(data, shown):
    assert problems(data) == [f"the definition must be an object, not {shown}"]


def test_every_problem_is_listed_at_once():
    definition = phq9()
    definition["colour"] = "blue"
    definition["items"][3]["id"] = "q3"
    definition["items"][4]["options"][1]["value"] = 1.5
    definition["items"][5]["show_if"] = {"item": "q8", "values": [1]}
    definition["bands"] = bands((0, 4), (3, 20))
    definition["flags"][0]["item"] = "q99"
    assert sorted(problems(definition)) == sorted(
        [
            'unknown key "colour"',
            'item "q3" appears twice',
            'item "q5", option 2: "value" must be a whole number, not 1.5',
            'item "q6": show_if refers to "q8", which comes later',
            "bands 0-4 and 3-20 overlap",
            'flag "phq9_item9" refers to unknown item "q99"',
        ]
    )


def test_a_problem_in_one_item_does_not_make_references_to_it_unknown():
    definition = custom()
    definition["items"][0]["text"] = ""
    definition["items"][1]["show_if"] = {"item": "q1", "values": [1]}
    definition["flags"] = [flag(item="q1")]
    assert problems(definition) == ['item "q1": "text" is empty']


def test_definition_error_is_a_value_error_listing_the_problems():
    definition = custom()
    definition["colour"] = "blue"
    with pytest.raises(ValueError, match='unknown key "colour"'):
        parse_definition(definition)
