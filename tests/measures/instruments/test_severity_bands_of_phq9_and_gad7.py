"""PHQ-9 and GAD-7 totals fall in the published severity bands, at every boundary."""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import Instrument
from kapflow.measures.instruments.scoring import score

PHQ9 = BUILT_IN["phq9"]
GAD7 = BUILT_IN["gad7"]


def answers_totalling(instrument: Instrument, total: int, *, from_last: bool = False) -> dict[str, int]:
    """Answers adding up to ``total``, filling items with 3s from the first (or the last) item."""
    ids = [item.id for item in instrument.items]
    answers = dict.fromkeys(ids, 0)
    left = total
    for item_id in reversed(ids) if from_last else ids:
        answers[item_id] = min(3, left)
        left -= answers[item_id]
    assert left == 0 and sum(answers.values()) == total
    return answers


PHQ9_BOUNDARIES = [
    (0, "Minimal"),
    (4, "Minimal"),
    (5, "Mild"),
    (9, "Mild"),
    (10, "Moderate"),
    (14, "Moderate"),
    (15, "Moderately severe"),
    (19, "Moderately severe"),
    (20, "Severe"),
    (27, "Severe"),
]
GAD7_BOUNDARIES = [
    (0, "Minimal"),
    (4, "Minimal"),
    (5, "Mild"),
    (9, "Mild"),
    (10, "Moderate"),
    (14, "Moderate"),
    (15, "Severe"),
    (21, "Severe"),
]


@pytest.mark.parametrize("from_last", [False, True], ids=["first-items", "last-items"])
@pytest.mark.parametrize(("total", "label"), PHQ9_BOUNDARIES)
def test_a_phq9_total_on_a_band_boundary_gets_that_band(total, label, from_last):
    result = score(PHQ9, answers_totalling(PHQ9, total, from_last=from_last))
    assert result.total == total
    assert result.band is not None
    assert result.band.label == label
    assert result.risk == ""


@pytest.mark.parametrize("from_last", [False, True], ids=["first-items", "last-items"])
@pytest.mark.parametrize(("total", "label"), GAD7_BOUNDARIES)
def test_a_gad7_total_on_a_band_boundary_gets_that_band(total, label, from_last):
    result = score(GAD7, answers_totalling(GAD7, total, from_last=from_last))
    assert result.total == total
    assert result.band is not None
    assert result.band.label == label
    assert result.flags == ()


def test_the_phq9_bands_are_exactly_the_published_ranges():
    assert [(b.low, b.high, b.label) for b in PHQ9.bands] == [
        (0, 4, "Minimal"),
        (5, 9, "Mild"),
        (10, 14, "Moderate"),
        (15, 19, "Moderately severe"),
        (20, 27, "Severe"),
    ]


def test_the_gad7_bands_are_exactly_the_published_ranges():
    assert [(b.low, b.high, b.label) for b in GAD7.bands] == [
        (0, 4, "Minimal"),
        (5, 9, "Mild"),
        (10, 14, "Moderate"),
        (15, 21, "Severe"),
    ]
