"""``parse_definition(to_definition(x)) == x``: for every built-in and any valid instrument,
also through JSON text (what a clinic uploads and what the database keeps)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import parse_definition, to_definition
from kapflow.measures.instruments.model import DefinitionError
from tests.measures.instruments.strategies import instruments


@pytest.mark.parametrize("key", list(BUILT_IN))
def test_every_built_in_reads_back_equal_from_its_definition(key):
    instrument = BUILT_IN[key]
    assert parse_definition(to_definition(instrument), builtin=True) == instrument


@pytest.mark.parametrize("key", list(BUILT_IN))
def test_every_built_in_reads_back_equal_through_json_text(key):
    instrument = BUILT_IN[key]
    assert parse_definition(json.loads(json.dumps(to_definition(instrument))), builtin=True) == instrument


@pytest.mark.parametrize("key", ["phq9", "gad7", "moaas"])
def test_the_built_ins_other_than_the_cssrs_are_valid_clinic_uploads_too(key):
    assert parse_definition(to_definition(BUILT_IN[key])) == BUILT_IN[key]


def test_the_cssrs_definition_is_refused_as_a_clinic_upload():
    with pytest.raises(DefinitionError) as caught:
        parse_definition(to_definition(BUILT_IN["cssrs"]))
    assert caught.value.problems == ['scoring "cssrs" is reserved for the built-in C-SSRS screener']


@settings(deadline=None)
@given(instrument=instruments())
def test_any_valid_instrument_reads_back_equal_from_its_json_definition(instrument):
    text = json.dumps(to_definition(instrument))
    assert parse_definition(json.loads(text)) == instrument


def test_a_definition_is_plain_json_data():
    definition = to_definition(BUILT_IN["phq9"])
    assert json.loads(json.dumps(definition)) == definition
    assert definition["rater"] == "patient" and type(definition["rater"]) is str
    assert definition["items"][0]["options"][0] == {"value": 0, "label": "Not at all", "code": "LA6568-5"}
    cssrs = to_definition(BUILT_IN["cssrs"])
    assert cssrs["items"][2]["show_if"] == {"item": "q2", "values": [1]}
    assert "show_if" not in cssrs["items"][0]


def test_short_name_defaults_to_the_name():
    definition = to_definition(BUILT_IN["gad7"])
    del definition["short_name"]
    assert parse_definition(definition).short_name == definition["name"]
