"""When several flag rules on one item fire, ``score`` reports only the most severe of them.

Ties: among rules of the same severity the one with the highest ``min_value`` wins, then the
first defined. Rules on different items are reported separately, in the order of the items.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kapflow.measures.instruments.model import (
    Flag,
    FlagRule,
    Instrument,
    Item,
    Option,
    Rater,
    Scoring,
    Severity,
)
from kapflow.measures.instruments.scoring import score
from tests.measures.instruments.strategies import complete_answers, instruments

OPTIONS = tuple(Option(value, str(value)) for value in range(4))
M, H = Severity.MODERATE, Severity.HIGH


def instrument_with(*rules: FlagRule) -> Instrument:
    return Instrument(
        key="test",
        version="1",
        name="Test",
        short_name="Test",
        rater=Rater.PATIENT,
        scoring=Scoring.SUM,
        items=(Item("a", "A", OPTIONS), Item("b", "B", OPTIONS)),
        flags=rules,
    )


def fired(instrument: Instrument, a: int, b: int) -> list[str]:
    return [flag.rule_id for flag in score(instrument, {"a": a, "b": b}).flags]


def test_a_high_rule_outranks_a_moderate_rule_on_the_same_item_whatever_their_order():
    rules = (
        FlagRule("high2", "a", 2, H, "h"),
        FlagRule("mod1", "a", 1, M, "m"),
        FlagRule("mod3", "a", 3, M, "m"),
    )
    instrument = instrument_with(*rules)
    assert fired(instrument, 0, 0) == []
    assert fired(instrument, 1, 0) == ["mod1"]
    assert fired(instrument, 2, 0) == ["high2"]
    assert fired(instrument, 3, 0) == ["high2"]


def test_among_equally_severe_rules_the_highest_threshold_wins():
    instrument = instrument_with(FlagRule("from1", "a", 1, M, "m"), FlagRule("from2", "a", 2, M, "m"))
    assert fired(instrument, 1, 0) == ["from1"]
    assert fired(instrument, 3, 0) == ["from2"]


def test_among_identical_thresholds_the_first_rule_defined_wins():
    instrument = instrument_with(FlagRule("first", "a", 1, H, "m"), FlagRule("second", "a", 1, H, "m"))
    assert fired(instrument, 2, 0) == ["first"]


def test_rules_on_different_items_are_each_reported_in_item_order():
    instrument = instrument_with(FlagRule("on_b", "b", 1, H, "hb"), FlagRule("on_a", "a", 1, M, "ma"))
    result = score(instrument, {"a": 1, "b": 1})
    assert result.flags == (Flag("on_a", "a", M, "ma"), Flag("on_b", "b", H, "hb"))


def expected_flags(instrument: Instrument, answers: dict[str, int]) -> list[str]:
    """Written independently: per item, the fired rules sorted by severity then threshold."""
    rank = {M: 1, H: 2}
    result = []
    for item in instrument.items:
        candidates = [
            (rank[r.severity], r.min_value, -position, r.id)
            for position, r in enumerate(instrument.flags)
            if r.item == item.id and item.id in answers and answers[item.id] >= r.min_value
        ]
        if candidates:
            result.append(max(candidates)[3])
    return result


@given(data=st.data(), instrument=instruments())
def test_flags_match_an_independent_reading_of_the_rules(data, instrument):
    answers = data.draw(complete_answers(instrument))
    result = score(instrument, answers)
    assert [flag.rule_id for flag in result.flags] == expected_flags(instrument, answers)
    rules = {rule.id: rule for rule in instrument.flags}
    for flag in result.flags:
        rule = rules[flag.rule_id]
        assert (flag.item, flag.severity, flag.message) == (rule.item, rule.severity, rule.message)
