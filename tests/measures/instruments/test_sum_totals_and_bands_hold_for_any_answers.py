"""Properties of scoring, for random complete answers.

SUM: the total is the sum of the values answered and exactly one band contains it.
SINGLE: the total is the one value. Holds for the built-ins and for random valid instruments.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import Instrument, Scoring
from kapflow.measures.instruments.scoring import score
from tests.measures.instruments.strategies import complete_answers, instruments

BUILT_IN_TOTALLED = [i for i in BUILT_IN.values() if i.scoring is not Scoring.CSSRS]


def check_total_and_band(instrument: Instrument, answers: dict[str, int]) -> None:
    result = score(instrument, answers)
    if instrument.scoring is Scoring.SUM:
        assert result.total == sum(answers.values())
    else:
        assert result.total == answers[instrument.items[0].id]
    assert result.total is not None
    assert instrument.min_total is not None and instrument.max_total is not None
    assert instrument.min_total <= result.total <= instrument.max_total
    containing = [band for band in instrument.bands if band.low <= result.total <= band.high]
    if instrument.bands:
        assert len(containing) == 1
        assert result.band == containing[0]
    else:
        assert result.band is None
    assert result.risk == ""


@given(data=st.data(), instrument=st.sampled_from(BUILT_IN_TOTALLED))
def test_a_built_in_total_is_the_sum_of_the_answers_and_falls_in_exactly_one_band(data, instrument):
    check_total_and_band(instrument, data.draw(complete_answers(instrument)))


@settings(deadline=None)
@given(data=st.data(), instrument=instruments())
def test_any_valid_instrument_totals_its_answers_into_exactly_one_band(data, instrument):
    check_total_and_band(instrument, data.draw(complete_answers(instrument)))


@given(answers=st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_every_phq9_answer_set_scores_its_sum(answers):
    result = score(BUILT_IN["phq9"], {f"q{n}": value for n, value in enumerate(answers, start=1)})
    assert result.total == sum(answers)
