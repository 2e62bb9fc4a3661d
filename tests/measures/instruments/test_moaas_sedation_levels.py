"""MOAA/S: an observer's single rating, 5 (responds readily) to 0 (no response), is the total."""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import Rater, Scoring
from kapflow.measures.instruments.scoring import score

MOAAS = BUILT_IN["moaas"]


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (5, "Awake"),
        (4, "Light sedation"),
        (3, "Moderate sedation"),
        (2, "Moderate sedation"),
        (1, "Deep sedation"),
        (0, "Deep sedation"),
    ],
)
def test_each_rating_is_the_total_and_gets_its_sedation_band(value, band):
    result = score(MOAAS, {"moaas": value})
    assert result.total == value
    assert result.band is not None
    assert result.band.label == band
    assert result.flags == ()
    assert result.risk == ""


def test_the_moaas_is_one_observer_rated_item_scored_as_a_single_value():
    assert MOAAS.rater is Rater.OBSERVER
    assert MOAAS.scoring is Scoring.SINGLE
    assert [item.id for item in MOAAS.items] == ["moaas"]
    assert (MOAAS.min_total, MOAAS.max_total) == (0, 5)


def test_the_moaas_answers_describe_each_level_of_responsiveness():
    assert [(option.value, option.label) for option in MOAAS.items[0].options] == [
        (5, "Responds readily to name spoken in normal tone"),
        (4, "Lethargic response to name spoken in normal tone"),
        (3, "Responds only after name is called loudly and/or repeatedly"),
        (2, "Responds only after mild prodding or shaking"),
        (1, "Responds only after painful trapezius squeeze"),
        (0, "No response after painful trapezius squeeze"),
    ]
