"""The gate's preparation condition: signed preparation visits of the open course."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapflow.screening.gate import ConsentFacts, DecisionFacts, GateFacts, Outcome, Reason, check

READY = GateFacts(
    decision=DecisionFacts(Outcome.ELIGIBLE, valid_until=date(2026, 12, 1), routes=frozenset({"im"})),
    consent=ConsentFacts(signed_version=1, current_version=1, withdrawn=False),
    on=date(2026, 6, 15),
    route="im",
)


def test_without_an_open_course_preparation_is_not_counted():
    assert check(replace(READY, preparation_done=None, preparation_required=2)).ready


@pytest.mark.parametrize(
    ("done", "required", "message"),
    [
        (1, 2, "1 of 2 preparation visits done; 1 more is needed before the first dosing session."),
        (0, 2, "0 of 2 preparation visits done; 2 more are needed before the first dosing session."),
        (0, 1, "0 of 1 preparation visit done; 1 more is needed before the first dosing session."),
    ],
)
def test_too_few_preparation_visits_block_with_a_message(done, required, message):
    result = check(replace(READY, preparation_done=done, preparation_required=required))
    assert not result.ready
    assert [(b.reason, b.message) for b in result.blockers] == [(Reason.PREPARATION_INCOMPLETE, message)]


def test_preparation_comes_after_decision_and_consent_blockers():
    result = check(replace(READY, decision=None, consent=None, preparation_done=0, preparation_required=2))
    assert [b.reason for b in result.blockers] == [
        Reason.NO_DECISION,
        Reason.NO_CONSENT,
        Reason.PREPARATION_INCOMPLETE,
    ]


@given(st.one_of(st.none(), st.integers(0, 12)), st.integers(0, 10))
def test_preparation_blocks_exactly_when_fewer_than_required(done, required):
    result = check(replace(READY, preparation_done=done, preparation_required=required))
    assert result.ready == (done is None or done >= required)


def test_gate_facts_count_signed_preparation_notes_of_the_open_course(world):
    from kapflow.courses import services
    from kapflow.screening.selectors import gate_facts
    from tests.courses.course_helpers import make_course, make_note, signed_note

    assert gate_facts(world.patient).preparation_done is None
    assert gate_facts(world.patient).preparation_required == 2
    course = make_course(world)
    assert gate_facts(world.patient).preparation_done == 0
    signed_note(world, course)
    make_note(world, course)  # a draft does not count
    signed_note(world, course, kind="follow_up")  # nor does another kind
    assert gate_facts(world.patient).preparation_done == 1
    services.course_set_status(member=world.therapist, course=course, status="active")
    signed_note(world, course)
    assert gate_facts(world.patient).preparation_done == 2
    world.demo.preparation_visits_required = 3
    world.demo.save()
    world.patient.refresh_from_db()
    assert gate_facts(world.patient).preparation_required == 3
    services.course_set_status(member=world.therapist, course=course, status="completed")
    assert gate_facts(world.patient).preparation_done is None
