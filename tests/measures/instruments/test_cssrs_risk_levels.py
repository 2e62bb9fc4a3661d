"""The C-SSRS screener's risk level, for every set of answers its skip logic allows.

DOMAIN.md: high = yes to Q4 or Q5 (past month), or behaviour in the past 3 months (Q6b);
moderate = yes to Q3, or behaviour in the lifetime (Q6); low = yes to Q1 or Q2 only.
"""

from __future__ import annotations

import itertools

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import Severity
from kapflow.measures.instruments.scoring import score

CSSRS = BUILT_IN["cssrs"]
YES, NO = 1, 0


def consistent_answer_sets() -> list[dict[str, int]]:
    """Q1, Q2 always; Q3-Q5 only after yes to Q2; Q6 always; Q6b only after yes to Q6."""
    sets = []
    for q1, q2, q6 in itertools.product((NO, YES), repeat=3):
        middles = list(itertools.product((NO, YES), repeat=3)) if q2 == YES else [None]
        recents = [NO, YES] if q6 == YES else [None]
        for middle, recent in itertools.product(middles, recents):
            answers = {"q1": q1, "q2": q2, "q6": q6}
            if middle is not None:
                answers.update(zip(("q3", "q4", "q5"), middle, strict=True))
            if recent is not None:
                answers["q6b"] = recent
            sets.append(answers)
    return sets


ALL_SETS = consistent_answer_sets()


def expected_risk(answers: dict[str, int]) -> str:
    said_yes = {item for item, value in answers.items() if value == YES}
    if said_yes & {"q4", "q5", "q6b"}:
        return "high"
    if said_yes & {"q3", "q6"}:
        return "moderate"
    if said_yes & {"q1", "q2"}:
        return "low"
    return "none"


def label(answers: dict[str, int]) -> str:
    return " ".join(f"{item}={value}" for item, value in answers.items())


def test_there_are_54_consistent_answer_sets():
    # Q2 no: 2 (Q1) x 3 (Q6 no, Q6 yes + Q6b no/yes); Q2 yes: 2 x 8 (Q3-Q5) x 3.
    assert len(ALL_SETS) == 54
    assert len({label(answers) for answers in ALL_SETS}) == 54


@pytest.mark.parametrize("answers", ALL_SETS, ids=label)
def test_every_consistent_answer_set_gets_the_risk_the_rules_give(answers):
    result = score(CSSRS, answers)
    assert result.risk == expected_risk(answers)
    assert result.total is None
    assert result.band is None


@pytest.mark.parametrize("answers", ALL_SETS, ids=label)
def test_high_and_moderate_risk_raise_one_flag_naming_the_deciding_item(answers):
    result = score(CSSRS, answers)
    risk = expected_risk(answers)
    if risk == "high":
        deciding = next(item for item in ("q4", "q5", "q6b") if answers.get(item) == YES)
        assert [(f.rule_id, f.item, f.severity) for f in result.flags] == [
            ("cssrs_high", deciding, Severity.HIGH)
        ]
    elif risk == "moderate":
        deciding = next(item for item in ("q3", "q6") if answers.get(item) == YES)
        assert [(f.rule_id, f.item, f.severity) for f in result.flags] == [
            ("cssrs_moderate", deciding, Severity.MODERATE)
        ]
    else:
        assert result.flags == ()
    for flag in result.flags:
        assert "C-SSRS" in flag.message
        assert flag.item in flag.message


def test_all_no_is_no_risk():
    assert score(CSSRS, {"q1": NO, "q2": NO, "q6": NO}).risk == "none"


def test_a_wish_to_be_dead_alone_is_low_risk():
    assert score(CSSRS, {"q1": YES, "q2": NO, "q6": NO}).risk == "low"


def test_thoughts_of_killing_oneself_without_method_intent_or_plan_are_low_risk():
    answers = {"q1": NO, "q2": YES, "q3": NO, "q4": NO, "q5": NO, "q6": NO}
    assert score(CSSRS, answers).risk == "low"


def test_behaviour_in_the_past_3_months_is_high_risk_even_with_no_to_everything_else():
    assert score(CSSRS, {"q1": NO, "q2": NO, "q6": YES, "q6b": YES}).risk == "high"


def test_behaviour_only_longer_ago_than_3_months_is_moderate_risk():
    assert score(CSSRS, {"q1": NO, "q2": NO, "q6": YES, "q6b": NO}).risk == "moderate"


def test_intent_without_a_method_is_high_risk():
    answers = {"q1": YES, "q2": YES, "q3": NO, "q4": YES, "q5": NO, "q6": NO}
    result = score(CSSRS, answers)
    assert result.risk == "high"
    assert result.flags[0].item == "q4"
