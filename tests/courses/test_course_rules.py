"""The pure rules of courses: note templates, content checks and the next step in plain words."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.courses import rules
from kapflow.courses.rules import ContentError, CourseFacts, next_step, validate_content


def test_the_rules_module_imports_nothing_from_django():
    tree = ast.parse(Path(rules.__file__).read_text())
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in modules if m.startswith(("django", "kapflow"))]


def test_the_templates_have_the_fields_of_the_issue():
    assert [f.name for f in rules.PREPARATION.fields] == [
        "intentions_and_goals",
        "explained",
        "safety_plan",
        "fasting_and_escort_given",
        "readiness",
    ]
    assert [o.key for o in rules.EXPLAINED] == [
        "effects_and_duration",
        "medical_role",
        "therapist_role",
        "consent_to_touch",
        "if_difficult",
        "no_driving",
    ]
    assert [f.name for f in rules.INTEGRATION.fields] == [
        "follows_session",
        "what_came_up",
        "insights_and_themes",
        "relation_to_intentions",
        "action_steps",
        "measures_reviewed",
    ]
    assert [f.name for f in rules.FOLLOW_UP.fields] == ["notes"]
    assert [f.name for f in rules.DOSING.fields] == [
        "intention_revisited",
        "course_of_session",
        "support_given",
        "themes_for_integration",
    ]
    assert set(rules.TEMPLATES) == {"preparation", "integration", "follow_up", "dosing"}


def test_valid_preparation_content_is_kept_with_checklist_in_template_order():
    content = {
        "intentions_and_goals": "To feel less stuck.",
        "explained": ["no_driving", "effects_and_duration", "no_driving"],
        "fasting_and_escort_given": True,
    }
    assert validate_content("preparation", content) == {
        "intentions_and_goals": "To feel less stuck.",
        "explained": ["effects_and_duration", "no_driving"],
        "fasting_and_escort_given": True,
    }


def test_empty_content_is_valid():
    assert validate_content("integration", {}) == {}


@pytest.mark.parametrize(
    ("template", "content", "words"),
    [
        ("preparation", {"mood": "x"}, "no field mood"),
        ("follow_up", {"what_came_up": "x"}, "no field what_came_up"),
        ("preparation", {"readiness": 3}, "must be text"),
        ("preparation", {"fasting_and_escort_given": "yes"}, "yes or no"),
        ("preparation", {"explained": "no_driving"}, "list of checklist items"),
        ("preparation", {"explained": ["flying"]}, "no item flying"),
        ("preparation", {"readiness": "x" * 10_001}, "10,001 characters"),
        ("medication", {}, "no note template 'medication'"),
    ],
)
def test_content_that_does_not_fit_the_template_is_refused(template, content, words):
    with pytest.raises(ContentError, match=words):
        validate_content(template, content)


def test_a_field_of_100000_characters_is_refused():
    with pytest.raises(ContentError, match="100,000 characters"):
        validate_content("integration", {"what_came_up": "a" * 100_000})


def test_a_field_of_exactly_10000_characters_is_kept():
    assert validate_content("follow_up", {"notes": "a" * 10_000}) == {"notes": "a" * 10_000}


@given(st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=50), max_size=5))
def test_content_is_kept_only_when_every_field_is_known(content):
    known = {f.name for f in rules.INTEGRATION.fields}
    if set(content) <= known:
        assert validate_content("integration", content) == content
    else:
        with pytest.raises(ContentError):
            validate_content("integration", content)


def facts(**kw):
    base = dict(status="active", preparation_done=2, preparation_required=2, planned_sessions=6)
    return CourseFacts(**{**base, **kw})


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (facts(), "2 of 2 preparation visits done, consent signed: ready for dosing session 1"),
        (
            facts(status="planned"),
            "2 of 2 preparation visits done, consent signed: ready for dosing session 1",
        ),
        (facts(preparation_done=1), "1 of 2 preparation visits done: 1 more before the first dosing session"),
        (
            facts(preparation_done=0, preparation_required=1),
            "0 of 1 preparation visit done: 1 more before the first dosing session",
        ),
        (
            facts(preparation_done=3),
            "3 of 2 preparation visits done, consent signed: ready for dosing session 1",
        ),
        (facts(preparation_required=0, preparation_done=0), "Consent signed: ready for dosing session 1"),
        (
            facts(blockers=("The patient has not signed informed consent.",)),
            "Not ready: The patient has not signed informed consent.",
        ),
        (
            facts(preparation_done=1, blockers=("A.", "B.")),
            "1 of 2 preparation visits done: 1 more before the first dosing session. Not ready: A. B.",
        ),
        (facts(status="paused"), "The course is paused; resume it before the next dosing session."),
        (facts(status="completed"), "The course is completed."),
        (facts(status="discontinued", blockers=("A.",)), "The course was discontinued."),
        (facts(sessions_done=2), "Consent signed: ready for dosing session 3"),
        (facts(sessions_done=6), "All 6 planned dosing sessions are done: complete the course."),
    ],
)
def test_next_step_in_plain_words(f, expected):
    assert next_step(f) == expected


@given(
    st.sampled_from(["planned", "active", "paused", "completed", "discontinued"]),
    st.integers(0, 10),
    st.integers(0, 10),
    st.lists(st.text(min_size=1, max_size=20), max_size=3),
)
def test_next_step_says_ready_only_when_nothing_blocks(status, done, required, blockers):
    text = next_step(
        facts(status=status, preparation_done=done, preparation_required=required, blockers=tuple(blockers))
    )
    assert text.strip()
    if "ready for dosing session" in text and not text.startswith("Not ready"):
        assert status in {"planned", "active"} and done >= required and not blockers
