"""PHQ-9 item 9 (thoughts of being better off dead or of self-harm) raises a safety flag.

Any answer above "Not at all" raises a MODERATE flag asking for a suicide-risk assessment;
"More than half the days" or more raises a HIGH one instead. Only the most severe flag of an
item is reported, so one answer raises one alert.
"""

from __future__ import annotations

import pytest

from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.model import Severity
from kapflow.measures.instruments.scoring import score

PHQ9 = BUILT_IN["phq9"]
OTHER_ITEMS_HIGH = {f"q{n}": 3 for n in range(1, 9)}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (0, []),
        (1, [("phq9_item9", Severity.MODERATE)]),
        (2, [("phq9_item9_high", Severity.HIGH)]),
        (3, [("phq9_item9_high", Severity.HIGH)]),
    ],
)
def test_item9_raises_the_flag_its_answer_calls_for(answer, expected):
    result = score(PHQ9, {**OTHER_ITEMS_HIGH, "q9": answer})
    assert [(flag.rule_id, flag.severity) for flag in result.flags] == expected
    assert all(flag.item == "q9" for flag in result.flags)


def test_the_item9_flags_ask_for_a_suicide_risk_assessment():
    for answer in (1, 2, 3):
        (flag,) = score(PHQ9, {**OTHER_ITEMS_HIGH, "q9": answer}).flags
        assert "suicide-risk assessment" in flag.message


def test_the_flag_message_is_the_rules_message():
    rules = {rule.id: rule for rule in PHQ9.flags}
    (flag,) = score(PHQ9, {**OTHER_ITEMS_HIGH, "q9": 1}).flags
    assert flag.message == rules["phq9_item9"].message
    (flag,) = score(PHQ9, {**OTHER_ITEMS_HIGH, "q9": 3}).flags
    assert flag.message == rules["phq9_item9_high"].message


def test_high_answers_to_the_other_items_raise_no_flag():
    assert score(PHQ9, {**OTHER_ITEMS_HIGH, "q9": 0}).flags == ()


def test_the_phq9_rules_are_on_item9_from_1_and_from_2():
    assert [(r.id, r.item, r.min_value, r.severity) for r in PHQ9.flags] == [
        ("phq9_item9", "q9", 1, Severity.MODERATE),
        ("phq9_item9_high", "q9", 2, Severity.HIGH),
    ]
