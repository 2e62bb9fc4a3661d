"""``score`` refuses answers it cannot score, naming every problem by item, all at once.

A missing answer is never counted as 0, and a value must be exactly one of the item's
answers: a number outside them, a string or a boolean is refused.
"""

from __future__ import annotations

import pickle

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import InvalidAnswers
from kapflow.measures.instruments.scoring import score

PHQ9 = BUILT_IN["phq9"]
MOAAS = BUILT_IN["moaas"]
ALL_ZERO = {f"q{n}": 0 for n in range(1, 10)}


def refusal(instrument, answers) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as caught:
        score(instrument, answers)
    return caught.value.problems


@pytest.mark.parametrize("missing", sorted(ALL_ZERO))
def test_a_missing_answer_is_named_and_not_counted_as_zero(missing):
    answers = {item: value for item, value in ALL_ZERO.items() if item != missing}
    assert refusal(PHQ9, answers) == {missing: "missing"}


def test_no_answers_at_all_names_every_item_as_missing():
    assert refusal(PHQ9, {}) == {f"q{n}": "missing" for n in range(1, 10)}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (7, "7 is not one of the answers 0, 1, 2, 3"),
        (4, "4 is not one of the answers 0, 1, 2, 3"),
        (-1, "-1 is not one of the answers 0, 1, 2, 3"),
        ("2", "'2' is not one of the answers 0, 1, 2, 3"),
        (True, "True is not one of the answers 0, 1, 2, 3"),
        (False, "False is not one of the answers 0, 1, 2, 3"),
        (None, "None is not one of the answers 0, 1, 2, 3"),
        (1.0, "1.0 is not one of the answers 0, 1, 2, 3"),
    ],
)
def test_a_value_that_is_not_one_of_the_answers_is_named(value, problem):
    assert refusal(PHQ9, {**ALL_ZERO, "q4": value}) == {"q4": problem}


def test_the_answers_are_listed_in_ascending_order():
    assert refusal(MOAAS, {"moaas": 6}) == {"moaas": "6 is not one of the answers 0, 1, 2, 3, 4, 5"}


def test_an_answer_to_an_unknown_item_is_refused():
    assert refusal(PHQ9, {**ALL_ZERO, "q10": 1}) == {"q10": "not a question of PHQ-9"}


def test_every_problem_is_reported_at_once():
    answers = {**ALL_ZERO, "q1": 9, "q5": "x", "extra": 0}
    del answers["q7"]
    del answers["q8"]
    assert refusal(PHQ9, answers) == {
        "q1": "9 is not one of the answers 0, 1, 2, 3",
        "q5": "'x' is not one of the answers 0, 1, 2, 3",
        "q7": "missing",
        "q8": "missing",
        "extra": "not a question of PHQ-9",
    }


def test_invalid_answers_is_a_value_error_whose_message_lists_the_problems():
    with pytest.raises(ValueError, match=r"q3: missing"):
        score(PHQ9, {k: v for k, v in ALL_ZERO.items() if k != "q3"})


def test_invalid_answers_survives_pickling_with_its_problems():
    error = InvalidAnswers({"q3": "missing"})
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, just made
    assert copy.problems == {"q3": "missing"}
    assert str(copy) == str(error)
