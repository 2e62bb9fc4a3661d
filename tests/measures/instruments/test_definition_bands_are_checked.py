"""An upload's bands must not overlap and must cover every possible total exactly once."""

from __future__ import annotations

from kapflow.measures.instruments.definitions import parse_definition
from tests.measures.instruments.definition_samples import bands, custom, phq9, problems


def test_overlapping_bands_are_named():
    definition = phq9()
    definition["bands"] = bands((0, 4), (5, 9), (8, 14), (15, 27))
    assert problems(definition) == ["bands 5-9 and 8-14 overlap"]


def test_bands_sharing_one_total_overlap():
    definition = phq9()
    definition["bands"] = bands((0, 9), (9, 27))
    assert problems(definition) == ["bands 0-9 and 9-27 overlap"]


def test_a_band_inside_another_overlaps_it():
    definition = phq9()
    definition["bands"] = bands((0, 27), (10, 14))
    assert problems(definition) == ["bands 0-27 and 10-14 overlap"]


def test_a_gap_between_bands_is_named():
    definition = phq9()
    definition["bands"] = bands((0, 4), (5, 9), (12, 27))
    assert problems(definition) == ["no band covers totals 10-11"]


def test_a_gap_of_one_total_is_named_in_the_singular():
    definition = phq9()
    definition["bands"] = bands((0, 9), (11, 27))
    assert problems(definition) == ["no band covers total 10"]


def test_bands_must_reach_the_highest_possible_total():
    definition = phq9()
    definition["bands"] = bands((0, 4), (5, 24))
    assert problems(definition) == ["no band covers totals 25-27"]


def test_bands_stopping_one_short_of_the_highest_total_are_refused():
    definition = phq9()
    definition["bands"] = bands((0, 26))
    assert problems(definition) == ["no band covers total 27"]


def test_bands_must_start_at_the_lowest_possible_total():
    definition = phq9()
    definition["bands"] = bands((3, 27))
    assert problems(definition) == ["no band covers totals 0-2"]


def test_a_band_beyond_the_possible_totals_is_named():
    definition = phq9()
    definition["bands"] = bands((-2, 9), (10, 30))
    assert problems(definition) == [
        'band "-2 to 9" starts at -2, below the lowest possible total 0',
        'band "10 to 30" ends at 30, above the highest possible total 27',
    ]


def test_a_band_starting_one_below_the_lowest_total_is_named():
    definition = phq9()
    definition["bands"] = bands((-1, 27))
    assert problems(definition) == ['band "-1 to 27" starts at -1, below the lowest possible total 0']


def test_a_band_with_low_above_high_is_named():
    definition = phq9()
    definition["bands"] = [*bands((0, 4), (10, 27)), {"low": 9, "high": 5, "label": "mild"}]
    assert 'band "mild" has low 9 above high 5' in problems(definition)


def test_bands_may_be_given_in_any_order():
    definition = phq9()
    definition["bands"] = list(reversed(definition["bands"]))
    assert [band.low for band in parse_definition(definition).bands] == [20, 15, 10, 5, 0]


def test_bands_are_optional():
    definition = phq9()
    del definition["bands"]
    assert parse_definition(definition).bands == ()


def test_a_skippable_item_counts_as_possibly_zero_for_the_band_range():
    definition = custom(2)
    for option in definition["items"][1]["options"]:
        option["value"] += 1  # q2 scores 1-3 when asked
    definition["items"][1]["show_if"] = {"item": "q1", "values": [2]}
    definition["bands"] = bands((1, 5))
    assert problems(definition) == ["no band covers total 0"]
