"""An upload's items and skip logic are checked; each problem is named exactly (``DefinitionError``)."""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.definitions import parse_definition
from tests.measures.instruments.definition_samples import custom, phq9, problems


def test_the_starting_definitions_are_valid():
    assert parse_definition(phq9()).key == "phq9"
    assert parse_definition(custom()).key == "custom"


def test_a_duplicate_item_id_is_named():
    definition = phq9()
    definition["items"][3]["id"] = "q3"
    assert problems(definition) == ['item "q3" appears twice']


def test_an_id_used_three_times_is_named_once_with_the_count():
    definition = custom()
    for item in definition["items"]:
        item["id"] = "same"
    assert problems(definition) == ['item "same" appears 3 times']


def test_an_empty_item_id_is_refused_naming_the_items_position():
    definition = custom()
    definition["items"][1]["id"] = ""
    assert problems(definition) == ['item 2: "id" is empty']


def test_an_item_without_an_id_is_named_by_its_position():
    definition = custom()
    del definition["items"][2]["id"]
    assert problems(definition) == ['item 3: missing "id"']


def test_an_empty_list_of_items_is_refused():
    definition = custom()
    definition["items"] = []
    assert problems(definition) == ['"items" is empty']


def test_too_many_items_are_refused():
    assert problems(custom(201)) == ["too many items: 201 (at most 200)"]
    assert len(parse_definition(custom(200)).items) == 200


def test_an_item_needs_at_least_two_options():
    definition = custom()
    definition["items"][0]["options"] = definition["items"][0]["options"][:1]
    assert problems(definition) == ['item "q1": needs at least 2 options, has 1']


def test_an_item_may_have_at_most_twenty_options():
    definition = custom()
    definition["items"][0]["options"] = [{"value": v, "label": str(v)} for v in range(21)]
    assert problems(definition) == ['item "q1": too many options: 21 (at most 20)']
    definition["items"][0]["options"] = definition["items"][0]["options"][:20]
    assert len(parse_definition(definition).items[0].options) == 20


def test_option_values_must_be_unique_within_an_item():
    definition = custom()
    definition["items"][1]["options"][2]["value"] = 1
    assert problems(definition) == ['item "q2": option value 1 appears twice']


@pytest.mark.parametrize(
    ("value", "shown"), [(1.5, "1.5"), ("1", '"1"'), (True, "true"), (None, "null"), (2.0, "2.0")]
)
def test_an_option_value_must_be_a_whole_number(value, shown):
    definition = custom()
    definition["items"][0]["options"][1]["value"] = value
    assert problems(definition) == [f'item "q1", option 2: "value" must be a whole number, not {shown}']


def test_a_text_may_be_at_most_500_characters():
    definition = custom()
    definition["items"][0]["text"] = "x" * 501
    assert problems(definition) == ['item "q1": "text" is longer than 500 characters']
    definition["items"][0]["text"] = "x" * 500
    assert parse_definition(definition).items[0].text == "x" * 500


def test_an_option_needs_a_label():
    definition = custom()
    definition["items"][0]["options"][0]["label"] = "  "
    assert problems(definition) == ['item "q1", option 1: "label" is empty']


def test_single_scoring_needs_exactly_one_item():
    definition = custom(2)
    definition["scoring"] = "single"
    assert problems(definition) == ['scoring "single" needs exactly one item, not 2']
    assert parse_definition(custom(1) | {"scoring": "single"}).max_total == 2


def test_show_if_may_not_refer_to_a_later_item():
    definition = custom()
    definition["items"][1]["show_if"] = {"item": "q3", "values": [1]}
    assert problems(definition) == ['item "q2": show_if refers to "q3", which comes later']


def test_show_if_may_not_refer_to_an_unknown_item():
    definition = custom()
    definition["items"][1]["show_if"] = {"item": "zz", "values": [1]}
    assert problems(definition) == ['item "q2": show_if refers to unknown item "zz"']


def test_show_if_may_not_refer_to_its_own_item():
    definition = custom()
    definition["items"][1]["show_if"] = {"item": "q2", "values": [1]}
    assert problems(definition) == ['item "q2": show_if refers to itself']


def test_show_if_values_must_be_answers_the_earlier_item_offers():
    definition = custom()
    definition["items"][2]["show_if"] = {"item": "q1", "values": [1, 7]}
    assert problems(definition) == ['item "q3": show_if value 7 is not an answer of "q1"']


def test_show_if_needs_values():
    definition = custom()
    definition["items"][2]["show_if"] = {"item": "q1", "values": []}
    assert problems(definition) == ['item "q3" show_if: "values" is empty']


def test_show_if_values_must_be_whole_numbers():
    definition = custom()
    definition["items"][2]["show_if"] = {"item": "q1", "values": ["1"]}
    assert problems(definition) == ['item "q3" show_if: "values" must be whole numbers, not ["1"]']


def test_a_valid_show_if_to_an_earlier_item_is_accepted():
    definition = custom()
    definition["items"][2]["show_if"] = {"item": "q1", "values": [1, 2]}
    assert parse_definition(definition).items[2].show_if is not None
