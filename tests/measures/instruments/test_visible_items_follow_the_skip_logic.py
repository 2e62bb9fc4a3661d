"""``visible_items``: which items are asked, given the answers so far (partial answers too)."""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import (
    Instrument,
    InvalidAnswers,
    Item,
    Option,
    Rater,
    Scoring,
    ShowIf,
)
from kapflow.measures.instruments.scoring import score, visible_items

CSSRS = BUILT_IN["cssrs"]
YES_NO = (Option(0, "No"), Option(1, "Yes"))


def ids(instrument: Instrument, answers: dict[str, object]) -> list[str]:
    return [item.id for item in visible_items(instrument, answers)]


def test_before_any_answer_the_cssrs_asks_q1_q2_and_q6():
    assert ids(CSSRS, {}) == ["q1", "q2", "q6"]


def test_yes_to_q2_adds_q3_to_q5_in_order():
    assert ids(CSSRS, {"q1": 0, "q2": 1}) == ["q1", "q2", "q3", "q4", "q5", "q6"]


def test_no_to_q2_keeps_q3_to_q5_hidden():
    assert ids(CSSRS, {"q1": 1, "q2": 0}) == ["q1", "q2", "q6"]


def test_yes_to_q6_adds_q6b_and_no_does_not():
    assert ids(CSSRS, {"q6": 1}) == ["q1", "q2", "q6", "q6b"]
    assert ids(CSSRS, {"q6": 0}) == ["q1", "q2", "q6"]


def test_a_value_that_is_not_an_answer_does_not_open_a_question():
    for not_yes in ("1", True, 1.0, 2, None):
        assert "q3" not in ids(CSSRS, {"q2": not_yes}), not_yes


def test_every_phq9_item_is_always_asked():
    assert ids(BUILT_IN["phq9"], {}) == [f"q{n}" for n in range(1, 10)]


CHAIN = Instrument(
    key="chain",
    version="1",
    name="Chain",
    short_name="Chain",
    rater=Rater.PATIENT,
    scoring=Scoring.SUM,
    items=(
        Item("a", "A", YES_NO),
        Item("b", "B (if A)", YES_NO, show_if=ShowIf("a", frozenset({1}))),
        Item("c", "C (if B)", YES_NO, show_if=ShowIf("b", frozenset({1}))),
    ),
)


def test_an_item_depending_on_a_hidden_item_is_hidden_even_if_a_stale_answer_remains():
    assert ids(CHAIN, {"a": 1, "b": 1}) == ["a", "b", "c"]
    assert ids(CHAIN, {"a": 0, "b": 1}) == ["a"]


def test_scoring_refuses_a_stale_answer_below_a_hidden_item():
    with pytest.raises(InvalidAnswers) as refused:
        score(CHAIN, {"a": 0, "b": 1, "c": 1})
    assert refused.value.problems == {
        "b": 'not asked: answered although a was "No"',
        "c": "not asked: answered although b was not asked",
    }


def test_hidden_items_add_nothing_to_the_total():
    assert score(CHAIN, {"a": 0}).total == 0
    assert score(CHAIN, {"a": 1, "b": 1, "c": 1}).total == 3
