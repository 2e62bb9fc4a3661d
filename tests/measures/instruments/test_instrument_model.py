"""The instrument data model: possible totals, looking items up, bands, severities."""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import (
    Band,
    DefinitionError,
    Instrument,
    Item,
    Option,
    Rater,
    Scoring,
    Severity,
    ShowIf,
)


def instrument(scoring: Scoring, *items: Item) -> Instrument:
    return Instrument("t", "1", "T", "T", Rater.PATIENT, scoring, items)


def options(*values: int) -> tuple[Option, ...]:
    return tuple(Option(value, str(value)) for value in values)


def test_the_possible_totals_add_up_each_items_lowest_and_highest_answer():
    scale = instrument(Scoring.SUM, Item("a", "A", options(1, 5)), Item("b", "B", options(-2, 0, 3)))
    assert (scale.min_total, scale.max_total) == (-1, 8)


def test_an_item_that_may_be_skipped_can_add_nothing():
    skippable = Item("b", "B", options(2, 4), show_if=ShowIf("a", frozenset({1})))
    scale = instrument(Scoring.SUM, Item("a", "A", options(0, 1)), skippable)
    assert (scale.min_total, scale.max_total) == (0, 5)


def test_a_single_item_instrument_ranges_over_its_answers():
    assert (BUILT_IN["moaas"].min_total, BUILT_IN["moaas"].max_total) == (0, 5)


def test_single_scoring_ranges_over_the_first_item_only():
    scale = instrument(Scoring.SINGLE, Item("a", "A", options(0, 2)), Item("b", "B", options(0, 9)))
    assert (scale.min_total, scale.max_total) == (0, 2)


def test_the_cssrs_has_no_total():
    assert BUILT_IN["cssrs"].min_total is None
    assert BUILT_IN["cssrs"].max_total is None


def test_an_item_is_found_by_id_and_an_unknown_id_is_a_key_error():
    phq9 = BUILT_IN["phq9"]
    assert phq9.item("q9").code == "44260-8"
    with pytest.raises(KeyError):
        phq9.item("q10")


def test_a_band_includes_both_ends():
    band = Band(5, 9, "Mild")
    assert [total in band for total in (4, 5, 9, 10)] == [False, True, True, False]


def test_high_severity_outranks_moderate():
    assert Severity.HIGH.rank > Severity.MODERATE.rank


def test_instruments_are_immutable_and_comparable():
    with pytest.raises(AttributeError):
        BUILT_IN["phq9"].version = "2"  # type: ignore[misc]
    assert BUILT_IN["phq9"] == BUILT_IN["phq9"]
    assert hash(BUILT_IN["phq9"]) == hash(BUILT_IN["phq9"])


def test_definition_error_keeps_its_problems():
    error = DefinitionError(["a", "b"])
    assert error.problems == ["a", "b"]
    assert str(error) == "a; b"
