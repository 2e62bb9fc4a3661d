"""The pure self-check rules: what each answer means, and that they never say "eligible"."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.intake import prescreen
from kapflow.intake.prescreen import HEALTH_QUESTIONS, InvalidAnswers, Outcome, evaluate

ALL_NO = {q.key: "no" for q in HEALTH_QUESTIONS}
TRIED = {"treatments": "two_or_more", "therapy": "yes"}


def test_all_no_after_several_treatments_is_worth_discussing_with_no_caveats():
    result = evaluate({**TRIED, **ALL_NO})
    assert result.outcome is Outcome.DISCUSS
    assert result.reasons == ()
    assert result.notes == ()


@pytest.mark.parametrize("question", HEALTH_QUESTIONS, ids=lambda q: q.key)
@pytest.mark.parametrize("answer", ["yes", "unsure"])
def test_a_yes_or_not_sure_needs_a_clinicians_review_and_says_why(question, answer):
    result = evaluate({**TRIED, **ALL_NO, question.key: answer})
    assert result.outcome is Outcome.REVIEW
    assert result.reasons == (question.review_reason,)


@pytest.mark.parametrize(
    ("treatments", "therapy"), [("none", "yes"), ("one", "yes"), ("two_or_more", "no"), ("none", "no")]
)
def test_few_treatments_tried_adds_a_note_but_does_not_stop_anyone(treatments, therapy):
    result = evaluate({"treatments": treatments, "therapy": therapy, **ALL_NO})
    assert result.outcome is Outcome.DISCUSS
    assert result.notes == (prescreen.FEW_TREATMENTS_NOTE,)


@pytest.mark.parametrize("missing", ["treatments", "therapy", *[q.key for q in HEALTH_QUESTIONS]])
def test_a_missing_answer_is_refused(missing):
    answers = {**TRIED, **ALL_NO}
    del answers[missing]
    with pytest.raises(InvalidAnswers):
        evaluate(answers)


@pytest.mark.parametrize(
    "bad", [{"treatments": "many"}, {"therapy": "maybe"}, {"psychosis": "YES"}, {"pregnancy": ""}]
)
def test_an_answer_that_was_not_offered_is_refused(bad):
    with pytest.raises(InvalidAnswers):
        evaluate({**TRIED, **ALL_NO, **bad})


answers_strategy = st.fixed_dictionaries(
    {
        "treatments": st.sampled_from(["none", "one", "two_or_more"]),
        "therapy": st.sampled_from(["yes", "no"]),
        **{q.key: st.sampled_from(["yes", "no", "unsure"]) for q in HEALTH_QUESTIONS},
    }
)


@given(answers_strategy)
def test_review_exactly_when_some_health_answer_is_not_no_and_never_eligible(answers):
    result = evaluate(answers)
    flagged = [q for q in HEALTH_QUESTIONS if answers[q.key] != "no"]
    assert (result.outcome is Outcome.REVIEW) == bool(flagged)
    assert len(result.reasons) == len(flagged)
    words = " ".join([*result.reasons, *result.notes]).lower()
    assert "eligible" not in words
