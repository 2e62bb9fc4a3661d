"""The C-SSRS screener refuses answers its skip logic does not allow, naming each item.

Q3-Q5 are asked only after yes to Q2, and Q6b only after yes to Q6. Every way of answering or
leaving out each of the seven items is tried: exactly the consistent ones are scored.
"""

from __future__ import annotations

import itertools

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import InvalidAnswers
from kapflow.measures.instruments.scoring import score

CSSRS = BUILT_IN["cssrs"]
ITEMS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6b")
ABSENT = None


def refusal(answers: dict[str, int]) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as caught:
        score(CSSRS, answers)
    return caught.value.problems


def test_answering_q3_after_no_to_q2_is_refused_naming_q3():
    problems = refusal({"q1": 1, "q2": 0, "q3": 1, "q6": 0})
    assert problems == {"q3": 'not asked: answered although q2 was "No"'}


def test_answering_q3_to_q5_after_no_to_q2_names_each_of_them():
    problems = refusal({"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": 1, "q6": 0})
    assert set(problems) == {"q3", "q4", "q5"}
    assert all(problem.startswith("not asked") for problem in problems.values())


def test_answering_q6b_after_no_to_q6_is_refused_naming_q6b():
    problems = refusal({"q1": 0, "q2": 0, "q6": 0, "q6b": 1})
    assert problems == {"q6b": 'not asked: answered although q6 was "No"'}


def test_answering_q3_when_q2_was_left_out_says_q2_was_not_answered():
    problems = refusal({"q1": 0, "q3": 1, "q6": 0})
    assert problems == {"q2": "missing", "q3": "not asked: answered although q2 was not answered"}


def test_q3_to_q5_are_required_after_yes_to_q2():
    problems = refusal({"q1": 1, "q2": 1, "q6": 0})
    assert problems == {"q3": "missing", "q4": "missing", "q5": "missing"}


def test_q6b_is_required_after_yes_to_q6():
    assert refusal({"q1": 0, "q2": 0, "q6": 1}) == {"q6b": "missing"}


def test_q1_q2_and_q6_are_always_required():
    assert refusal({}) == {"q1": "missing", "q2": "missing", "q6": "missing"}


def asked(answers: dict[str, int]) -> set[str]:
    """Written from the screener's instructions, independently of the engine."""
    items = {"q1", "q2", "q6"}
    if answers.get("q2") == 1:
        items |= {"q3", "q4", "q5"}
    if answers.get("q6") == 1:
        items.add("q6b")
    return items


def every_partial_answer_set() -> list[dict[str, int]]:
    sets = []
    for choice in itertools.product((ABSENT, 0, 1), repeat=len(ITEMS)):
        sets.append({item: value for item, value in zip(ITEMS, choice, strict=True) if value is not ABSENT})
    return sets


def test_exactly_the_consistent_answer_sets_are_scored_out_of_all_2187():
    sets = every_partial_answer_set()
    assert len(sets) == 3 ** len(ITEMS)
    accepted = 0
    for answers in sets:
        wrong = asked(answers) ^ set(answers)  # asked but missing, or answered but not asked
        consistent = not wrong
        try:
            score(CSSRS, answers)
        except InvalidAnswers as refused:
            assert not consistent, f"refused consistent answers {answers}: {refused.problems}"
            assert set(refused.problems) == wrong, answers
        else:
            assert consistent, f"scored inconsistent answers {answers}"
            accepted += 1
    assert accepted == 54
